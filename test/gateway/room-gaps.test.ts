import { describe, expect, it } from "vitest";
import { roomKeys } from "../../gateway/keys.ts";
import { RoomLog } from "../../gateway/rooms/room-log.ts";
import type { RoomLogEntry } from "../../protocol/index.ts";
import { useGatewayStack } from "../harness/gateway.ts";
import { TestSocket } from "../harness/ws-client.ts";

const g = useGatewayStack();

const chat = (room: string, text: string): RoomLogEntry => ({
  type: "chat.message",
  message: { id: `m-${text}`, room, userId: "u1", name: "u1", role: "viewer", text, at: Date.now() },
});

const texts = (s: TestSocket, room: string) =>
  s.frames.flatMap((f) => (f.t === "chat" && f.room === room ? f.messages.map((m) => m.text) : []));

describe("room delivery across a lost room message", () => {
  it("a message whose predecessor never arrived brings it from the log first: nothing missed, in log order", async () => {
    const room = "gappy";
    const log = new RoomLog(g().options.redis, g().options.keyPrefix, 3_600);
    const viewer = await TestSocket.connect(g().server.url, await g().token("gap-watcher"));
    viewer.send({ t: "join", room });
    await viewer.next((f) => f.t === "joined");
    await log.append(room, chat(room, "first"));
    await expect.poll(() => texts(viewer, room), { timeout: 5_000 }).toEqual(["first"]);

    // An entry logged whose publish was lost on the way (as with a subscriber that reconnected):
    // written the way room-append.lua writes it, without the publish.
    const k = roomKeys(g().options.keyPrefix, room);
    const redis = g().redis.client();
    const lost = await redis.xadd(k.log, "*", "ev", JSON.stringify(chat(room, "lost")));
    await redis.hset(k.meta, "last", lost ?? "");

    await log.append(room, chat(room, "after"));
    await expect.poll(() => texts(viewer, room), { timeout: 5_000 }).toEqual(["first", "lost", "after"]);
    viewer.close();
  });

  it("a message published while the node's subscriber was reconnecting reaches the room's sockets once it is back", async () => {
    const room = "reconnecting";
    const log = new RoomLog(g().options.redis, g().options.keyPrefix, 3_600);
    const viewer = await TestSocket.connect(g().server.url, await g().token("reconnect-watcher"));
    viewer.send({ t: "join", room });
    await viewer.next((f) => f.t === "joined");
    await log.append(room, chat(room, "before"));
    await expect.poll(() => texts(viewer, room), { timeout: 5_000 }).toEqual(["before"]);

    // Redis drops the node's subscriber connection; the entry is published while nobody listens.
    const redis = g().redis.client();
    const channel = roomKeys(g().options.keyPrefix, room).channel;
    const listeners = async () =>
      Number(((await redis.call("PUBSUB", "SHARDNUMSUB", channel)) as (string | number)[])[1]);
    await redis.call("CLIENT", "KILL", "TYPE", "pubsub");
    await log.append(room, chat(room, "while-down"));
    expect(await listeners()).toBe(0); // it really was published to nobody
    // No later message comes to show the break: the reconnect alone brings it from the log.
    await expect.poll(() => texts(viewer, room), { timeout: 10_000 }).toEqual(["before", "while-down"]);
    expect(await listeners()).toBe(1);
    viewer.close();
  });
});
