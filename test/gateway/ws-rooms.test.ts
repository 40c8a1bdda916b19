import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RoomLog } from "../../gateway/rooms/room-log.ts";
import { SOCKET_DEFAULTS } from "../../gateway/ws/socket-server.ts";
import { decodeServerFrame, type ServerFrame, type ServerFrameOf } from "../../protocol/index.ts";
import { type GatewayStack, startGatewayStack } from "../harness/gateway.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition } from "../sale-engine/fixtures.ts";

let g: GatewayStack;

beforeAll(async () => {
  g = await startGatewayStack();
}, 120_000);

afterAll(async () => {
  await g?.stop();
});

const answerFor = (room: string) => (f: ServerFrame) =>
  (f.t === "error" || f.t === "joined" || f.t === "resync" || f.t === "resumed") &&
  "room" in f &&
  f.room === room;

describe("rooms over WebSocket", () => {
  it("a moderator of room A is held to slow mode in room B; in room A it is spared", async () => {
    const [a, b] = ["mod-a", "mod-b"];
    const host = await TestSocket.connect(g.server.url, await g.token("slow-host", "host", [a, b]));
    const mod = await TestSocket.connect(g.server.url, await g.token("mod-of-a", "moderator", [a]));
    for (const room of [a, b]) {
      host.send({ t: "moderation", reqId: `slow-${room}`, room, action: { kind: "slowmode", seconds: 60 } });
      expect(await host.next((f) => f.t === "ack" && f.reqId === `slow-${room}`)).toMatchObject({ ok: true });
      mod.send({ t: "join", room });
      await mod.next(answerFor(room));
    }
    const post = async (room: string, id: string) => {
      mod.send({ t: "chat", room, text: id, clientMsgId: id });
      return mod.next(
        (f) =>
          (f.t === "error" && f.reqId === id) || (f.t === "chat" && f.messages.some((m) => m.text === id)),
      );
    };
    expect(await post(a, "a1")).toMatchObject({ t: "chat" });
    expect(await post(a, "a2")).toMatchObject({ t: "chat" });
    expect(await post(b, "b1")).toMatchObject({ t: "chat" });
    expect(await post(b, "b2")).toMatchObject({ t: "error", code: "SLOW_MODE", room: b });
    host.close();
    mod.close();
  });

  it("a room with 300 drops, most ended, joins with a snapshot the client's decoder accepts: active drops only, capped, flagged", async () => {
    const room = "crowded";
    const defs = Array.from({ length: 300 }, (_, i) =>
      dropDefinition({ roomId: room, startsAt: Date.now() + 3_600_000 + i * 1_000 }),
    );
    for (let i = 0; i < defs.length; i += 50)
      await Promise.all(defs.slice(i, i + 50).map((d) => g.stack.engine.createDrop(d)));
    // 290 ended, 10 still scheduled.
    const ended = defs.slice(0, 290);
    for (let i = 0; i < ended.length; i += 50)
      await Promise.all(ended.slice(i, i + 50).map((d) => g.stack.engine.end(d.dropId)));
    // The expiry sweep retires ended drops with nothing pending.
    await expect
      .poll(async () => (await g.stack.engine.activeDropsInRoom(room)).length, { timeout: 30_000 })
      .toBe(10);
    const s = await TestSocket.connect(g.server.url, await g.token("crowd-viewer"));
    const raw = new Promise<string>((resolve) =>
      s.ws.on("message", (data) => {
        const text = data.toString();
        if (text.includes('"t":"joined"')) resolve(text);
      }),
    );
    s.send({ t: "join", room });
    const decoded = decodeServerFrame(await raw);
    expect(decoded.ok).toBe(true);
    const joined = (decoded as { frame: ServerFrameOf<"joined"> }).frame;
    const active = defs.slice(290).map((d) => d.dropId);
    expect(joined.drops.map((d) => d.dropId)).toEqual(active); // soonest first
    expect(joined.drops.every((d) => d.state !== "ended")).toBe(true);
    expect(joined.moreDrops).toBe(true);
    expect(joined.drops.length).toBeLessThanOrEqual(SOCKET_DEFAULTS.snapshotMaxDrops);
    // The lane's appender follows the active drops only (a retired drop is let go at its next
    // scan): a room's history costs no subscriptions.
    const followed = async () => {
      const channels = (await g.redis.client().call("PUBSUB", "SHARDCHANNELS")) as string[];
      return defs
        .filter((d) => channels.includes(g.stack.engine.keys.drop(d.dropId).events))
        .map((d) => d.dropId)
        .sort();
    };
    await expect.poll(followed, { timeout: 10_000 }).toEqual([...active].sort());
    s.close();
  }, 120_000);

  it("a resume across a 1,500-event gap replays every event (the whole history kept is replayable)", async () => {
    const room = "long-gap";
    const s = await TestSocket.connect(g.server.url, await g.token("gap-viewer"));
    // The room's first event makes its epoch.
    const log = new RoomLog(g.options.redis, g.options.keyPrefix, 3_600);
    const chat = (i: number) => ({
      type: "chat.message" as const,
      message: {
        id: `m-${i}`,
        room,
        userId: "u1",
        name: "u1",
        role: "viewer" as const,
        text: `n${i}`,
        at: Date.now(),
      },
    });
    const first = await log.append(room, chat(0));
    const events = 1_500;
    for (let i = 1; i <= events; i += 100)
      await Promise.all(
        Array.from({ length: Math.min(100, events - i + 1) }, (_, j) => log.append(room, chat(i + j))),
      );
    s.send({ t: "resume", room, epoch: first.epoch, offset: first.offset ?? "0-0" });
    const done = await s.next<ServerFrameOf<"resumed">>(answerFor(room), 20_000);
    expect(done.t).toBe("resumed");
    const last = await g.redis
      .client()
      .xrevrange(`${g.stack.prefix}:room:{${room}}:log`, "+", "-", "COUNT", 1);
    expect(done.offset).toBe(last[0]?.[0]);
    // Every missed message came back, once each, in log order, before `resumed`.
    const replayed = s.frames.flatMap((f) =>
      f.t === "chat" && f.room === room ? f.messages.map((m) => m.text) : [],
    );
    expect(replayed).toEqual(Array.from({ length: events }, (_, i) => `n${i + 1}`));
    s.close();
  }, 60_000);
});
