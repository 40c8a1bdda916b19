import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLivedropError } from "../../core/index.ts";
import type { AuctionDefinition, BidAnswer, IncrementRow } from "../../protocol/index.ts";
import { Auctions, SaleEngine, type SaleEvent } from "../../sale-engine/index.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, eventsOf, invariant, until } from "./fixtures.ts";

/**
 * Property test of auctions on a real Redis against a plain model: random bid sequences from
 * several users (amounts around the next acceptable bid, so many are refused), retries with the
 * same idempotency key (same amount: the recorded answer; another amount: refused), invalid input
 * and clock steps (real time: each auction ends about 1.5 s after it opens, sudden death or with
 * a 1 s anti-snipe window). The model computes the leader and price from scratch from every
 * bidder's maximum. After every step: the leader is the highest maximum (earlier bid on ties),
 * the price is the eBay price, no bid below the increment was taken, and the end moved only as
 * the anti-snipe rule says (bounded by the server clock read before and after the call). After
 * settle: the winner's hold at the winning price, and each release hands the unit to the next
 * runner-up at their own maximum; available + held + sold = initial + restocked throughout.
 */
const USERS = ["ann", "bob", "cy", "dee"];
const START = 1_000;
const INCREMENTS: IncrementRow[] = [
  { fromMinor: 0, stepMinor: 100 },
  { fromMinor: 2_000, stepMinor: 250 },
  { fromMinor: 4_000, stepMinor: 500 },
];
const ENDS_IN_MS = 1_500;
const SNIPE_MS = 1_000;

type Op =
  | { kind: "bid"; user: number; rel: number; keyIndex: number }
  | { kind: "retry"; index: number }
  | { kind: "reuse"; index: number }
  | { kind: "tie"; user: number; keyIndex: number }
  | { kind: "invalid"; user: number }
  | { kind: "wait"; ms: number }
  | { kind: "late"; offsetMs: number };

interface Bidder {
  max: number;
  seq: number;
}
interface Model {
  dropId: string;
  snipe: number;
  reserve: number | undefined;
  ends: number;
  ended: boolean;
  bids: number;
  bidders: Map<string, Bidder>;
  /** Accepted bids by user|key: the amount and the answer a retry must get. */
  recorded: Map<string, { user: string; key: string; amount: number; answer: BidAnswer }>;
}

let redis: PrivateRedis;
let engine: SaleEngine;
let auctions: Auctions;
/** What the runs exercised, so a passing run is known not to be vacuous. */
const seen = {
  accepted: 0,
  tooLow: 0,
  leading: 0,
  replayed: 0,
  reused: 0,
  extended: 0,
  ended: 0,
  handedOff: 0,
};

beforeAll(async () => {
  redis = await startPrivateRedis({ appendfsync: "no" });
  const client = redis.client();
  engine = await SaleEngine.create({ redis: client, prefix: uniquePrefix("auctionmodel"), ackReplicas: 0 });
  auctions = await Auctions.create({ engine, redis: client });
}, 60_000);
afterAll(async () => {
  await auctions?.close();
  await engine?.close();
  await redis?.stop();
});

function stepOf(price: number): number {
  let s = INCREMENTS[0]?.stepMinor ?? 1;
  for (const r of INCREMENTS) if (r.fromMinor <= price) s = r.stepMinor;
  return s;
}

/** Leader, second-highest maximum and price, from every bidder's maximum alone. */
function standing(m: Model): { leader?: string; lmax: number; second?: number; price: number } {
  const ranked = [...m.bidders.entries()].sort(([, a], [, b]) => b.max - a.max || a.seq - b.seq);
  const [first, next] = ranked;
  if (!first) return { lmax: 0, price: START };
  const lmax = first[1].max;
  if (!next) return { leader: first[0], lmax, price: START };
  const second = next[1].max;
  return { leader: first[0], lmax, second, price: Math.min(lmax, second + stepOf(second)) };
}

function minFor(m: Model, user: string): number {
  const s = standing(m);
  if (!s.leader) return START;
  if (s.leader === user) return s.lmax + 1;
  return s.price + stepOf(s.price);
}

async function codeOf<T>(p: Promise<T>): Promise<{ ok: T } | { code: string; min?: number }> {
  try {
    return { ok: await p };
  } catch (err) {
    if (!isLivedropError(err)) throw err;
    const min = err.details?.minMinor;
    return { code: err.code, ...(typeof min === "number" ? { min } : {}) };
  }
}

async function bidStep(m: Model, user: string, key: string, amount: number): Promise<void> {
  const prior = m.recorded.get(`${user}|${key}`);
  const expectedMin = minFor(m, user);
  const before = await engine.serverTime();
  const r = await codeOf(
    auctions.bid({ dropId: m.dropId, userId: user, maxMinor: amount, idempotencyKey: key }),
  );
  const after = await engine.serverTime();
  if (prior) {
    // a recorded bid answers whatever happened since, even after the end
    if (prior.amount === amount) {
      expect(r).toEqual({ ok: { ...prior.answer, replayed: true } });
      seen.replayed += 1;
    } else {
      expect(r).toEqual({ code: "IDEMPOTENCY_KEY_REUSED" });
      seen.reused += 1;
    }
    return;
  }
  if ("code" in r && r.code === "AUCTION_ENDED") {
    expect(after).toBeGreaterThanOrEqual(m.ends);
    m.ended = true;
    seen.ended += 1;
    return;
  }
  // Once the model knows the end passed, every fresh bid is refused as ended.
  expect(m.ended || before >= m.ends).toBe(false);
  const s = standing(m);
  if (amount < expectedMin) {
    const code = s.leader === user ? "ALREADY_LEADING" : "BID_TOO_LOW";
    expect(r).toEqual({ code, min: expectedMin });
    if (code === "BID_TOO_LOW") seen.tooLow += 1;
    else seen.leading += 1;
    return;
  }
  if (!("ok" in r)) throw new Error(`bid of ${amount} (min ${expectedMin}) refused: ${r.code}`);
  const answer = r.ok;
  m.bids += 1;
  m.bidders.set(user, { max: amount, seq: m.bids });
  const now = standing(m);
  seen.accepted += 1;
  expect(answer).toMatchObject({
    leading: now.leader === user,
    priceMinor: now.price,
    maxMinor: amount,
    bids: m.bids,
    minNextMinor: now.price + stepOf(now.price),
    replayed: false,
  });
  // the end: moved to (bid time + window) when that is later, by a bid in [before, after]
  if (answer.extended) {
    expect(m.snipe).toBeGreaterThan(0);
    expect(answer.endsAt).toBeGreaterThan(m.ends);
    expect(answer.endsAt - m.snipe).toBeGreaterThanOrEqual(before);
    expect(answer.endsAt - m.snipe).toBeLessThanOrEqual(after);
    seen.extended += 1;
  } else {
    expect(answer.endsAt).toBe(m.ends);
    if (m.snipe > 0) expect(before + m.snipe).toBeLessThanOrEqual(m.ends);
  }
  m.ends = answer.endsAt;
  m.recorded.set(`${user}|${key}`, { user, key, amount, answer });
}

async function step(m: Model, op: Op): Promise<void> {
  switch (op.kind) {
    case "bid": {
      const user = USERS[op.user % USERS.length] as string;
      await bidStep(m, user, `${user}-${op.keyIndex}`, Math.max(0, minFor(m, user) + op.rel));
      break;
    }
    case "tie": {
      // exactly the leader's maximum: the earlier bid keeps the lead
      const user = USERS[op.user % USERS.length] as string;
      const s = standing(m);
      if (!s.leader || s.leader === user) return;
      await bidStep(m, user, `${user}-${op.keyIndex}`, s.lmax);
      break;
    }
    case "retry":
    case "reuse": {
      const all = [...m.recorded.values()];
      const rec = all[op.index % Math.max(1, all.length)];
      if (!rec) return;
      await bidStep(m, rec.user, rec.key, op.kind === "retry" ? rec.amount : rec.amount + 1);
      break;
    }
    case "invalid": {
      const user = USERS[op.user % USERS.length] as string;
      const r = await codeOf(
        auctions.bid({ dropId: m.dropId, userId: user, maxMinor: 10.5, idempotencyKey: `${user}-bad` }),
      );
      expect(r).toMatchObject({ code: "INVALID_INPUT" });
      break;
    }
    case "wait":
      await new Promise((r) => setTimeout(r, op.ms));
      break;
    case "late":
      // a clock step to shortly before the end (inside the anti-snipe window) or past it
      await until(async () => ((await engine.serverTime()) >= m.ends + op.offsetMs ? true : undefined));
      break;
  }
  // After every step the server's standing is the model's.
  const status = await auctions.status(m.dropId);
  const s = standing(m);
  expect(status).toMatchObject({ bids: m.bids, priceMinor: s.price, endsAt: m.ends });
  const [last] = await auctions.history(m.dropId, 1, { raw: true });
  if (s.leader) expect(last?.leader).toBe(s.leader);
  else expect(last).toBeUndefined();
  const drop = await engine.status(m.dropId);
  expect(drop).toMatchObject({ state: "paused", available: 1, held: 0, sold: 0 });
}

/** After settle: the winner's hold, then each release hands the unit on in the model's order. */
async function settleAndHandOff(m: Model): Promise<void> {
  const result = await until(async () => {
    const r = await auctions.settle(m.dropId);
    return r.settled ? r : undefined;
  });
  const s = standing(m);
  const reserve = m.reserve ?? 0;
  const met = s.leader !== undefined && s.lmax >= reserve;
  const runnerUps = [...m.bidders.entries()]
    .filter(([u, b]) => u !== s.leader && b.max >= reserve)
    .sort(([, a], [, b]) => b.max - a.max || a.seq - b.seq);
  if (!met) {
    expect(result).toMatchObject({ reserveMet: false, winner: null, reservationId: null });
    const drop = await engine.status(m.dropId);
    expect(drop).toMatchObject({ state: "ended", held: 0, sold: 0 });
    invariant(drop);
    return;
  }
  expect(result).toMatchObject({
    reserveMet: true,
    winner: s.leader,
    priceMinor: Math.max(s.price, reserve),
    runnerUps: runnerUps.length,
  });
  const placed = async (): Promise<Extract<SaleEvent, { type: "reservation.placed" }>[]> =>
    (await eventsOf(engine, m.dropId)).flatMap((e) => (e.type === "reservation.placed" ? [e] : []));
  expect((await placed()).at(-1)).toMatchObject({
    user: s.leader,
    priceMinor: result.priceMinor,
    via: "auction",
  });
  let rid = result.reservationId ?? "";
  for (const [user, b] of runnerUps) {
    invariant(await engine.status(m.dropId));
    await engine.release(rid);
    const next = (await placed()).at(-1);
    expect(next).toMatchObject({ user, priceMinor: b.max, via: "handoff" });
    seen.handedOff += 1;
    rid = next?.reservation ?? "";
  }
  await engine.release(rid);
  const drop = await engine.status(m.dropId);
  expect(drop).toMatchObject({ state: "ended", held: 0, sold: 0, available: 1 });
  invariant(drop);
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant("bid" as const),
      user: fc.nat(USERS.length - 1),
      rel: fc.oneof(fc.integer({ min: -300, max: -1 }), fc.constant(0), fc.integer({ min: 1, max: 1_500 })),
      keyIndex: fc.nat(2),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("tie" as const),
      user: fc.nat(USERS.length - 1),
      keyIndex: fc.nat(2),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("late" as const),
      offsetMs: fc.integer({ min: -300, max: 300 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("retry" as const), index: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("reuse" as const), index: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("invalid" as const), user: fc.nat(USERS.length - 1) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("wait" as const), ms: fc.integer({ min: 20, max: 300 }) }),
  },
);

describe("auctions against a model", () => {
  it("leader, price, increments, end time, settle and hand-offs follow the rules", async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.option(fc.integer({ min: START, max: 4_000 }), { nil: undefined }),
        fc.array(opArb, { minLength: 5, maxLength: 25 }),
        async (suddenDeath, reserve, ops) => {
          runs += 1;
          const d = dropDefinition();
          const durationMs = 10_000;
          const def: AuctionDefinition = {
            dropId: d.dropId,
            roomId: d.roomId,
            product: { ...d.product, priceMinor: START },
            startsAt: (await engine.serverTime()) - durationMs + ENDS_IN_MS,
            durationMs,
            increments: INCREMENTS,
            ...(reserve === undefined ? {} : { reserveMinor: reserve }),
            antiSnipeMs: suddenDeath ? 0 : SNIPE_MS,
            suddenDeath,
            holdMs: 60_000,
          };
          await auctions.open(def);
          const m: Model = {
            dropId: def.dropId,
            snipe: def.antiSnipeMs,
            reserve,
            ends: (def.startsAt ?? 0) + durationMs,
            ended: false,
            bids: 0,
            bidders: new Map(),
            recorded: new Map(),
          };
          for (const op of ops) await step(m, op);
          await settleAndHandOff(m);
        },
      ),
      {
        numRuns: 15,
        endOnFailure: true,
        // One case always reaches what the counts below ask for: it bids twice inside the anti-snipe
        // window with room to spare (900 ms before the end, a stalled machine included), retries,
        // bids too low and bids after the end. The random cases may miss the window on a busy
        // machine whose steps eat the auction's 1.5 s before its last second.
        examples: [
          [
            false,
            undefined,
            [
              { kind: "late", offsetMs: -900 },
              { kind: "bid", user: 0, rel: 0, keyIndex: 0 },
              { kind: "late", offsetMs: -900 },
              { kind: "bid", user: 1, rel: 0, keyIndex: 0 },
              { kind: "retry", index: 0 },
              { kind: "bid", user: 2, rel: -50, keyIndex: 0 },
              { kind: "late", offsetMs: 300 },
              { kind: "bid", user: 2, rel: 0, keyIndex: 1 },
            ],
          ],
        ],
      },
    );
    expect(runs).toBe(15);
    expect(seen.accepted).toBeGreaterThan(0);
    expect(seen.tooLow).toBeGreaterThan(0);
    expect(seen.replayed).toBeGreaterThan(0);
    expect(seen.handedOff).toBeGreaterThan(0);
    expect(seen.extended).toBeGreaterThan(0);
    expect(seen.ended).toBeGreaterThan(0);
  }, 180_000);
});
