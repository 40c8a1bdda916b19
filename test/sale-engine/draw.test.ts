import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../core/index.ts";
import {
  allocate,
  type DrawEntry,
  drawOrder,
  maskUser,
  newSeed,
  seedHashOf,
  ticketOf,
  verifyDraw,
} from "../../sale-engine/index.ts";

const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString("hex"));
const entriesArb = fc.uniqueArray(
  fc.record({
    entryId: fc.stringMatching(/^[0-9a-f]{8}$/),
    user: fc.constantFrom("u1", "u2", "u3", "u4", "u5", "u6"),
    qty: fc.integer({ min: 1, max: 4 }),
  }),
  { selector: (e) => e.entryId, maxLength: 40 },
);
const inputArb = fc.record({
  stock: fc.integer({ min: 0, max: 60 }),
  perUserLimit: fc.integer({ min: 1, max: 6 }),
  entries: entriesArb,
});

describe("verifiable draw", () => {
  it("commits to the seed with SHA-256 of its bytes", () => {
    const { seed, seedHash } = newSeed();
    expect(seed).toMatch(/^[0-9a-f]{64}$/);
    expect(seedHashOf(seed)).toBe(seedHash);
    // Known vector: SHA-256 of 32 zero bytes.
    expect(seedHashOf("0".repeat(64))).toBe(
      "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925",
    );
  });

  it("the order and the allocation are functions of (seed, entries), not of arrival order", () => {
    fc.assert(
      fc.property(seedArb, inputArb, fc.integer(), (seed, input, salt) => {
        const shuffled = fc.sample(
          fc.shuffledSubarray([...input.entries], { minLength: input.entries.length }),
          {
            numRuns: 1,
            seed: salt,
          },
        )[0] as DrawEntry[];
        expect(allocate(seed, { ...input, entries: shuffled })).toEqual(allocate(seed, input));
        expect(drawOrder(seed, shuffled)).toEqual(drawOrder(seed, input.entries));
      }),
    );
  });

  it("grants min(stock, what the per-user limit allows) and no user above the limit", () => {
    fc.assert(
      fc.property(seedArb, inputArb, (seed, input) => {
        const result = allocate(seed, input);
        const perUser = new Map<string, number>();
        const asked = new Map<string, number>();
        for (const r of result) {
          expect(r.granted).toBeGreaterThanOrEqual(0);
          expect(r.granted).toBeLessThanOrEqual(r.qty);
          perUser.set(r.user, (perUser.get(r.user) ?? 0) + r.granted);
          asked.set(r.user, (asked.get(r.user) ?? 0) + r.qty);
        }
        for (const units of perUser.values()) expect(units).toBeLessThanOrEqual(input.perUserLimit);
        const allowed = [...asked.values()].reduce((n, q) => n + Math.min(q, input.perUserLimit), 0);
        const total = result.reduce((n, r) => n + r.granted, 0);
        expect(total).toBe(Math.min(input.stock, allowed));
      }),
    );
  });

  it("different seeds give different orders (tickets are HMAC-SHA256 of the entry id)", () => {
    const entries = Array.from({ length: 20 }, (_, i) => ({ entryId: `e${i}`, user: `u${i}`, qty: 1 }));
    const a = newSeed().seed;
    const b = newSeed().seed;
    expect(drawOrder(a, entries).map((e) => e.entryId)).not.toEqual(
      drawOrder(b, entries).map((e) => e.entryId),
    );
    expect(ticketOf(a, "e1")).toMatch(/^[0-9a-f]{64}$/);
    expect(maskUser(a, "alice")).toBe(maskUser(a, "alice"));
    expect(maskUser(a, "alice")).not.toBe(maskUser(b, "alice"));
  });

  it("verifyDraw accepts the real allocation and rejects a tampered one", () => {
    fc.assert(
      fc.property(seedArb, inputArb, fc.nat(), (seed, input, pick) => {
        const hash = seedHashOf(seed);
        const real = allocate(seed, input);
        expect(verifyDraw(seed, hash, input, real)).toEqual({ ok: true });
        if (real.length === 0) return;
        const i = pick % real.length;
        const bumped = real.map((r, j) => (j === i ? { ...r, granted: r.granted + 1 } : r));
        expect(verifyDraw(seed, hash, input, bumped).ok).toBe(false);
        expect(verifyDraw(seed, hash, input, real.slice(1)).ok).toBe(false);
        if (real.length > 1) {
          const swapped = [real[1], real[0], ...real.slice(2)] as typeof real;
          expect(verifyDraw(seed, hash, input, swapped).ok).toBe(false);
        }
      }),
    );
  });

  it("verifyDraw rejects a seed that does not match its commitment, and bad seeds get a typed answer", () => {
    const { seed, seedHash } = newSeed();
    const other = newSeed().seed;
    const input = { stock: 1, perUserLimit: 1, entries: [{ entryId: "a", user: "m", qty: 1 }] };
    expect(verifyDraw(other, seedHash, input, allocate(other, input))).toMatchObject({ ok: false });
    expect(verifyDraw("xyz", seedHash, input, [])).toMatchObject({ ok: false });
    const dup = { ...input, entries: [...input.entries, ...input.entries] };
    expect(verifyDraw(seed, seedHash, dup, allocate(seed, dup))).toMatchObject({ ok: false });
    expect(() => ticketOf("not-hex", "a")).toThrow(ValidationError);
  });
});
