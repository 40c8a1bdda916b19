import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allocate,
  drawInputOf,
  maskUser,
  SaleEngine,
  type StockCounts,
  verifyDraw,
} from "../../sale-engine/index.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, key } from "./fixtures.ts";

let redis: PrivateRedis;
let engine: SaleEngine;

beforeAll(async () => {
  redis = await startPrivateRedis();
  engine = await SaleEngine.create({ redis: redis.client(), prefix: uniquePrefix("fairprop") });
});
afterAll(async () => {
  await engine?.close();
  await redis?.stop();
});

/** Long enough that every buy of every scenario lands in the window on a loaded machine. */
const WINDOW_MS = 5_000;
const USERS = ["u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"];

interface Buy {
  readonly userId: string;
  readonly qty: number;
  readonly idempotencyKey: string;
}

/**
 * A scenario: stock, limit and buys whose units per user stay within the limit (so every one
 * is entered whatever the arrival order), plus, per user, one buy that would cross it.
 */
const scenarioArb = fc
  .record({
    // At least 1: a drop with no stock refuses entries as SOLD_OUT, like buys.
    stock: fc.integer({ min: 1, max: 20 }),
    limit: fc.integer({ min: 1, max: 4 }),
    wants: fc.array(fc.record({ user: fc.constantFrom(...USERS), qty: fc.integer({ min: 1, max: 4 }) }), {
      maxLength: 24,
    }),
    shuffleSeed: fc.integer(),
  })
  .map(({ stock, limit, wants, shuffleSeed }) => {
    const used = new Map<string, number>();
    const buys: Buy[] = [];
    for (const w of wants) {
      const qty = Math.min(w.qty, limit - (used.get(w.user) ?? 0));
      if (qty <= 0) continue;
      used.set(w.user, (used.get(w.user) ?? 0) + qty);
      buys.push({ userId: w.user, qty, idempotencyKey: key() });
    }
    const over = [...used.entries()].map(([userId, u]) => ({
      userId,
      qty: limit - u + 1,
      idempotencyKey: key(),
    }));
    return { stock, limit, buys, over, shuffleSeed };
  });

function shuffled<T>(items: readonly T[], seed: number): T[] {
  return fc.sample(fc.shuffledSubarray([...items], { minLength: items.length }), {
    numRuns: 1,
    seed,
  })[0] as T[];
}

function invariant(s: StockCounts) {
  expect(s.available + s.held + s.sold).toBe(s.initial + s.restocked);
}

async function until<T>(check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("fair window properties (real Redis)", () => {
  it("allocation is a function of (seed, entries), within limits and stock, keeps the invariant, and verifies", async () => {
    const scenarios = fc.sample(scenarioArb, { numRuns: 12, seed: 15 });
    // Each scenario runs on twin drops with the same seed (copied before T0: the only way to
    // give two drops one seed), buys arriving in two different orders.
    const twins = [];
    for (const sc of scenarios) {
      const a = dropDefinition({
        fairWindowMs: WINDOW_MS,
        initialStock: sc.stock,
        perUserLimit: sc.limit,
        holdMs: 60_000,
      });
      const b = dropDefinition({
        fairWindowMs: WINDOW_MS,
        initialStock: sc.stock,
        perUserLimit: sc.limit,
        holdMs: 1_000,
      });
      await engine.createDrop(a);
      await engine.createDrop(b);
      const c = redis.client();
      const [seed, hash] = await c.hmget(engine.keys.drop(a.dropId).state, "fseed", "fhash");
      await c.hset(engine.keys.drop(b.dropId).state, "fseed", seed ?? "", "fhash", hash ?? "");
      twins.push({ sc, a: a.dropId, b: b.dropId, seed: seed ?? "" });
    }

    // Entries: every buy (and a retry of each) in both orders at once, then the over-limit ones.
    await Promise.all(
      twins.flatMap(({ sc, a, b }) => [
        ...[...sc.buys, ...sc.buys].map((r) => engine.buy({ dropId: a, ...r })),
        ...shuffled([...sc.buys, ...sc.buys], sc.shuffleSeed).map((r) => engine.buy({ dropId: b, ...r })),
      ]),
    ).then((answers) => expect(answers.every((x) => x.kind === "entered")).toBe(true));
    for (const { sc, a, b } of twins)
      for (const dropId of [a, b])
        for (const r of sc.over)
          await expect(engine.buy({ dropId, ...r })).rejects.toMatchObject({ code: "LIMIT_EXCEEDED" });

    for (const { a, b, sc } of twins) {
      for (const dropId of [a, b]) {
        const s = await engine.status(dropId);
        expect(s).toMatchObject({ available: sc.stock, held: 0, sold: 0 });
        invariant(s);
      }
    }

    for (const { sc, a, b, seed } of twins) {
      const ra = await until(async () => {
        const x = await engine.allocateFairWindow(a);
        return x.allocated ? x : undefined;
      });
      const rb = await until(async () => {
        const x = await engine.allocateFairWindow(b);
        return x.allocated ? x : undefined;
      });
      const before = await engine.status(a);
      // Idempotent: a second call changes nothing.
      expect(await engine.allocateFairWindow(a)).toMatchObject({ ...ra, allocatedNow: false });
      expect((await engine.status(a)).version).toBe(before.version);

      const da = await engine.fairDraw(a);
      const db = await engine.fairDraw(b);
      if (!(da && db)) throw new Error("expected both draws");
      // Same seed, same entries, other arrival order: the same allocation.
      expect(db.results).toEqual(da.results);
      expect(rb).toMatchObject({ winners: ra.winners, losers: ra.losers, units: ra.units });

      // What the engine did is what the pure draw computes from (seed, entries), users masked.
      expect(da.results.length).toBe(sc.buys.length);
      expect(new Set(da.results.map((r) => r.user))).toEqual(
        new Set(sc.buys.map((r) => maskUser(seed, r.userId))),
      );
      expect(da.results).toEqual(allocate(seed, drawInputOf(da)));
      expect(verifyDraw(da.seed, before.fair?.seedHash ?? "", drawInputOf(da), da.results)).toEqual({
        ok: true,
      });

      // No user above the limit; allocated = min(stock, what the limit allows).
      for (const u of new Set(sc.buys.map((r) => r.userId)))
        expect(await engine.unitsOfUser(a, u)).toBeLessThanOrEqual(sc.limit);
      const allowed = sc.buys.reduce((n, r) => n + r.qty, 0);
      expect(ra.units).toBe(Math.min(sc.stock, allowed));
      expect(ra.units).toBe(da.results.reduce((n, r) => n + r.granted, 0));
      const after = await engine.status(a);
      expect(after).toMatchObject({ held: ra.units, available: sc.stock - ra.units, sold: 0 });
      invariant(after);
    }

    // After the window: first come, first served (a hold while stock is left, else SOLD_OUT).
    for (const { a } of twins) {
      const s = await engine.status(a);
      const buy = engine.buy({ dropId: a, userId: "late-buyer", qty: 1, idempotencyKey: key() });
      if (s.available > 0) await expect(buy).resolves.toMatchObject({ kind: "held" });
      else await expect(buy).rejects.toMatchObject({ code: "SOLD_OUT" });
    }

    // Winners' holds are normal holds: on A every other one is paid and the rest released; on
    // B (1 s holds) all of them expire.
    for (const { a, b } of twins) {
      let paid = 0;
      for (const [i, h] of (await engine.heldReservations(a)).entries()) {
        if (i % 2 === 0) {
          await engine.confirm(h.reservationId);
          paid += h.qty;
        } else await engine.release(h.reservationId);
      }
      const settledA = await engine.status(a);
      expect(settledA).toMatchObject({ held: 0, sold: paid });
      invariant(settledA);
      const settledB = await until(async () => {
        await engine.expireDue(b);
        const s = await engine.status(b);
        return s.held === 0 ? s : undefined;
      });
      expect(settledB).toMatchObject({ sold: 0, available: settledB.initial });
      invariant(settledB);
    }
  });
});
