import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLivedropError, type RedisClient } from "../../core/index.ts";
import { eraseUserSaleState, SaleEngine, userSaleHolds } from "../../sale-engine/index.ts";
import {
  type PrivateRedis,
  type PrivateRedisCluster,
  startPrivateRedis,
  startPrivateRedisCluster,
  uniquePrefix,
} from "../harness/redis.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";
import { dump } from "./redis-dump.ts";

const USER = "buyer-erase-9x";
const PSEUDONYM = "erased-0123456789abcdef01234567";
const OTHER = "bystander-erase";

async function invariantHolds(engine: SaleEngine, dropId: string): Promise<void> {
  const s = await engine.status(dropId);
  expect(s.available + s.held + s.sold).toBe(s.initial + s.restocked);
}

/** Hands every outbox entry on (what the order relay does), so an ended drop can settle. */
async function drainOutbox(engine: SaleEngine, dropId: string): Promise<void> {
  const outbox = engine.outbox("erase-test");
  for (;;) {
    const entries = await outbox.read(dropId, 100);
    if (entries.length === 0) return;
    await outbox.ack(
      dropId,
      entries.map((e) => e.id),
    );
  }
}

/** Ends a drop with nothing pending and sweeps it out of the active index. */
async function retire(engine: SaleEngine, dropId: string): Promise<void> {
  await engine.end(dropId);
  await drainOutbox(engine, dropId);
  expect((await engine.expireDue(dropId)).settled).toBe(true);
  expect(await engine.activeDrops()).not.toContain(dropId);
}

interface Scene {
  active: string;
  retired: string;
  untouched: string;
  /** The user's unpaid hold in the active drop, and its idempotency key. */
  liveHold: string;
  liveKey: string;
}

/**
 * Three drops: an active one where the user holds one unit and bought another, one ended and
 * retired where they bought one, one where they have nothing; a bystander buys in each.
 */
async function scene(engine: SaleEngine): Promise<Scene> {
  const active = dropDefinition({ initialStock: 10, perUserLimit: 2 });
  const retired = dropDefinition({ initialStock: 5 });
  const untouched = dropDefinition({ initialStock: 5 });
  for (const d of [active, retired, untouched]) await engine.createDrop(d);
  const buy = (dropId: string, userId: string, idempotencyKey = key()) =>
    engine.reserve({ dropId, userId, qty: 1, idempotencyKey });

  const liveKey = key();
  const live = await buy(active.dropId, USER, liveKey);
  await engine.confirm((await buy(active.dropId, USER)).reservationId);
  await buy(active.dropId, OTHER);
  await engine.confirm((await buy(retired.dropId, USER)).reservationId);
  await engine.confirm((await buy(retired.dropId, OTHER)).reservationId);
  await buy(untouched.dropId, OTHER);
  await retire(engine, retired.dropId);
  return {
    active: active.dropId,
    retired: retired.dropId,
    untouched: untouched.dropId,
    liveHold: live.reservationId,
    liveKey,
  };
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return isLivedropError(err) ? err.code : String(err);
  }
  return "no error";
}

describe("erasing a user from the sale engine's Redis state", () => {
  let redis: PrivateRedis;
  let client: RedisClient;

  beforeAll(async () => {
    redis = await startPrivateRedis({ appendfsync: "no" });
    client = redis.client();
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
  });

  it("moves every record to the pseudonym, keeps the counts, releases the unpaid hold and cleans retired logs; idempotent", async () => {
    const prefix = uniquePrefix("erase-sale");
    const engine = await SaleEngine.create({ redis: client, prefix });
    const s = await scene(engine);
    const before = await engine.status(s.active);

    const exported = await userSaleHolds(engine, USER);
    expect(exported.map((h) => [h.dropId, h.status]).sort()).toEqual(
      [
        [s.active, "confirmed"],
        [s.active, "held"],
        [s.retired, "confirmed"],
      ].sort(),
    );

    const done = await eraseUserSaleState(engine, USER, PSEUDONYM);
    expect(done).toMatchObject({ saleRecords: 3, saleHoldsReleased: 1 });
    // The retired drop's log held the user's placed and confirmed events.
    expect(done.saleEventEntries).toBeGreaterThanOrEqual(2);

    // Stock: the unpaid hold went back, the sold unit stays sold; the invariant holds everywhere.
    const after = await engine.status(s.active);
    expect(after).toMatchObject({
      held: before.held - 1,
      available: before.available + 1,
      sold: before.sold,
    });
    for (const d of [s.active, s.retired, s.untouched]) await invariantHolds(engine, d);
    expect(await engine.reservation(s.liveHold)).toMatchObject({ userId: PSEUDONYM, status: "released" });
    // The per-user limit counts the sold unit under the pseudonym now.
    expect(await engine.unitsOfUser(s.active, PSEUDONYM)).toBe(1);
    expect(await engine.unitsOfUser(s.retired, PSEUDONYM)).toBe(1);
    expect(await engine.unitsOfUser(s.active, USER)).toBe(0);
    expect(await userSaleHolds(engine, USER)).toEqual([]);
    expect((await userSaleHolds(engine, PSEUDONYM)).length).toBe(3);

    // Nothing names the user but the reported events of the drop still active.
    const naming = (await dump(client, prefix)).filter((l) => l.includes(USER));
    const activeStreams = [engine.keys.drop(s.active).log, engine.keys.drop(s.active).outbox];
    expect(naming.length).toBe(done.saleEventsPending);
    expect(naming.length).toBeGreaterThan(0);
    for (const l of naming) expect(activeStreams).toContain(l.split(" ")[0]);

    // Twice: nothing changes, the same events are still pending.
    expect(await eraseUserSaleState(engine, USER, PSEUDONYM)).toEqual({
      saleRecords: 0,
      saleHoldsReleased: 0,
      saleEventEntries: 0,
      saleEventsPending: done.saleEventsPending,
    });

    // Others still buy; the erased user's old key is a new buy now, and never two holds.
    await engine.reserve({ dropId: s.active, userId: OTHER, qty: 1, idempotencyKey: key() });
    await engine.reserve({ dropId: s.untouched, userId: OTHER, qty: 1, idempotencyKey: key() });
    const replay = await engine.reserve({
      dropId: s.active,
      userId: USER,
      qty: 1,
      idempotencyKey: s.liveKey,
    });
    expect(replay.replayed).toBe(false);
    expect(replay.reservationId).not.toBe(s.liveHold);
    expect((await userSaleHolds(engine, USER)).filter((h) => h.status === "held")).toEqual([
      { dropId: s.active, reservationId: replay.reservationId, qty: 1, status: "held" },
    ]);
    expect(
      await refusal(engine.reserve({ dropId: s.retired, userId: USER, qty: 1, idempotencyKey: key() })),
    ).toBe("ENDED");
    for (const d of [s.active, s.untouched]) await invariantHolds(engine, d);

    // Once the active drop retires too, an erase removes what was pending: nothing is left.
    expect(await eraseUserSaleState(engine, USER, PSEUDONYM)).toMatchObject({
      saleRecords: 1,
      saleHoldsReleased: 1,
    });
    for (const h of await engine.heldReservations(s.active)) await engine.release(h.reservationId);
    await retire(engine, s.active);
    const last = await eraseUserSaleState(engine, USER, PSEUDONYM);
    expect(last).toMatchObject({ saleRecords: 0, saleHoldsReleased: 0, saleEventsPending: 0 });
    expect(last.saleEventEntries).toBeGreaterThan(0);
    expect((await dump(client, prefix)).filter((l) => l.includes(USER))).toEqual([]);
    for (const d of [s.active, s.retired, s.untouched]) await invariantHolds(engine, d);
  }, 60_000);

  it("refuses a bad user id or pseudonym with a typed error", async () => {
    const engine = await SaleEngine.create({ redis: client, prefix: uniquePrefix("erase-bad") });
    expect(await refusal(eraseUserSaleState(engine, "not a user!", PSEUDONYM))).toBe("INVALID_INPUT");
    expect(await refusal(eraseUserSaleState(engine, USER, "bad|pseudonym"))).toBe("INVALID_INPUT");
    expect(await refusal(eraseUserSaleState(engine, USER, USER))).toBe("INVALID_INPUT");
    expect(await refusal(userSaleHolds(engine, "*"))).toBe("INVALID_INPUT");
  });
});

describe("erasing a user on a 3-primary Redis Cluster", () => {
  let cluster: PrivateRedisCluster;

  beforeAll(async () => {
    cluster = await startPrivateRedisCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it("each drop's script runs on its own slot; nothing names the user but the pending events", async () => {
    const client = cluster.client();
    const prefix = uniquePrefix("erase-cluster");
    const engine = await SaleEngine.create({ redis: client, prefix });
    const s = await scene(engine);
    const slots = await Promise.all(
      [s.active, s.retired, s.untouched].map((d) => client.cluster("KEYSLOT", engine.keys.drop(d).state)),
    );
    expect(new Set(slots).size).toBe(3);

    const done = await eraseUserSaleState(engine, USER, PSEUDONYM);
    expect(done).toMatchObject({ saleRecords: 3, saleHoldsReleased: 1 });
    expect(done.saleEventEntries).toBeGreaterThanOrEqual(2);
    for (const d of [s.active, s.retired, s.untouched]) await invariantHolds(engine, d);
    const naming = (await dump(client, prefix)).filter((l) => l.includes(USER));
    expect(naming.length).toBe(done.saleEventsPending);
    const activeStreams = [engine.keys.drop(s.active).log, engine.keys.drop(s.active).outbox];
    for (const l of naming) expect(activeStreams).toContain(l.split(" ")[0]);
    expect(await eraseUserSaleState(engine, USER, PSEUDONYM)).toMatchObject({
      saleRecords: 0,
      saleHoldsReleased: 0,
      saleEventEntries: 0,
    });
  }, 60_000);
});
