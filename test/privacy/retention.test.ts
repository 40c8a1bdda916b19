import { describe, expect, it } from "vitest";
import { GatewayServer } from "../../gateway/index.ts";
import { RoomLog } from "../../gateway/rooms/room-log.ts";
import { RoomRetention } from "../../gateway/rooms/room-retention.ts";
import { useGatewayStack } from "../harness/gateway.ts";

const g = useGatewayStack();
const DAY_MS = 86_400_000;

/** A chat message logged `ageMs` ago: the stream id is the append time. */
async function oldMessage(room: string, ageMs: number, text: string): Promise<void> {
  const at = Date.now() - ageMs;
  const entry = {
    type: "chat.message",
    message: { id: crypto.randomUUID(), room, userId: "old-user", name: "Old", role: "viewer", text, at },
  };
  await g().options.redis.xadd(logKey(room), `${at}-0`, "e", JSON.stringify(entry));
}

const logKey = (room: string) => `${g().options.keyPrefix}:room:{${room}}:log`;
const texts = async (room: string) =>
  (await g().options.redis.xrange(logKey(room), "-", "+")).map(
    ([, f]) => JSON.parse(f[1] ?? "{}").message?.text,
  );

describe("room log retention", () => {
  it("a pass trims entries older than the retention from every room log and keeps the rest", async () => {
    const prefix = g().options.keyPrefix;
    for (const room of ["ret-a", "ret-b"]) {
      await oldMessage(room, 40 * DAY_MS, `${room} forty days ago`);
      await oldMessage(room, 31 * DAY_MS, `${room} a month ago`);
      await oldMessage(room, 2 * DAY_MS, `${room} two days ago`);
    }
    const roomLog = new RoomLog(g().options.redis, prefix, 3600);
    await roomLog.append("ret-a", {
      type: "chat.message",
      message: {
        id: crypto.randomUUID(),
        room: "ret-a",
        userId: "u",
        name: "U",
        role: "viewer",
        text: "now",
        at: Date.now(),
      },
    });
    const retention = new RoomRetention({
      redis: g().options.redis,
      keyPrefix: prefix,
      retentionDays: 30,
      intervalS: 3600,
      log: g().options.log,
    });
    expect(await retention.trim()).toBe(4);
    expect(await texts("ret-a")).toEqual(["ret-a two days ago", "now"]);
    expect(await texts("ret-b")).toEqual(["ret-b two days ago"]);
    expect(await retention.trim()).toBe(0);
  });

  it("a running gateway trims on its interval", async () => {
    const room = "ret-gateway";
    await oldMessage(room, 3 * DAY_MS, "three days ago");
    await oldMessage(room, 60_000, "a minute ago");
    const server = await GatewayServer.create({
      ...g().options,
      limits: { roomLogRetentionDays: 1, roomLogTrimIntervalS: 1 },
    });
    try {
      await expect.poll(() => texts(room), { timeout: 15_000, interval: 200 }).toEqual(["a minute ago"]);
    } finally {
      await server.close();
    }
  });
});
