import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuctionDefinition } from "../../protocol/index.ts";
import { Auctions, SaleEngine, startAuctionPass } from "../../sale-engine/index.ts";
import { registerScripts } from "../../sale-engine/scripts.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, eventsOf, invariant, key, until } from "./fixtures.ts";

let redis: PrivateRedis;
let engine: SaleEngine;
let auctions: Auctions;

beforeAll(async () => {
  redis = await startPrivateRedis({ appendfsync: "no" });
  const client = redis.client();
  engine = await SaleEngine.create({ redis: client, prefix: uniquePrefix("auction"), ackReplicas: 0 });
  auctions = await Auctions.create({ engine, redis: client });
}, 60_000);
afterAll(async () => {
  await auctions?.close();
  await engine?.close();
  await redis?.stop();
});

/** An auction whose bidding ends `endsInMs` from now (server clock). */
async function auction(
  endsInMs: number,
  overrides: Partial<AuctionDefinition> = {},
): Promise<AuctionDefinition> {
  const d = dropDefinition();
  // started a little before now, so bidding is open
  const durationMs = Math.max(10_000, endsInMs + 1_000);
  return {
    dropId: d.dropId,
    roomId: d.roomId,
    product: { ...d.product, priceMinor: 1_000 },
    startsAt: (await engine.serverTime()) - durationMs + endsInMs,
    durationMs,
    increments: [
      { fromMinor: 0, stepMinor: 100 },
      { fromMinor: 5_000, stepMinor: 500 },
    ],
    antiSnipeMs: 0,
    suddenDeath: true,
    holdMs: 60_000,
    ...overrides,
  };
}

const bid = (dropId: string, userId: string, maxMinor: number, idempotencyKey = key()) =>
  auctions.bid({ dropId, userId, maxMinor, idempotencyKey });

async function settled(dropId: string) {
  return until(async () => {
    const r = await auctions.settle(dropId);
    return r.settled ? r : undefined;
  });
}

describe("auctions", () => {
  it("opens a paused one-unit drop that no plain buy can take", async () => {
    const def = await auction(60_000);
    const { opened, status } = await auctions.open(def);
    expect(opened).toBe(true);
    expect(status).toMatchObject({ state: "live", priceMinor: 1_000, leader: null, minNextMinor: 1_000 });
    // an open that crashed before its pending-index entry is repaired by opening again
    await redis.client().zrem(engine.keys.auctionsPending, def.dropId);
    expect((await auctions.open(def)).opened).toBe(false);
    expect(Number(await redis.client().zscore(engine.keys.auctionsPending, def.dropId))).toBe(
      def.startsAt! + def.durationMs,
    );
    await expect(auctions.open({ ...def, durationMs: 20_000 })).rejects.toMatchObject({
      code: "DROP_CONFLICT",
    });
    // before the end, settle changes nothing and names the end
    expect(await auctions.settle(def.dropId)).toMatchObject({ settled: false, endsAt: status.endsAt });
    const drop = await engine.status(def.dropId);
    expect(drop).toMatchObject({ state: "paused", available: 1, initial: 1, perUserLimit: 1 });
    await expect(
      engine.reserve({ dropId: def.dropId, userId: "buyer", qty: 1, idempotencyKey: key() }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/PAUSED|NOT_STARTED/) });
    // A host who resumes the backing drop by hand still sells nothing outside the auction.
    await engine.launch(def.dropId);
    await expect(
      engine.reserve({ dropId: def.dropId, userId: "buyer", qty: 1, idempotencyKey: key() }),
    ).rejects.toMatchObject({ code: "PAUSED" });
    await expect(engine.restock(def.dropId, 5)).rejects.toMatchObject({ code: "INVALID_INPUT" });
    expect(await engine.status(def.dropId)).toMatchObject({ available: 1, held: 0, initial: 1 });
  });

  it("prices proxy bids by the second-highest maximum plus one step, capped at the leader's", async () => {
    const def = await auction(60_000);
    await auctions.open(def);
    await expect(bid(def.dropId, "ann", 999)).rejects.toMatchObject({
      code: "BID_TOO_LOW",
      details: { minMinor: 1_000 },
    });
    expect(await bid(def.dropId, "ann", 3_000)).toMatchObject({ leading: true, priceMinor: 1_000 });
    await expect(bid(def.dropId, "ann", 2_000)).rejects.toMatchObject({
      code: "ALREADY_LEADING",
      details: { minMinor: 3_001 },
    });
    await expect(bid(def.dropId, "bob", 1_099)).rejects.toMatchObject({
      code: "BID_TOO_LOW",
      details: { minMinor: 1_100 },
    });
    // bob stays below ann's maximum: the price is bob's plus a step
    expect(await bid(def.dropId, "bob", 2_000)).toMatchObject({ leading: false, priceMinor: 2_100 });
    // equal maxima: the earlier bid leads, at that maximum
    expect(await bid(def.dropId, "cy", 3_000)).toMatchObject({ leading: false, priceMinor: 3_000 });
    // above: cy leads at ann's maximum plus a step (of the 0 row: 3000 < 5000)
    expect(await bid(def.dropId, "cy", 6_000)).toMatchObject({ leading: true, priceMinor: 3_100 });
    expect(await auctions.status(def.dropId)).toMatchObject({
      bids: 4,
      priceMinor: 3_100,
      minNextMinor: 3_200,
    });
    const events = (await eventsOf(engine, def.dropId)).filter((e) => e.type === "auction.bid");
    expect(events.map((e) => e.type === "auction.bid" && e.priceMinor)).toEqual([1_000, 2_100, 3_000, 3_100]);
  });

  it("answers a retry with the same key from the record, and refuses the key for another amount", async () => {
    const def = await auction(60_000);
    await auctions.open(def);
    const k = key();
    const first = await bid(def.dropId, "ann", 2_000, k);
    await bid(def.dropId, "bob", 5_000);
    expect(await bid(def.dropId, "ann", 2_000, k)).toEqual({ ...first, replayed: true });
    await expect(bid(def.dropId, "ann", 2_500, k)).rejects.toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED" });
    expect((await auctions.status(def.dropId)).bids).toBe(2);
  });

  it("moves the end by the anti-snipe window, never in sudden death, and refuses bids after it", async () => {
    const snipe = await auction(3_000, { antiSnipeMs: 5_000, suddenDeath: false });
    await auctions.open(snipe);
    const before = await engine.serverTime();
    const a = await bid(snipe.dropId, "ann", 1_000);
    expect(a.extended).toBe(true);
    expect(a.endsAt).toBeGreaterThanOrEqual(before + 5_000);
    const sudden = await auction(3_000);
    await auctions.open(sudden);
    const b = await bid(sudden.dropId, "ann", 1_000);
    expect(b).toMatchObject({ extended: false, endsAt: sudden.startsAt! + sudden.durationMs });
    await until(async () => ((await engine.serverTime()) >= b.endsAt ? true : undefined));
    await expect(bid(sudden.dropId, "bob", 5_000)).rejects.toMatchObject({ code: "AUCTION_ENDED" });
  });

  it("settles to a hold at the winning price, then hands an unpaid unit to the runner-ups at their maximum", async () => {
    const def = await auction(3_000);
    await auctions.open(def);
    await bid(def.dropId, "ann", 4_000);
    await bid(def.dropId, "bob", 2_500);
    await bid(def.dropId, "cy", 3_000);
    const result = await settled(def.dropId);
    expect(result).toMatchObject({ reserveMet: true, winner: "ann", priceMinor: 3_100, runnerUps: 2 });
    expect(await auctions.settle(def.dropId)).toMatchObject({ ...result, replayed: true });
    const drop = await engine.status(def.dropId);
    expect(drop).toMatchObject({ available: 0, held: 1, sold: 0 });
    invariant(drop);
    // the order pipeline reads the winner's hold with its price
    const [entry] = await engine.outbox("test").read(def.dropId, 10);
    expect(entry).toMatchObject({
      ok: true,
      events: [{ type: "reservation.placed", user: "ann", priceMinor: 3_100, via: "auction" }],
    });
    await engine.release(result.reservationId ?? "");
    await engine.expireDue(def.dropId);
    const placed = () =>
      eventsOf(engine, def.dropId).then((es) => es.filter((e) => e.type === "reservation.placed"));
    expect((await placed()).at(-1)).toMatchObject({ user: "cy", priceMinor: 3_000, via: "handoff" });
    const cyHold = (await engine.heldReservations(def.dropId))[0];
    await engine.release(cyHold?.reservationId ?? "");
    expect((await placed()).at(-1)).toMatchObject({ user: "bob", priceMinor: 2_500 });
    const bobHold = (await engine.heldReservations(def.dropId))[0];
    await engine.release(bobHold?.reservationId ?? "");
    // nobody left: the unit does not go on general sale
    const after = await engine.status(def.dropId);
    expect(after).toMatchObject({ state: "ended", held: 0 });
    invariant(after);
    const ended = (await eventsOf(engine, def.dropId)).filter((e) => e.type === "auction.ended");
    expect(ended).toMatchObject([{ reserveMet: true, priceMinor: 3_100 }]);
    expect(JSON.stringify(ended)).not.toContain('"ann"');
  });

  it("ends without a hold when the reserve is not met, and raises the price to a reserve that is", async () => {
    const unmet = await auction(2_500, { reserveMinor: 5_000 });
    await auctions.open(unmet);
    await bid(unmet.dropId, "ann", 4_999);
    expect(await settled(unmet.dropId)).toMatchObject({
      reserveMet: false,
      winner: null,
      reservationId: null,
    });
    expect(await engine.status(unmet.dropId)).toMatchObject({ state: "ended", available: 1, held: 0 });
    expect(await auctions.status(unmet.dropId)).toMatchObject({ state: "settled", reserveMet: false });

    const met = await auction(2_500, { reserveMinor: 2_000 });
    await auctions.open(met);
    await bid(met.dropId, "ann", 2_500);
    await bid(met.dropId, "bob", 1_500);
    // bob's maximum is below the reserve: not a runner-up
    expect(await settled(met.dropId)).toMatchObject({ winner: "ann", priceMinor: 2_000, runnerUps: 0 });
  });

  it("never places a hold past the stock: a unit a host let go by hand settles without a winner", async () => {
    const def = await auction(2_500);
    await auctions.open(def);
    await bid(def.dropId, "ann", 2_000);
    await engine.end(def.dropId);
    await expect(bid(def.dropId, "bob", 5_000)).rejects.toMatchObject({ code: "AUCTION_ENDED" });
    expect(await settled(def.dropId)).toMatchObject({ reserveMet: false, winner: null });
    const drop = await engine.status(def.dropId);
    expect(drop).toMatchObject({ state: "ended", held: 0 });
    invariant(drop);
  });

  it("keeps the bid history newest first, masked for viewers and raw for the host", async () => {
    const def = await auction(60_000);
    await auctions.open(def);
    await bid(def.dropId, "ann", 2_000);
    await bid(def.dropId, "bob", 3_000);
    const pub = await auctions.history(def.dropId, 10);
    expect(pub.map((e) => e.priceMinor)).toEqual([2_100, 1_000]);
    expect(JSON.stringify(pub)).not.toMatch(/ann|bob|maxMinor/);
    expect(pub[0]?.leader).toBe(pub[0]?.user);
    const host = await auctions.history(def.dropId, 1, { raw: true });
    expect(host).toEqual([expect.objectContaining({ user: "bob", leader: "bob", maxMinor: 3_000 })]);
    await expect(auctions.history(def.dropId, 0)).rejects.toMatchObject({ code: "INVALID_INPUT" });
  });

  it("refuses bad input with typed errors", async () => {
    await expect(bid("no-such-auction", "ann", 1_000)).rejects.toMatchObject({ code: "AUCTION_NOT_FOUND" });
    await expect(auctions.settle("no-such-auction")).rejects.toMatchObject({ code: "AUCTION_NOT_FOUND" });
    await expect(auctions.status("no-such-auction")).rejects.toMatchObject({ code: "AUCTION_NOT_FOUND" });
    await expect(auctions.history("no-such-auction", 10)).rejects.toMatchObject({
      code: "AUCTION_NOT_FOUND",
    });
    await expect(
      auctions.bid({ dropId: "x", userId: "a b", maxMinor: 1, idempotencyKey: "k" }),
    ).rejects.toMatchObject({ code: "INVALID_INPUT" });
    const def = await auction(60_000);
    await expect(
      auctions.open({ ...def, increments: [{ fromMinor: 10, stepMinor: 5 }] }),
    ).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
    await expect(auctions.open({ ...def, antiSnipeMs: 5_000 })).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
  });

  it("answers a script called directly with bad arguments INVALID_INPUT, writing nothing", async () => {
    const def = await auction(60_000);
    await auctions.open(def);
    const k = engine.keys.drop(def.dropId);
    const cmd = registerScripts(redis.client());
    const bid = (user: string, max: string, mask: string, logLen = "100") =>
      cmd.ldAuctionBid(
        k.auction,
        k.bidders,
        k.bids,
        k.state,
        k.events,
        k.log,
        def.dropId,
        user,
        max,
        "k1",
        mask,
        logLen,
        "100",
      );
    const bad: [string, string, string, string?][] = [
      ["a|b", "1000", "ab"],
      ["ann", "1000.5", "ab"],
      ["ann", "-1", "ab"],
      ["ann", "1e13", "ab"],
      ["ann", "1000", "no-hex"],
      ["ann", "1000", "ab", "0"],
    ];
    for (const [user, max, mask, logLen] of bad) {
      expect(await bid(user, max, mask, logLen)).toEqual([0, "INVALID_INPUT"]);
    }
    expect(
      await cmd.ldAuctionSettle(k.auction, k.bidders, k.state, k.holds, k.outbox, k.events, k.log, '"x', 100),
    ).toEqual([0, "INVALID_INPUT"]);
    const open = await cmd.ldAuctionOpen(
      k.auction,
      k.state,
      k.events,
      k.log,
      def.dropId,
      "{}",
      1,
      0,
      1,
      -1,
      0,
      "0:1",
      "ab",
      100,
    );
    expect(open).toEqual([0, "INVALID_INPUT"]);
    expect(await auctions.status(def.dropId)).toMatchObject({ bids: 0, leader: null });
  });

  it("takes its limits from the deployment's settings and refuses bad ones", async () => {
    const small = await Auctions.create({ engine, config: { LIVEDROP_AUCTION_HISTORY_LENGTH: 2 } });
    const def = await auction(60_000);
    await small.open(def);
    await small.bid({ dropId: def.dropId, userId: "ann", maxMinor: 1_000, idempotencyKey: key() });
    expect(await small.history(def.dropId, 2)).toHaveLength(1);
    await expect(small.history(def.dropId, 3)).rejects.toMatchObject({ code: "INVALID_INPUT" });
    await expect(Auctions.create({ engine, settleBatch: 0 })).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
  });

  it("the auction pass settles auctions whose end has passed", async () => {
    const def = await auction(2_000);
    await auctions.open(def);
    await bid(def.dropId, "ann", 1_000);
    const pass = startAuctionPass(auctions, pino({ level: "silent" }), 20);
    try {
      const status = await until(async () => {
        const s = await auctions.status(def.dropId);
        return s.state === "settled" ? s : undefined;
      });
      expect(status).toMatchObject({ reserveMet: true, reservationId: expect.any(String) });
      expect(await engine.unitsOfUser(def.dropId, "ann")).toBe(1);
      expect(await redis.client().zscore(engine.keys.auctionsPending, def.dropId)).toBeNull();
    } finally {
      await pass.stop();
    }
  });
});
