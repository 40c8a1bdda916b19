import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClient } from "../../core/index.ts";
import { SaleEngine } from "../../sale-engine/index.ts";
import {
  type PrivateRedis,
  startPrivateRedis,
  startPrivateRedisCluster,
  uniquePrefix,
} from "../harness/redis.ts";
import { dropDefinition, key } from "./fixtures.ts";

interface Backend {
  readonly name: string;
  start(): Promise<{ client(): RedisClient; stop(): Promise<void> }>;
}

const backends: Backend[] = [
  { name: "a single Redis", start: () => startPrivateRedis({ appendfsync: "everysec" }) },
  { name: "a 3-master Redis Cluster", start: () => startPrivateRedisCluster() },
];

describe.each(backends)("active drop index on $name", (backend) => {
  let stop: () => Promise<void>;
  let client: RedisClient;
  let engine: SaleEngine;

  beforeAll(async () => {
    const server = await backend.start();
    stop = () => server.stop();
    client = server.client();
    engine = await SaleEngine.create({ redis: client, prefix: uniquePrefix("active") });
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    await stop?.();
  });

  it("scheduled, live, paused and sold-out drops are active; an ended drop leaves once nothing is pending, a drop with a hold stays until it settles and the relay emptied its outbox", async () => {
    const now = await engine.serverTime();
    const scheduled = dropDefinition({ startsAt: now + 3_600_000 });
    const live = dropDefinition();
    const paused = dropDefinition();
    const soldOut = dropDefinition({ initialStock: 1 });
    const endedEmpty = dropDefinition();
    const endedHeld = dropDefinition();
    for (const d of [scheduled, live, paused, soldOut, endedEmpty, endedHeld]) await engine.createDrop(d);
    await engine.pause(paused.dropId);
    await engine.reserve({ dropId: soldOut.dropId, userId: "u1", qty: 1, idempotencyKey: key() });
    const hold = await engine.reserve({
      dropId: endedHeld.dropId,
      userId: "u1",
      qty: 1,
      idempotencyKey: key(),
    });
    await engine.end(endedEmpty.dropId);
    await engine.end(endedHeld.dropId);
    const all = [scheduled, live, paused, soldOut, endedEmpty, endedHeld].map((d) => d.dropId);
    expect((await engine.activeDrops()).sort()).toEqual([...all].sort());

    await engine.expireAllDue();
    const stillActive = all.filter((id) => id !== endedEmpty.dropId);
    expect((await engine.activeDrops()).sort()).toEqual([...stillActive].sort());
    expect(await engine.listDrops()).toContain(endedEmpty.dropId);

    // Settled, but the placed and released events still wait for the relay: it stays.
    await engine.release(hold.reservationId);
    const outbox = engine.keys.drop(endedHeld.dropId).outbox;
    expect(await client.xlen(outbox)).toBe(2);
    expect((await engine.expireDue(endedHeld.dropId)).settled).toBe(false);
    expect(await engine.activeDrops()).toContain(endedHeld.dropId);
    // What the relay does after adding the jobs: acknowledge and delete.
    const ids = (await client.xrange(outbox, "-", "+")).map(([id]) => id);
    await client.xdel(outbox, ...ids);
    expect((await engine.expireDue(endedHeld.dropId)).settled).toBe(true);
    expect(await engine.activeDrops()).not.toContain(endedHeld.dropId);

    // Settled is final: a later sweep or a repair does not bring them back; the rest stay.
    await engine.expireAllDue();
    expect(await engine.repairActiveIndex()).toBe(0);
    expect((await engine.activeDrops()).sort()).toEqual(
      stillActive.filter((id) => id !== endedHeld.dropId).sort(),
    );
    expect((await engine.activeDropsInRoom(live.roomId)).sort()).toEqual(
      [scheduled, live, paused, soldOut].map((d) => d.dropId).sort(),
    );
    // The room's count still has the settled ones: its history, read in one call.
    const inRoom = await engine.dropsInRoom(live.roomId);
    expect(inRoom).toEqual(expect.arrayContaining(all));
    expect(await engine.countDropsInRoom(live.roomId)).toBe(inRoom.length);
  });

  it("a drop missing from the index (created before it existed) is put back by a repair; an entry without a drop goes after the grace period", async () => {
    const def = dropDefinition();
    await engine.createDrop(def);
    await client.zrem(engine.keys.activeDrops, def.dropId);
    expect(await engine.activeDrops()).not.toContain(def.dropId);
    // The periodic check sees the registry is larger than active + retired.
    expect(await engine.repairActiveIndex({ ifCounts: true })).toBe(1);
    expect(await engine.activeDrops()).toContain(def.dropId);
    expect(await engine.repairActiveIndex({ ifCounts: true })).toBe(0);
    await client.zrem(engine.keys.activeDrops, def.dropId);
    expect(await engine.repairActiveIndex()).toBe(1);
    expect(await engine.repairActiveIndex()).toBe(0);

    // As a createDrop that crashed before its script leaves it: old entries go, fresh ones stay.
    await client.zadd(engine.keys.activeDrops, Date.now() - 3_600_000, "ghost-old", Date.now(), "ghost-new");
    await engine.expireAllDue();
    const active = await engine.activeDrops();
    expect(active).not.toContain("ghost-old");
    expect(active).toContain("ghost-new");
    expect(active).toContain(def.dropId);
    await client.zrem(engine.keys.activeDrops, "ghost-new");
  });

  it("a refused createDrop leaves the index as it was", async () => {
    const before = await client.zrange(engine.keys.activeDrops, 0, -1, "WITHSCORES");
    const bad = dropDefinition({ endsAt: 1_000 }); // in the past: the script refuses it
    await expect(engine.createDrop(bad)).rejects.toMatchObject({ code: "INVALID_INPUT" });
    expect(await client.zrange(engine.keys.activeDrops, 0, -1, "WITHSCORES")).toEqual(before);
  });
});

describe("idle cost", () => {
  let redis: PrivateRedis;
  let engine: SaleEngine;
  beforeAll(async () => {
    redis = await startPrivateRedis({ appendfsync: "everysec" });
    engine = await SaleEngine.create({ redis: redis.client(), prefix: uniquePrefix("idle") });
  });
  afterAll(async () => {
    await engine?.close();
    await redis?.stop();
  });

  it("once 40 ended drops have left the index, a sweep and the periodic index check run no script", async () => {
    for (let i = 0; i < 40; i++) {
      const def = dropDefinition();
      await engine.createDrop(def);
      await engine.end(def.dropId);
    }
    await engine.expireAllDue();
    expect(await engine.activeDrops()).toEqual([]);
    await engine.repairActiveIndex(); // loads the repair script
    const stats = redis.client();
    const scriptCalls = async () => {
      const info = await stats.info("commandstats");
      const count = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
      return count("evalsha") + count("eval");
    };
    const before = await scriptCalls();
    await engine.expireAllDue();
    expect(await engine.repairActiveIndex({ ifCounts: true })).toBe(0);
    // The sweep and the periodic check (three counts) run no script; a full repair one.
    expect((await scriptCalls()) - before).toBe(0);
    await engine.repairActiveIndex();
    expect((await scriptCalls()) - before).toBe(1);
  });
});

describe("drop event log", () => {
  let redis: PrivateRedis;
  let engine: SaleEngine;
  beforeAll(async () => {
    redis = await startPrivateRedis({ appendfsync: "everysec" });
    engine = await SaleEngine.create({ redis: redis.client(), prefix: uniquePrefix("log") });
  });
  afterAll(async () => {
    await engine?.close();
    await redis?.stop();
  });

  it("keeps what the channel published, with stream ids to resume from, also while nobody was subscribed", async () => {
    const def = dropDefinition({ initialStock: 5 });
    const sub = redis.client();
    const published: string[] = [];
    await sub.ssubscribe(engine.keys.drop(def.dropId).events);
    sub.on("smessage", (_c: string, m: string) => published.push(m));

    await engine.createDrop(def);
    const a = await engine.reserve({ dropId: def.dropId, userId: "u1", qty: 1, idempotencyKey: key() });
    await Promise.all(
      ["u2", "u3"].map((u) =>
        engine.reserve({ dropId: def.dropId, userId: u, qty: 1, idempotencyKey: key() }),
      ),
    );
    await engine.confirm(a.reservationId);
    await engine.restock(def.dropId, 2);
    await engine.pause(def.dropId);
    await engine.end(def.dropId);

    const entries = await engine.readEvents(def.dropId);
    const types = entries.flatMap((e) => e.events.map((ev) => ev.type));
    expect(types).toEqual([
      "drop.created",
      "reservation.placed",
      "reservation.placed",
      "reservation.placed",
      "reservation.confirmed",
      "stock.restocked",
      "drop.state",
      "drop.state",
    ]);
    expect(entries.flatMap((e) => e.events.map((ev) => ev.v))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // Same messages as the channel, one log entry per message.
    await expect.poll(() => published.length).toBe(entries.length);
    const raw = await redis.client().xrange(engine.keys.drop(def.dropId).log, "-", "+");
    expect(raw.map(([, fields]) => fields[1])).toEqual(published);
    expect(await engine.lastEventId(def.dropId)).toBe(entries.at(-1)?.id);

    // Resuming from an id returns what came after it, page by page.
    const third = entries[2]!;
    const rest = await engine.readEvents(def.dropId, third.id, 2);
    expect(rest).toEqual(entries.slice(3, 5));
    expect(await engine.readEvents(def.dropId, entries.at(-1)!.id)).toEqual([]);
    expect(await engine.lastEventId("never-created")).toBeNull();
    expect(await engine.readEvents("never-created")).toEqual([]);
  });

  it("is trimmed to about the configured length; the first version read shows the gap", async () => {
    const short = await SaleEngine.create({
      redis: redis.client(),
      prefix: uniquePrefix("short"),
      eventLogLength: 10,
    });
    const def = dropDefinition({ initialStock: 1_000, perUserLimit: 1 });
    await short.createDrop(def);
    for (let i = 0; i < 300; i++) await short.restock(def.dropId, 1);
    const length = await redis.client().xlen(short.keys.drop(def.dropId).log);
    expect(length).toBeGreaterThanOrEqual(10);
    // MAXLEN ~ trims whole stream nodes (100 entries each by default).
    expect(length).toBeLessThan(10 + 100 + 1);
    const first = (await short.readEvents(def.dropId, "0", 1))[0]!;
    expect(first.events[0]!.v).toBeGreaterThan(1);
    await short.close();
  });

  it("bad arguments get INVALID_INPUT", async () => {
    const def = dropDefinition();
    await engine.createDrop(def);
    for (const [after, count] of [
      ["abc", 10],
      ["1-2-3", 10],
      ["", 10],
      ["0", 0],
      ["0", 1_001],
      ["0", 1.5],
    ] as const) {
      await expect(engine.readEvents(def.dropId, after, count)).rejects.toMatchObject({
        code: "INVALID_INPUT",
      });
    }
    await expect(engine.readEvents("bad id!", "0")).rejects.toMatchObject({ code: "INVALID_INPUT" });
    await expect(engine.activeDropsInRoom("bad room!")).rejects.toMatchObject({ code: "INVALID_INPUT" });
    await expect(engine.countDropsInRoom("bad room!")).rejects.toMatchObject({ code: "INVALID_INPUT" });
    await expect(SaleEngine.create({ redis: redis.client(), eventLogLength: 0 })).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
  });
});
