import { describe, expect, it } from "vitest";
import { CloseCode, type ServerFrame } from "../../protocol/index.ts";
import { useGatewayStack } from "../harness/gateway.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition } from "../sale-engine/fixtures.ts";

const g = useGatewayStack();

type DropFrame = Extract<ServerFrame, { t: "drop" }>;
const dropFrames = (s: TestSocket) => s.frames.filter((f): f is DropFrame => f.t === "drop");

describe("a client that stops reading", () => {
  it("is closed with TOO_SLOW (4008) instead of silently missing state events, and resumes to the current state", async () => {
    const room = "slow";
    const def = dropDefinition({ roomId: room, initialStock: 10, startsAt: Date.now() + 3_600_000 });
    await g().stack.engine.createDrop(def);
    const slow = await TestSocket.connect(g().server.url, await g().token("slow-reader"));
    const brisk = await TestSocket.connect(g().server.url, await g().token("brisk-reader"));
    for (const s of [slow, brisk]) {
      s.send({ t: "join", room });
      await s.next((f) => f.t === "joined");
    }
    // The slow client stops reading: kernel buffers fill first, then the gateway's queue grows.
    const socket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();

    // Every restock is a drop frame (never paced): enough of them to pass the 1 MB queue limit.
    const RESTOCKS = 30_000;
    for (let i = 0; i < RESTOCKS; i += 500)
      await Promise.all(Array.from({ length: 500 }, () => g().stack.engine.restock(def.dropId, 1)));
    const finalV = (await g().stack.engine.status(def.dropId)).version;

    // A reader that keeps up gets every drop version, in order.
    await expect.poll(() => dropFrames(brisk).at(-1)?.drop.v, { timeout: 60_000 }).toBe(finalV);
    const versions = dropFrames(brisk).map((f) => f.drop.v);
    expect(versions.length).toBeGreaterThanOrEqual(RESTOCKS);
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);

    // The slow one reads again: what was queued arrives, then the close with its code.
    socket.resume();
    const closed = await slow.closed;
    expect(closed.code).toBe(CloseCode.TOO_SLOW);
    const got = dropFrames(slow);
    expect(got.length).toBeLessThan(versions.length);

    // It reconnects and resumes from its last offset: a replay, or a resync when the gap is
    // older than the room's history; either way it ends at the current state.
    const again = await TestSocket.connect(g().server.url, await g().token("slow-reader"));
    const joined = slow.frames.find((f) => f.t === "joined") as Extract<ServerFrame, { t: "joined" }>;
    const from = got.at(-1);
    again.send({ t: "resume", room, epoch: from?.e ?? joined.epoch, offset: from?.o ?? joined.offset });
    const answer = await again.next((f) => f.t === "resumed" || f.t === "resync", 20_000);
    if (answer.t === "resync") expect(answer.drops.find((d) => d.dropId === def.dropId)?.v).toBe(finalV);
    else expect(dropFrames(again).at(-1)?.drop.v).toBe(finalV);
    expect((await g().server.metrics.slowClosed.get()).values[0]?.value).toBe(1);
    for (const s of [brisk, again]) s.close();
  }, 120_000);
});
