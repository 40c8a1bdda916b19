import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkDraw,
  drawOrderOf,
  maskOf,
  type PublishedDraw,
  sha256Hex,
} from "../../client/src/verify/draw-check.ts";
import { allocate, drawOrder, maskUser, newSeed, seedHashOf, verifyDraw } from "../../sale-engine/index.ts";

/**
 * The browser's verifier (WebCrypto) against the engine's draw (node:crypto): the same order and
 * allocation for the same (seed, entries), and every tampering the engine's verifyDraw refuses
 * is a difference in the browser too.
 */

interface Raw {
  readonly entryId: string;
  readonly userId: string;
  readonly qty: number;
}

/** A draw published the way the gateway does: entries in draw order, users masked. */
function published(
  seed: string,
  stock: number,
  perUserLimit: number,
  raw: readonly Raw[],
  skipped: readonly string[] = [],
): PublishedDraw {
  const entries = raw.map((e) => ({ entryId: e.entryId, user: maskUser(seed, e.userId), qty: e.qty }));
  const result = allocate(seed, { stock, perUserLimit, entries, skipped });
  return {
    skipped,
    seedHash: seedHashOf(seed),
    seed,
    stock,
    perUserLimit,
    entries: result.map((r, i) => ({
      entry: r.entryId,
      user: r.user,
      qty: r.qty,
      granted: r.granted,
      position: i,
    })),
  };
}

const rawEntries = fc.uniqueArray(
  fc.record({
    entryId: fc.string({ minLength: 1, maxLength: 40 }),
    userId: fc.constantFrom("u1", "u2", "u3", "u4", "u5", "u6"),
    qty: fc.integer({ min: 1, max: 3 }),
  }),
  { selector: (e) => e.entryId, maxLength: 40 },
);

describe("the browser's draw verifier agrees with the engine's draw", () => {
  it("hash, order and allocation match the engine's for random seeds and entry lists", async () => {
    await fc.assert(
      fc.asyncProperty(
        rawEntries,
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 1, max: 4 }),
        async (raw, stock, limit) => {
          const { seed, seedHash } = newSeed();
          expect(await sha256Hex(seed)).toBe(seedHash);
          const ids = raw.map((e) => e.entryId);
          expect(await drawOrderOf(seed, ids)).toEqual(drawOrder(seed, raw).map((e) => e.entryId));
          const draw = published(seed, stock, limit, raw);
          const check = await checkDraw(draw);
          expect(check.differences).toEqual([]);
          expect(check.ok).toBe(true);
          expect(check.hashOk).toBe(true);
          expect(check.entries.map((e) => [e.entry, e.granted])).toEqual(
            draw.entries.map((e) => [e.entry, e.granted]),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it("a giveaway's skipped entries get 0 in both, and a skipped id that is no entry is a difference", async () => {
    await fc.assert(
      fc.asyncProperty(rawEntries, fc.integer({ min: 0, max: 30 }), async (raw, stock) => {
        const { seed } = newSeed();
        // Every other entry was absent at the draw.
        const skipped = raw.filter((_, i) => i % 2 === 1).map((e) => e.entryId);
        const draw = published(seed, stock, 1, raw, skipped);
        const check = await checkDraw(draw);
        expect(check.differences).toEqual([]);
        for (const e of check.entries) if (skipped.includes(e.entry)) expect(e.granted).toBe(0);
        const engine = verifyDraw(
          seed,
          seedHashOf(seed),
          {
            stock,
            perUserLimit: 1,
            entries: raw.map((e) => ({ ...e, user: maskUser(seed, e.userId) })),
            skipped,
          },
          draw.entries.map((e) => ({ entryId: e.entry, granted: e.granted })),
        );
        expect(engine.ok).toBe(true);
      }),
      { numRuns: 40 },
    );
    const { seed } = newSeed();
    const draw = published(seed, 1, 1, [{ entryId: "e1", userId: "u1", qty: 1 }]);
    const tampered = await checkDraw({ ...draw, skipped: ["not-an-entry"] });
    expect(tampered.differences).toContainEqual({ kind: "unknownSkipped", entry: "not-an-entry" });
  });

  it("a buyer's mask computed in the browser is the engine's", async () => {
    const { seed } = newSeed();
    for (const userId of ["u1", "guest-3f2a", "用户", "a".repeat(64)])
      expect(await maskOf(seed, userId)).toBe(maskUser(seed, userId));
  });

  it("entry ids outside ASCII order by UTF-16 code units in both", async () => {
    const { seed } = newSeed();
    const raw = ["é", "z", "😀", "Z", "a", "\u{10000}", "\uffff"].map((entryId, i) => ({
      entryId,
      userId: `u${i}`,
      qty: 1,
    }));
    expect(
      await drawOrderOf(
        seed,
        raw.map((e) => e.entryId),
      ),
    ).toEqual(drawOrder(seed, raw).map((e) => e.entryId));
  });

  it("every tampering the engine refuses, the browser reports as a difference", async () => {
    const { seed } = newSeed();
    const raw = Array.from({ length: 12 }, (_, i) => ({
      entryId: `e${i}`,
      userId: `u${i % 5}`,
      qty: 1 + (i % 2),
    }));
    const draw = published(seed, 6, 2, raw);
    const engineSays = (d: PublishedDraw) =>
      verifyDraw(
        d.seed ?? "",
        d.seedHash,
        {
          stock: d.stock,
          perUserLimit: d.perUserLimit,
          entries: d.entries.map((e) => ({ entryId: e.entry, user: e.user, qty: e.qty })),
        },
        [...d.entries]
          .sort((a, b) => a.position - b.position)
          .map((e) => ({ entryId: e.entry, granted: e.granted })),
      );
    expect(engineSays(draw).ok).toBe(true);

    const winner = draw.entries.findIndex((e) => e.granted > 0);
    const loser = draw.entries.findIndex((e) => e.granted === 0);
    expect(winner).toBeGreaterThanOrEqual(0);
    expect(loser).toBeGreaterThanOrEqual(0);
    const tampered: [string, PublishedDraw, string][] = [
      ["another seed", { ...draw, seed: newSeed().seed }, "hash"],
      ["another commitment", { ...draw, seedHash: newSeed().seedHash }, "hash"],
      [
        "a loser given a unit",
        { ...draw, entries: draw.entries.map((e, i) => (i === loser ? { ...e, granted: 1 } : e)) },
        "granted",
      ],
      [
        "two entries swapped in the order",
        {
          ...draw,
          entries: draw.entries.map((e, i) =>
            i === 0 ? { ...e, position: 1 } : i === 1 ? { ...e, position: 0 } : e,
          ),
        },
        "order",
      ],
      [
        "a winner granted one unit fewer",
        {
          ...draw,
          entries: draw.entries.map((e, i) => (i === winner ? { ...e, granted: e.granted - 1 } : e)),
        },
        "granted",
      ],
    ];
    for (const [what, d, kind] of tampered) {
      expect(engineSays(d).ok, what).toBe(false);
      const check = await checkDraw(d);
      expect(check.ok, what).toBe(false);
      expect(
        check.differences.map((x) => x.kind),
        what,
      ).toContain(kind);
    }
  });

  it("a missing or malformed seed is a difference, never a crash", async () => {
    const { seed } = newSeed();
    const draw = published(seed, 1, 1, [{ entryId: "e1", userId: "u1", qty: 1 }]);
    for (const bad of [null, "", "zz", seed.toUpperCase(), `${seed}00`]) {
      const check = await checkDraw({ ...draw, seed: bad });
      expect(check.ok).toBe(false);
      expect(check.differences).toEqual([{ kind: "badSeed" }]);
    }
  });
});
