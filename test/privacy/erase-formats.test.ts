import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLivedropError, type RedisClient } from "../../core/index.ts";
import type { AuctionDefinition } from "../../protocol/index.ts";
import {
  Auctions,
  Coupons,
  eraseUserFormatState,
  eraseUserSaleState,
  maskUser,
  SaleEngine,
} from "../../sale-engine/index.ts";
import { registerScripts } from "../../sale-engine/scripts.ts";
import {
  type PrivateRedis,
  type PrivateRedisCluster,
  startPrivateRedis,
  startPrivateRedisCluster,
  uniquePrefix,
} from "../harness/redis.ts";
import { dropDefinition, key, until } from "../sale-engine/fixtures.ts";
import { dump } from "./redis-dump.ts";

const USER = "bidder-erase-7q";
const PSEUDONYM = "erased-00112233445566778899aabb";
const OTHER = "bidder-stays-1";
const THIRD = "bidder-stays-2";

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isLivedropError(err)) return err.code;
    throw err;
  }
  throw new Error("expected a refusal");
}

interface Scene {
  engine: SaleEngine;
  auctions: Auctions;
  coupons: Coupons;
  /** Won by the user (paid), OTHER and THIRD bid too. */
  won: string;
  /** Won by OTHER; the user is the first runner-up. */
  lost: string;
  /** Still open: the user led first, OTHER leads now. */
  open: string;
  roomId: string;
}

/** An auction bidding now, ending `endsInMs` from now (server clock). */
async function definition(engine: SaleEngine, roomId: string, endsInMs: number): Promise<AuctionDefinition> {
  const d = dropDefinition({ roomId });
  const durationMs = endsInMs + 10_000;
  return {
    dropId: d.dropId,
    roomId,
    product: { ...d.product, priceMinor: 1_000 },
    startsAt: (await engine.serverTime()) - 10_000,
    durationMs,
    increments: [{ fromMinor: 0, stepMinor: 100 }],
    antiSnipeMs: 0,
    suddenDeath: true,
    holdMs: 60_000,
  };
}

async function scene(client: RedisClient, prefix: string): Promise<Scene> {
  const engine = await SaleEngine.create({ redis: client, prefix, ackReplicas: 0 });
  const auctions = await Auctions.create({ engine, redis: client });
  const coupons = new Coupons({ redis: client, prefix });
  const roomId = `room-${key().slice(0, 8)}`;
  // Five seconds of bidding for seven bids: room to spare on a loaded machine before the end.
  const [won, lost, open] = await Promise.all([
    definition(engine, roomId, 5_000),
    definition(engine, roomId, 5_000),
    definition(engine, roomId, 600_000),
  ]);
  for (const d of [won, lost, open]) await auctions.open(d);
  const bid = (dropId: string, userId: string, maxMinor: number) =>
    auctions.bid({ dropId, userId, maxMinor, idempotencyKey: key() });
  await bid(won.dropId, OTHER, 1_500);
  await bid(won.dropId, USER, 3_000);
  await bid(won.dropId, THIRD, 2_000);
  await bid(lost.dropId, USER, 2_500);
  await bid(lost.dropId, OTHER, 4_000);
  await bid(open.dropId, USER, 1_200);
  await bid(open.dropId, OTHER, 5_000);

  const settled = (dropId: string) =>
    until(async () => {
      const r = await auctions.settle(dropId);
      return r.settled ? r : undefined;
    });
  const w = await settled(won.dropId);
  expect(w).toMatchObject({ winner: USER, priceMinor: 2_100, runnerUps: 2 });
  expect(await settled(lost.dropId)).toMatchObject({ winner: OTHER, priceMinor: 2_600, runnerUps: 1 });
  await engine.confirm(w.reservationId ?? "");

  // Two claims of the user (one redeemed on the won order), one of OTHER; a coupon they never claimed.
  await coupons.pin({
    roomId,
    code: "SAVE",
    discount: { kind: "percent", percent: 10 },
    quota: 5,
    perBuyer: 2,
  });
  await coupons.pin({ roomId, code: "NONE", discount: { kind: "percent", percent: 5 }, quota: 5 });
  const claim = (code: string, userId: string) =>
    coupons.claim({ roomId, code, userId, idempotencyKey: key(), live: true });
  const first = await claim("SAVE", USER);
  await claim("SAVE", USER);
  await claim("SAVE", OTHER);
  await claim("NONE", OTHER);
  await coupons.apply(first.claimId, USER, w.reservationId ?? "", 2_100, "USD");
  expect(await coupons.settle(first.couponId, w.reservationId ?? "", "paid")).toBe("R");
  return { engine, auctions, coupons, won: won.dropId, lost: lost.dropId, open: open.dropId, roomId };
}

/** A status without its read time. */
function timeless<T extends { serverTime: number }>({ serverTime: _, ...rest }: T): Omit<T, "serverTime"> {
  return rest;
}

/** What finance and the outcome read, before and after an erase. */
async function outcome(s: Scene) {
  const statuses = await Promise.all([s.won, s.lost, s.open].map((d) => s.auctions.status(d)));
  return {
    statuses: statuses.map(timeless),
    wonDrop: timeless(await s.engine.status(s.won)),
    coupons: [await s.coupons.status(s.roomId, "SAVE"), await s.coupons.status(s.roomId, "NONE")],
  };
}

/** The erase's checks, the same on one Redis and on a cluster. */
async function eraseAndCheck(client: RedisClient, prefix: string): Promise<void> {
  const s = await scene(client, prefix);
  const before = await outcome(s);
  const seedOf = async (d: string) => (await client.hget(s.engine.keys.drop(d).auction, "seed")) ?? "";
  const masks = await Promise.all([s.won, s.lost, s.open].map(async (d) => maskUser(await seedOf(d), USER)));

  // Pages of one: every paged path (HSCAN, SCAN, bid history copy) takes many calls.
  await eraseUserSaleState(s.engine, USER, PSEUDONYM, { scanCount: 1, streamPage: 1 });

  // Outside the drops' event logs and outboxes (reported as pending while the drop is active),
  // no key, field or stream entry names the user; no auction key keeps their mask.
  const lines = await dump(client, prefix);
  const naming = lines.filter((l) => l.includes(USER));
  for (const l of naming) expect(l.split(" ")[0]).toMatch(/:(log|outbox)$/);
  const auctionKeys = [s.won, s.lost, s.open].flatMap((d) => {
    const k = s.engine.keys.drop(d);
    return [k.auction, k.bidders, k.bids];
  });
  const inAuctions = lines.filter((l) => auctionKeys.includes(l.split(" ")[0] ?? ""));
  expect(inAuctions.length).toBeGreaterThan(10);
  for (const m of masks) expect(inAuctions.filter((l) => l.includes(m))).toEqual([]);
  expect(lines.filter((l) => l.includes("{coupons:") && l.includes(USER))).toEqual([]);

  // The outcome is unchanged: prices, winners (the pseudonym), reserve, counts and quotas.
  const after = await outcome(s);
  const pmask = maskUser(await seedOf(s.won), PSEUDONYM);
  expect(after.statuses[0]?.leader).toBe(pmask);
  expect(after).toEqual({
    ...before,
    statuses: [{ ...before.statuses[0], leader: pmask }, before.statuses[1], before.statuses[2]],
  });
  expect(await s.auctions.settle(s.won)).toMatchObject({
    replayed: true,
    winner: PSEUDONYM,
    priceMinor: 2_100,
    reserveMet: true,
  });
  expect(await s.auctions.settle(s.lost)).toMatchObject({ replayed: true, winner: OTHER, priceMinor: 2_600 });

  // The won unit is the pseudonym's sale; the runner-up ticket keeps its price, withdrawn.
  const state = s.engine.keys.drop(s.won).state;
  expect(await client.hget(state, `u:${PSEUDONYM}`)).toBe("1");
  const lostState = s.engine.keys.drop(s.lost).state;
  const ticket = await client.hget(lostState, `t:${await client.hget(lostState, `w:${PSEUDONYM}`)}`);
  expect(ticket).toMatch(new RegExp(`^${PSEUDONYM}\\|1\\|auction-${s.lost}\\|K\\|\\|2500$`));

  // The histories keep every bid, attributed to the pseudonym, in order.
  const raw = await s.auctions.history(s.won, 10, { raw: true });
  expect(raw.map((e) => [e.user, e.maxMinor, e.priceMinor])).toEqual([
    [THIRD, 2_000, 2_100],
    [PSEUDONYM, 3_000, 1_600],
    [OTHER, 1_500, 1_000],
  ]);
  expect(raw.map((e) => e.leader)).toEqual([PSEUDONYM, PSEUDONYM, OTHER]);
  const openHistory = await s.auctions.history(s.open, 10, { raw: true });
  expect(openHistory.map((e) => [e.user, e.leader, e.maxMinor])).toEqual([
    [OTHER, OTHER, 5_000],
    [PSEUDONYM, PSEUDONYM, 1_200],
  ]);
  // The open auction goes on: a new bid lands after the rewritten history.
  await s.auctions.bid({ dropId: s.open, userId: THIRD, maxMinor: 6_000, idempotencyKey: key() });
  expect((await s.auctions.history(s.open, 10, { raw: true })).map((e) => e.user)).toEqual([
    THIRD,
    OTHER,
    PSEUDONYM,
  ]);

  // The claims are the pseudonym's: per-buyer count, one redeemed, one still claimed.
  const coupon = s.engine.keys.coupon(s.roomId, "SAVE");
  expect(await client.hget(coupon, `u:${PSEUDONYM}`)).toBe("2");
  const records = await client.hmget(coupon, "k:1", "k:2", "k:3");
  expect(records[0]).toMatch(new RegExp(`^${PSEUDONYM}\\|R\\|`));
  expect(records[1]).toBe(`${PSEUDONYM}|C||`);
  expect(records[2]).toBe(`${OTHER}|C||`);

  // Twice: nothing changes at all.
  const settledLines = await dump(client, prefix);
  expect(await eraseUserFormatState(s.engine, USER, PSEUDONYM)).toEqual({
    auctionFields: 0,
    bidEntries: 0,
    couponFields: 0,
  });
  expect(await eraseUserSaleState(s.engine, USER, PSEUDONYM)).toMatchObject({
    saleRecords: 0,
    saleHoldsReleased: 0,
  });
  expect(await dump(client, prefix)).toEqual(settledLines);
  await s.auctions.close();
  await s.engine.close();
}

describe("erasing a user from auctions and coupons", () => {
  let redis: PrivateRedis;

  beforeAll(async () => {
    redis = await startPrivateRedis({ appendfsync: "no" });
  }, 60_000);
  afterAll(async () => {
    await redis?.stop();
  });

  it("renames bids, bidders, the winner and claims to the pseudonym; outcome and quotas unchanged", async () => {
    await eraseAndCheck(redis.client(), uniquePrefix("erase-formats"));
  }, 60_000);

  it("an unpaid winner's hold is released to the runner-up at their own maximum", async () => {
    const client = redis.client();
    const prefix = uniquePrefix("erase-formats-w");
    const engine = await SaleEngine.create({ redis: client, prefix, ackReplicas: 0 });
    const auctions = await Auctions.create({ engine, redis: client });
    const d = await definition(engine, "room-w", 5_000);
    await auctions.open(d);
    await auctions.bid({ dropId: d.dropId, userId: USER, maxMinor: 3_000, idempotencyKey: key() });
    await auctions.bid({ dropId: d.dropId, userId: OTHER, maxMinor: 2_000, idempotencyKey: key() });
    const won = await until(async () => {
      const r = await auctions.settle(d.dropId);
      return r.settled ? r : undefined;
    });
    expect(won).toMatchObject({ winner: USER, priceMinor: 2_100, runnerUps: 1 });

    expect(await eraseUserSaleState(engine, USER, PSEUDONYM)).toMatchObject({ saleHoldsReleased: 1 });
    expect(await engine.reservation(won.reservationId ?? "")).toMatchObject({
      userId: PSEUDONYM,
      status: "released",
    });
    const held = await engine.heldReservations(d.dropId);
    expect(held.map((h) => [h.userId, h.priceMinor])).toEqual([[OTHER, 2_000]]);
    // The auction's outcome stays as settled, attributed to the pseudonym.
    expect(await auctions.settle(d.dropId)).toMatchObject({ winner: PSEUDONYM, priceMinor: 2_100 });
    const s = await engine.status(d.dropId);
    expect(s.available + s.held + s.sold).toBe(s.initial + s.restocked);
    await auctions.close();
    await engine.close();
  }, 60_000);

  it("one history rewrite at a time; a crashed one leaves nothing once its lock expires", async () => {
    const client = redis.client();
    const prefix = uniquePrefix("erase-formats-l");
    const engine = await SaleEngine.create({ redis: client, prefix, ackReplicas: 0 });
    const auctions = await Auctions.create({ engine, redis: client });
    const d = await definition(engine, "room-l", 600_000);
    await auctions.open(d);
    for (const [userId, maxMinor] of [
      [USER, 1_000],
      [OTHER, 2_000],
      [USER, 3_000],
    ] as const)
      await auctions.bid({ dropId: d.dropId, userId, maxMinor, idempotencyKey: key() });
    const k = engine.keys.drop(d.dropId);
    const [scratch, lock] = [`${k.bids}:erase`, `${k.bids}:erase-lock`];
    const seed = (await client.hget(k.auction, "seed")) ?? "";
    // A rewrite that stopped after its first page (its process died), lock held for a second.
    const first = await registerScripts(client).ldEraseBids(
      k.bids,
      scratch,
      lock,
      USER,
      PSEUDONYM,
      maskUser(seed, USER),
      maskUser(seed, PSEUDONYM),
      "-",
      1,
      "crashed-run",
      1_000,
    );
    expect(Array.isArray(first) && first.slice(0, 2)).toEqual([1, 0]);
    expect(await client.pttl(scratch)).toBeGreaterThan(0);

    // Another erase meanwhile is refused, typed, and the history is as it was.
    expect(await refusal(eraseUserFormatState(engine, USER, PSEUDONYM))).toBe("UNAVAILABLE");
    const users = async () => (await auctions.history(d.dropId, 10, { raw: true })).map((e) => e.user);
    expect(await users()).toEqual([USER, OTHER, USER]);

    // Once the lock and the scratch copy expire, erasing again finishes the job.
    await until(async () => ((await client.exists(lock, scratch)) === 0 ? true : undefined));
    expect(await eraseUserFormatState(engine, USER, PSEUDONYM)).toMatchObject({ bidEntries: 2 });
    expect(await users()).toEqual([PSEUDONYM, OTHER, PSEUDONYM]);
    expect(await client.pttl(k.bids)).toBe(-1);
    expect(await client.exists(lock, scratch)).toBe(0);
    await auctions.close();
    await engine.close();
  }, 60_000);

  it("counts what it changed, and refuses bad input with a typed error", async () => {
    const client = redis.client();
    const prefix = uniquePrefix("erase-formats-n");
    const engine = await SaleEngine.create({ redis: client, prefix, ackReplicas: 0 });
    const auctions = await Auctions.create({ engine, redis: client });
    const coupons = new Coupons({ redis: client, prefix });
    const d = await definition(engine, "room-n", 600_000);
    await auctions.open(d);
    await auctions.bid({ dropId: d.dropId, userId: USER, maxMinor: 1_000, idempotencyKey: key() });
    await auctions.bid({ dropId: d.dropId, userId: OTHER, maxMinor: 2_000, idempotencyKey: key() });
    await coupons.pin({
      roomId: "room-n",
      code: "ONE",
      discount: { kind: "percent", percent: 10 },
      quota: 3,
    });
    await coupons.claim({ roomId: "room-n", code: "ONE", userId: USER, idempotencyKey: key(), live: true });

    // Auction: the recorded answer and the bidders entry (OTHER leads); one history entry (the
    // user's bid, as bidder and leader). Coupon: the claim's i: field and the u: count.
    expect(await eraseUserFormatState(engine, USER, PSEUDONYM)).toEqual({
      auctionFields: 2,
      bidEntries: 1,
      couponFields: 2,
    });
    expect(await eraseUserFormatState(engine, USER, PSEUDONYM)).toEqual({
      auctionFields: 0,
      bidEntries: 0,
      couponFields: 0,
    });

    expect(await refusal(eraseUserFormatState(engine, "not a user!", PSEUDONYM))).toBe("INVALID_INPUT");
    expect(await refusal(eraseUserFormatState(engine, USER, USER))).toBe("INVALID_INPUT");
    expect(await refusal(eraseUserFormatState(engine, USER, PSEUDONYM, { streamPage: 0 }))).toBe(
      "INVALID_INPUT",
    );
    // The scripts called directly with bad arguments write nothing.
    const cmd = registerScripts(client);
    const k = engine.keys.drop(d.dropId);
    const untouched = await dump(client, prefix);
    expect(await cmd.ldEraseAuction(k.auction, k.bidders, OTHER, OTHER, "ab", "cd")).toEqual([
      0,
      "INVALID_INPUT",
    ]);
    expect(await cmd.ldEraseAuction(k.auction, k.bidders, OTHER, PSEUDONYM, "zz", "cd")).toEqual([
      0,
      "INVALID_INPUT",
    ]);
    const bad = (cursor: string, page: number, ttl: number) =>
      cmd.ldEraseBids(
        k.bids,
        `${k.bids}:x`,
        `${k.bids}:y`,
        OTHER,
        PSEUDONYM,
        "ab",
        "cd",
        cursor,
        page,
        "r1",
        ttl,
      );
    for (const [cursor, page, ttl] of [
      ["nope", 10, 1_000],
      ["-", 0, 1_000],
      ["-", 10, 0],
    ] as const)
      expect(await bad(cursor, page, ttl)).toEqual([0, "INVALID_INPUT"]);
    expect(await cmd.ldEraseCoupon(engine.keys.coupon("room-n", "ONE"), OTHER, "bad|id")).toEqual([
      0,
      "INVALID_INPUT",
    ]);
    expect(await dump(client, prefix)).toEqual(untouched);
    await auctions.close();
    await engine.close();
  }, 60_000);
});

describe("erasing a user from auctions and coupons on a 3-primary Redis Cluster", () => {
  let cluster: PrivateRedisCluster;

  beforeAll(async () => {
    cluster = await startPrivateRedisCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it("every erase script keeps to one slot (the cluster refuses others), with the same outcome", async () => {
    await eraseAndCheck(cluster.client(), uniquePrefix("erase-formats-cluster"));
  }, 60_000);
});
