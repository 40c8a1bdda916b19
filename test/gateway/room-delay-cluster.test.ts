import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childLogger, type RedisClient } from "../../core/index.ts";
import {
  DEFAULT_DELAY_SETTINGS,
  type DelayLane,
  RoomDelay,
  roomDelayKey,
  roomDelayOf,
} from "../../gateway/rooms/room-delay.ts";
import { type PrivateRedisCluster, startPrivateRedisCluster, uniquePrefix } from "../harness/redis.ts";

// Rooms whose keys hash to slots on different masters of the 3-master cluster.
const ROOMS = ["dl-a", "dl-b", "dl-c", "dl-d", "dl-e", "dl-f"];
// Rounds are driven by the test with its own clock: the timer's own rounds (a minute) never come.
const settings = { ...DEFAULT_DELAY_SETTINGS, syncMs: 60_000 };
const log = childLogger("room-delay-cluster");

let cluster: PrivateRedisCluster;
let redis: RedisClient;
const delays: RoomDelay[] = [];

beforeAll(async () => {
  cluster = await startPrivateRedisCluster();
  redis = cluster.client();
  redis.on("error", () => {});
}, 120_000);

afterAll(async () => {
  for (const d of delays) d.close();
  await cluster?.stop();
});

/** A gateway node's share: its own lane object (as each node's engine is), one key space. */
function node(prefix: string): RoomDelay {
  const lane = { connection: redis, keys: { prefix } } as unknown as DelayLane;
  const d = new RoomDelay(lane, settings, log);
  delays.push(d);
  return d;
}

describe("room delay on Redis Cluster", () => {
  it("nodes share every room's histogram; a room emptied, and a node gone silent, drop out", async () => {
    const prefix = uniquePrefix("delay");
    const [one, two] = [node(prefix), node(prefix)];
    const t0 = Date.now();
    for (const [i, room] of ROOMS.entries()) {
      one.report(`one-${i}`, room, 3_000 + i, "hls");
      two.report(`two-${i}`, room, 300, "webrtc");
    }
    await Promise.all([one.sync(t0), two.sync(t0)]);
    for (const room of ROOMS) {
      const h = await one.histogram(room, t0);
      expect([h.count("hls"), h.count("webrtc")], room).toEqual([1, 1]);
      expect(await redis.pttl(roomDelayKey(prefix, room)), room).toBeGreaterThan(0);
    }
    // Node two's viewer of the first room leaves: its field goes at its next round.
    two.leave("two-0", ROOMS[0] as string);
    await two.sync(t0 + settings.syncMs);
    expect(await redis.hlen(roomDelayKey(prefix, ROOMS[0] as string))).toBe(1);
    expect((await one.histogram(ROOMS[0] as string, t0 + settings.syncMs)).count()).toBe(1);
    // Node two stops writing; node one keeps refreshing. After 10 silent rounds two no longer counts.
    const later = t0 + 11 * settings.syncMs;
    await one.sync(later);
    const h = await one.histogram(ROOMS[1] as string, later);
    expect([h.count("hls"), h.count("webrtc")]).toEqual([1, 0]);
    // The lane's reader (what the route and "auto" use) merges the same way.
    const reader = roomDelayOf({ connection: redis, keys: { prefix } } as unknown as DelayLane);
    // (Its settings are the defaults, a round a second: both shares are fresh just after t0.)
    expect((await reader.histogram(ROOMS[1] as string, t0 + 500)).count()).toBe(2);
  }, 60_000);

  it("a node's malformed share is skipped, not a failure", async () => {
    const prefix = uniquePrefix("delay-bad");
    const one = node(prefix);
    one.report("c", "dl-a", 700, "webrtc");
    const key = roomDelayKey(prefix, "dl-a");
    await redis.hset(key, "bogus-node", "{not json");
    await redis.hset(key, "old-node", JSON.stringify({ at: Date.now(), h: { bucketMs: 0 } }));
    const h = await one.histogram("dl-a");
    expect([h.count(), h.percentile(1)]).toEqual([1, 700]);
  });
});
