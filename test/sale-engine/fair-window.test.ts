import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RejectedError } from "../../core/index.ts";
import {
  drawInputOf,
  eraseUserSaleState,
  parseEventMessage,
  SaleEngine,
  seedHashOf,
  verifyDraw,
} from "../../sale-engine/index.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, eventsOf, invariant, key, until } from "./fixtures.ts";

let redis: PrivateRedis;
let engine: SaleEngine;
let prefix: string;

beforeAll(async () => {
  redis = await startPrivateRedis();
  prefix = uniquePrefix("fair");
  engine = await SaleEngine.create({ redis: redis.client(), prefix });
});
afterAll(async () => {
  await engine?.close();
  await redis?.stop();
});

/** Waits for the end of the window and allocates (what the sweeper's fair pass does). */
function allocateWhenDue(dropId: string) {
  return until(async () => {
    const a = await engine.allocateFairWindow(dropId);
    return a.allocated ? a : undefined;
  });
}

describe("fair window", () => {
  it("a drop without fairWindowMs has no fair fields and sells first come, first served", async () => {
    const def = dropDefinition();
    const { status } = await engine.createDrop(def);
    expect(status.fair).toBeUndefined();
    const r = await engine.buy({ dropId: def.dropId, userId: "u1", qty: 1, idempotencyKey: key() });
    expect(r.kind).toBe("held");
    expect(await engine.allocateFairWindow(def.dropId)).toEqual({
      dropId: def.dropId,
      allocated: false,
      dueAt: null,
    });
  });

  it("publishes the seed's SHA-256 before T0 and keeps the seed secret until allocated", async () => {
    const def = dropDefinition({ fairWindowMs: 60_000 });
    const { status } = await engine.createDrop(def);
    expect(status.fair).toMatchObject({ windowMs: 60_000, allocatedAt: null, seed: null });
    expect(status.fair?.seedHash).toMatch(/^[0-9a-f]{64}$/);
    const created = (await eventsOf(engine, def.dropId)).find((e) => e.type === "drop.created");
    expect(created).toMatchObject({ fairWindow: 60_000, seedHash: status.fair?.seedHash });
    expect(await engine.fairDraw(def.dropId)).toBeNull();
    // An identical re-create keeps the first seed.
    const again = await engine.createDrop(def);
    expect(again.created).toBe(false);
    expect(again.status.fair?.seedHash).toBe(status.fair?.seedHash);
    const a = await engine.allocateFairWindow(def.dropId);
    expect(a).toMatchObject({ allocated: false, dueAt: status.startsAt + 60_000 });
  });

  it("buys in the window are entries: idempotent, limit checked at entry, no stock taken", async () => {
    const def = dropDefinition({ fairWindowMs: 60_000, initialStock: 5, perUserLimit: 2 });
    await engine.createDrop(def);
    const k = key();
    const first = await engine.buy({ dropId: def.dropId, userId: "alice", qty: 2, idempotencyKey: k });
    expect(first).toMatchObject({ kind: "entered", replayed: false, qty: 2 });
    const retry = await engine.buy({ dropId: def.dropId, userId: "alice", qty: 2, idempotencyKey: k });
    expect(retry).toMatchObject({ kind: "entered", replayed: true });
    expect(retry.kind === "entered" && first.kind === "entered" && retry.entryId === first.entryId).toBe(
      true,
    );
    await expect(
      engine.buy({ dropId: def.dropId, userId: "alice", qty: 1, idempotencyKey: key() }),
    ).rejects.toMatchObject({ code: "LIMIT_EXCEEDED" });
    await expect(
      engine.buy({ dropId: def.dropId, userId: "alice", qty: 1, idempotencyKey: k }),
    ).rejects.toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED" });
    // reserve() (callers that know only holds) is told to retry, with the entry named.
    const err = await engine
      .reserve({ dropId: def.dropId, userId: "bob", qty: 1, idempotencyKey: key() })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RejectedError);
    expect(err).toMatchObject({ code: "NOT_STARTED", details: { entered: true } });
    const s = await engine.status(def.dropId);
    expect(s).toMatchObject({ available: 5, held: 0, sold: 0 });
    if (first.kind !== "entered") throw new Error("expected an entry");
    expect(await engine.fairEntry(def.dropId, first.entryId)).toMatchObject({
      status: "entered",
      userId: "alice",
      qty: 2,
      reservationId: null,
    });
    await expect(engine.fairEntry(def.dropId, "not-an-id")).rejects.toMatchObject({ code: "INVALID_INPUT" });
  });

  it("at T0 + W allocates once, reveals the seed, holds for winners, results for losers, verifiable", async () => {
    const def = dropDefinition({ fairWindowMs: 400, initialStock: 3, perUserLimit: 2, holdMs: 60_000 });
    const { status } = await engine.createDrop(def);
    const users = ["a", "b", "c", "d", "e"];
    const keys = new Map(users.map((u) => [u, key()]));
    const entries = await Promise.all(
      users.map((u) =>
        engine.buy({ dropId: def.dropId, userId: u, qty: 1, idempotencyKey: keys.get(u) ?? "" }),
      ),
    );
    expect(entries.every((e) => e.kind === "entered")).toBe(true);
    const allocated = await allocateWhenDue(def.dropId);
    expect(allocated).toMatchObject({ allocatedNow: true, winners: 3, losers: 2, units: 3, stock: 3 });
    const again = await engine.allocateFairWindow(def.dropId);
    expect(again).toMatchObject({ allocated: true, allocatedNow: false, winners: 3, losers: 2, units: 3 });

    const after = await engine.status(def.dropId);
    expect(after).toMatchObject({ available: 0, held: 3, sold: 0 });
    invariant(after);
    expect(after.fair?.seed).toMatch(/^[0-9a-f]{64}$/);
    expect(seedHashOf(after.fair?.seed ?? "")).toBe(status.fair?.seedHash);
    expect(after.fair?.allocatedAt).toBeGreaterThanOrEqual(status.startsAt + 400);

    const events = await eventsOf(engine, def.dropId);
    const placed = events.filter((e) => e.type === "reservation.placed");
    const fair = events.find((e) => e.type === "fair.allocated");
    expect(placed).toHaveLength(3);
    expect(fair).toMatchObject({ seed: after.fair?.seed, winners: 3, losers: 2, units: 3, stock: 3 });
    // Users are masked in the published list.
    const listed = fair?.type === "fair.allocated" ? fair.entries : [];
    expect(listed.map((e) => e.user).some((u) => users.includes(u))).toBe(false);

    const draw = await engine.fairDraw(def.dropId);
    if (!draw) throw new Error("expected a draw");
    expect(draw.results.map((r) => ({ entry: r.entryId, granted: r.granted }))).toEqual(
      listed.map((e) => ({ entry: e.entry, granted: e.granted })),
    );
    expect(verifyDraw(draw.seed, status.fair?.seedHash ?? "", drawInputOf(draw), draw.results)).toEqual({
      ok: true,
    });

    // Every entrant's result; a winner's retry replays its hold, a loser's is a fresh buy (sold out).
    for (const [i, u] of users.entries()) {
      const e = entries[i];
      if (e?.kind !== "entered") throw new Error("expected an entry");
      const result = await engine.fairEntry(def.dropId, e.entryId);
      const retry = engine.buy({ dropId: def.dropId, userId: u, qty: 1, idempotencyKey: keys.get(u) ?? "" });
      if (result?.status === "won") {
        const rid = result.reservationId ?? "";
        expect(await engine.reservation(rid)).toMatchObject({ userId: u, qty: 1, status: "held" });
        await expect(retry).resolves.toMatchObject({ kind: "held", reservationId: rid, replayed: true });
      } else {
        expect(result).toMatchObject({ status: "lost", granted: 0, reservationId: null });
        await expect(retry).rejects.toMatchObject({ code: "SOLD_OUT" });
      }
    }
  });

  it("after the window, buys are first come, first served; winners pay or expire as normal holds", async () => {
    const def = dropDefinition({ fairWindowMs: 300, initialStock: 4, perUserLimit: 2, holdMs: 1_000 });
    await engine.createDrop(def);
    await engine.buy({ dropId: def.dropId, userId: "w1", qty: 1, idempotencyKey: key() });
    await engine.buy({ dropId: def.dropId, userId: "w2", qty: 1, idempotencyKey: key() });
    const allocated = await allocateWhenDue(def.dropId);
    expect(allocated).toMatchObject({ winners: 2, units: 2, stock: 4 });
    const late = await engine.buy({ dropId: def.dropId, userId: "late", qty: 2, idempotencyKey: key() });
    expect(late).toMatchObject({ kind: "held", qty: 2, available: 0 });
    const draw = await engine.fairDraw(def.dropId);
    const [first] = draw?.results ?? [];
    const winner = first ? await engine.fairEntry(def.dropId, first.entryId) : null;
    await engine.confirm(winner?.reservationId ?? "");
    invariant(await engine.status(def.dropId));
    // The other winner's and the late buyer's holds expire like any hold.
    const expired = await until(async () => {
      await engine.expireDue(def.dropId);
      const s = await engine.status(def.dropId);
      return s.held === 0 ? s : undefined;
    });
    expect(expired).toMatchObject({ available: 3, held: 0, sold: 1 });
    invariant(expired);
  });

  it("buys between T0 + W and the allocation are refused as retryable, never sold before the entrants", async () => {
    const def = dropDefinition({ fairWindowMs: 200, initialStock: 1 });
    await engine.createDrop(def);
    await engine.buy({ dropId: def.dropId, userId: "early", qty: 1, idempotencyKey: key() });
    // Wait past the window without allocating: a buy now must not take the unit.
    await until(async () => {
      const s = await engine.status(def.dropId);
      return s.serverTime > s.startsAt + 200 ? s : undefined;
    });
    await expect(
      engine.buy({ dropId: def.dropId, userId: "racer", qty: 1, idempotencyKey: key() }),
    ).rejects.toMatchObject({ code: "NOT_STARTED" });
    expect(await allocateWhenDue(def.dropId)).toMatchObject({ winners: 1, units: 1 });
  });

  it("allocation from several engines at once happens exactly once", async () => {
    const def = dropDefinition({ fairWindowMs: 300, initialStock: 2 });
    await engine.createDrop(def);
    for (const u of ["p", "q", "r"])
      await engine.buy({ dropId: def.dropId, userId: u, qty: 1, idempotencyKey: key() });
    const others = await Promise.all(
      [1, 2, 3].map(() => SaleEngine.create({ redis: redis.client(), prefix })),
    );
    try {
      const results = await until(async () => {
        const rs = await Promise.all(
          others.flatMap((e) => [e.allocateFairWindow(def.dropId), e.allocateFairWindow(def.dropId)]),
        );
        return rs.every((r) => r.allocated) ? rs : undefined;
      });
      // Every call that saw the window closed agrees on the one allocation.
      expect(results.every((r) => r.allocated && r.winners === 2 && r.losers === 1)).toBe(true);
      const events = await eventsOf(engine, def.dropId);
      expect(events.filter((e) => e.type === "fair.allocated")).toHaveLength(1);
      expect(events.filter((e) => e.type === "reservation.placed")).toHaveLength(2);
    } finally {
      await Promise.all(others.map((e) => e.close()));
    }
  });

  it("the sweeper's fair pass allocates a passed window within 250 ms of T0 + W", async () => {
    const { startExpirySweeper } = await import("../../sale-engine/index.ts");
    const def = dropDefinition({ fairWindowMs: 500, initialStock: 1 });
    const { status } = await engine.createDrop(def);
    await engine.buy({ dropId: def.dropId, userId: "solo", qty: 1, idempotencyKey: key() });
    const silent = { info() {}, warn() {} } as unknown as Parameters<typeof startExpirySweeper>[2];
    const sweeper = startExpirySweeper(engine, 60_000, silent);
    try {
      const s = await until(async () => {
        const st = await engine.status(def.dropId);
        return st.fair?.allocatedAt ? st : undefined;
      });
      const lateBy = (s.fair?.allocatedAt ?? 0) - (status.startsAt + 500);
      expect(lateBy).toBeGreaterThan(0);
      expect(lateBy).toBeLessThanOrEqual(250);
      // The pass after the allocating one takes the drop out of the pending index.
      await until(async () =>
        (await redis.client().zscore(engine.keys.fairPending, def.dropId)) === null ? true : undefined,
      );
    } finally {
      await sweeper.stop();
    }
  });

  it("the fair pass sleeps until the next close, at most its interval", async () => {
    const { nextWakeMs } = await import("../../sale-engine/index.ts");
    expect(nextWakeMs(null, 100)).toBe(100);
    expect(nextWakeMs(0, 100)).toBe(1);
    expect(nextWakeMs(37, 100)).toBe(38);
    expect(nextWakeMs(5_000, 100)).toBe(100);
    const def = dropDefinition({ fairWindowMs: 30_000, initialStock: 1 });
    const { status } = await engine.createDrop(def);
    // Other tests' drops may close sooner; this one bounds the answer from above (the server's
    // clock only moves on between the two reads).
    const before = (await engine.status(def.dropId)).serverTime;
    const wait = await engine.msUntilNextFairClose();
    expect(wait).not.toBeNull();
    expect(wait ?? -1).toBeGreaterThanOrEqual(0);
    expect(wait ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(status.startsAt + 30_000 - before);
  });

  it("the drop event channel carries fair.allocated as one JSON array", async () => {
    const def = dropDefinition({ fairWindowMs: 200, initialStock: 1 });
    await engine.createDrop(def);
    const log = await engine.readEvents(def.dropId);
    expect(log.length).toBeGreaterThan(0);
    await engine.buy({ dropId: def.dropId, userId: "x", qty: 1, idempotencyKey: key() });
    await allocateWhenDue(def.dropId);
    const raw = await redis.client().xrevrange(engine.keys.drop(def.dropId).log, "+", "-", "COUNT", 1);
    const payload = (raw[0]?.[1] ?? [])[1] ?? "";
    expect(parseEventMessage(payload)).toMatchObject([{ type: "fair.allocated", winners: 1 }]);
  });

  it("a fair window outside its bounds is refused as INVALID_INPUT and creates nothing", async () => {
    for (const fairWindowMs of [-1, 60_001, 1.5]) {
      const def = dropDefinition({ fairWindowMs });
      await expect(engine.createDrop(def)).rejects.toMatchObject({ code: "INVALID_INPUT" });
      await expect(engine.status(def.dropId)).rejects.toMatchObject({ code: "DROP_NOT_FOUND" });
    }
  });

  it("erasing a user withdraws their open entries and renames their allocated ones", async () => {
    const open = dropDefinition({ fairWindowMs: 60_000 });
    await engine.createDrop(open);
    const gone = await engine.buy({ dropId: open.dropId, userId: "erased", qty: 1, idempotencyKey: key() });
    await engine.buy({ dropId: open.dropId, userId: "stays", qty: 1, idempotencyKey: key() });
    const closed = dropDefinition({ fairWindowMs: 200, initialStock: 1 });
    await engine.createDrop(closed);
    const won = await engine.buy({ dropId: closed.dropId, userId: "erased", qty: 1, idempotencyKey: key() });
    await allocateWhenDue(closed.dropId);

    await eraseUserSaleState(engine, "erased", "pseudo-1");
    if (gone.kind !== "entered" || won.kind !== "entered") throw new Error("expected entries");
    expect(await engine.fairEntry(open.dropId, gone.entryId)).toBeNull();
    const c = redis.client();
    expect(await c.hlen(engine.keys.drop(open.dropId).entries)).toBe(1);
    expect(await c.hget(engine.keys.drop(open.dropId).state, "eu:erased")).toBeNull();
    // The allocated entry keeps its place in the draw; its hold (nobody can pay it) is released.
    expect(await engine.fairEntry(closed.dropId, won.entryId)).toMatchObject({
      userId: "pseudo-1",
      status: "won",
    });
    const s = await engine.status(closed.dropId);
    expect(s).toMatchObject({ available: 1, held: 0 });
    invariant(s);
    const draw = await engine.fairDraw(closed.dropId);
    if (!draw) throw new Error("expected a draw");
    expect(verifyDraw(draw.seed, s.fair?.seedHash ?? "", drawInputOf(draw), draw.results)).toEqual({
      ok: true,
    });
  });

  it("a window with no entries allocates nothing and the drop then sells first come, first served", async () => {
    const def = dropDefinition({ fairWindowMs: 200, initialStock: 2 });
    await engine.createDrop(def);
    expect(await allocateWhenDue(def.dropId)).toMatchObject({ winners: 0, losers: 0, units: 0, stock: 2 });
    const fair = (await eventsOf(engine, def.dropId)).find((e) => e.type === "fair.allocated");
    expect(fair).toMatchObject({ entries: [], winners: 0 });
    await expect(
      engine.buy({ dropId: def.dropId, userId: "first", qty: 1, idempotencyKey: key() }),
    ).resolves.toMatchObject({ kind: "held", available: 1 });
  });

  it("a draw takes at most maxFairEntries entries; later buys in the window are told to retry", async () => {
    const capped = await SaleEngine.create({ redis: redis.client(), prefix, maxFairEntries: 2 });
    try {
      const def = dropDefinition({ fairWindowMs: 60_000, initialStock: 5 });
      await capped.createDrop(def);
      const k1 = key();
      const e1 = await capped.buy({ dropId: def.dropId, userId: "c1", qty: 1, idempotencyKey: k1 });
      await capped.buy({ dropId: def.dropId, userId: "c2", qty: 1, idempotencyKey: key() });
      await expect(
        capped.buy({ dropId: def.dropId, userId: "c3", qty: 1, idempotencyKey: key() }),
      ).rejects.toMatchObject({ code: "NOT_STARTED", details: { replayed: false } });
      // A retry of an entry still answers it.
      const again = await capped.buy({ dropId: def.dropId, userId: "c1", qty: 1, idempotencyKey: k1 });
      expect(again).toMatchObject({
        kind: "entered",
        replayed: true,
        entryId: e1.kind === "entered" ? e1.entryId : "",
      });
      expect(await redis.client().hlen(capped.keys.drop(def.dropId).entries)).toBe(2);
    } finally {
      await capped.close();
    }
    await expect(
      SaleEngine.create({ redis: redis.client(), prefix, maxFairEntries: 0 }),
    ).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
  });
});
