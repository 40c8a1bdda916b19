import { describe, expect, it } from "vitest";
import { roomViewers } from "../../gateway/rooms/viewer-counts.ts";
import type { ServerFrame } from "../../protocol/index.ts";
import { useGatewayStack } from "../harness/gateway.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

const g = useGatewayStack();

type Offsetted = Extract<ServerFrame, { o: string }>;

async function logged(room: string): Promise<{ id: string; type: string; v: number }[]> {
  const entries = await g().redis.client().xrange(`${g().stack.prefix}:room:{${room}}:log`, "-", "+");
  return entries.map(([id, fields]) => {
    const ev = JSON.parse(fields[1] ?? "{}") as { type: string; v: number };
    return { id, type: ev.type, v: ev.v };
  });
}

describe("drop events of a room nobody follows", () => {
  it("are logged all the same, so a viewer who comes back resumes them instead of a snapshot", async () => {
    const room = "unfollowed";
    const def = dropDefinition({ roomId: room, initialStock: 20, perUserLimit: 5 });
    await g().stack.engine.createDrop(def);
    const viewer = await TestSocket.connect(g().server.url, await g().token("returner"));
    viewer.send({ t: "join", room });
    await viewer.next((f) => f.t === "joined");
    await g().stack.engine.reserve({ dropId: def.dropId, userId: "u1", qty: 1, idempotencyKey: key() });
    const seen = await viewer.next<Offsetted>((f) => "o" in f && f.t === "stock");
    viewer.close();
    await viewer.closed;
    // The room's last viewer anywhere has gone: wait until no node reports one.
    await expect
      .poll(() => roomViewers(g().redis.client(), g().stack.prefix, room), { timeout: 15_000 })
      .toBe(0);

    // Changes while nobody follows the room.
    await g().stack.engine.reserve({ dropId: def.dropId, userId: "u2", qty: 2, idempotencyKey: key() });
    await g().stack.engine.reserve({ dropId: def.dropId, userId: "u3", qty: 1, idempotencyKey: key() });
    await g().stack.engine.pause(def.dropId);
    const { version } = await g().stack.engine.status(def.dropId);
    await expect.poll(async () => (await logged(room)).at(-1)?.v, { timeout: 15_000 }).toBe(version);
    const after = (await logged(room)).filter((e) => e.id > seen.o);
    expect(after.map((e) => e.type)).toEqual(["reservation.placed", "reservation.placed", "drop.state"]);
    // Every version in order, none twice.
    const versions = (await logged(room)).filter((e) => typeof e.v === "number").map((e) => e.v);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);

    const back = await TestSocket.connect(g().server.url, await g().token("returner"));
    back.send({ t: "resume", room, epoch: seen.e, offset: seen.o });
    const resumed = await back.next((f) => f.t === "resumed" || f.t === "resync");
    expect(resumed.t).toBe("resumed");
    const replayed = back.frames.filter((f): f is Offsetted => "o" in f && f.o > seen.o);
    expect(replayed.map((f) => f.o)).toEqual(after.map((e) => e.id));
    expect(replayed.at(-1)).toMatchObject({ t: "drop", drop: { state: "paused", held: 4 } });
    back.close();
  });
});
