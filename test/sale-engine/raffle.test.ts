import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ValidationError } from "../../core/index.ts";
import { drawInputOf, SaleEngine, verifyDraw } from "../../sale-engine/index.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, eventsOf, invariant, key, until } from "./fixtures.ts";

let redis: PrivateRedis;
let engine: SaleEngine;
let prefix: string;

beforeAll(async () => {
  redis = await startPrivateRedis();
  prefix = uniquePrefix("raffle");
  engine = await SaleEngine.create({ redis: redis.client(), prefix });
});
afterAll(async () => {
  await engine?.close();
  await redis?.stop();
});

const RAFFLE_MS = 60_000;

/**
 * A raffle whose entry window (at least the shortest, a minute) closes `openForMs` from now: a
 * short one started in the past, on the server clock.
 */
async function raffle(openForMs: number, overrides: Parameters<typeof dropDefinition>[0] = {}) {
  const windowMs = Math.max(RAFFLE_MS, openForMs);
  const def = dropDefinition({
    raffleWindowMs: windowMs,
    startsAt: (await engine.serverTime()) - windowMs + openForMs,
    ...overrides,
  });
  const { status } = await engine.createDrop(def);
  return { def, status };
}

function allocateWhenDue(dropId: string) {
  return until(async () => {
    const a = await engine.allocateFairWindow(dropId);
    return a.allocated ? a : undefined;
  });
}

describe("raffle", () => {
  it("publishes its mode, window and close; a fair window and a raffle together are refused", async () => {
    const { def, status } = await raffle(3_600_000);
    expect(status.fair).toMatchObject({
      mode: "raffle",
      windowMs: 3_600_000,
      closesAt: status.startsAt + 3_600_000,
      seed: null,
      allocatedAt: null,
    });
    expect(status.waitlist).toBeUndefined();
    const created = (await eventsOf(engine, def.dropId)).find((e) => e.type === "drop.created");
    expect(created).toMatchObject({ raffleWindow: 3_600_000, seedHash: status.fair?.seedHash });
    expect(created).not.toHaveProperty("fairWindow");
    // The fair pass's index holds it at its close, not now: passes before it do not visit it.
    expect(Number(await redis.client().zscore(engine.keys.fairPending, def.dropId))).toBe(
      status.fair?.closesAt,
    );
    await expect(
      engine.createDrop(dropDefinition({ raffleWindowMs: RAFFLE_MS, fairWindowMs: 1_000 })),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(engine.createDrop(dropDefinition({ raffleWindowMs: 59_999 }))).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(
      engine.joinWaitlist({ dropId: def.dropId, userId: "w", qty: 1, idempotencyKey: key() }),
    ).rejects.toMatchObject({ code: "WAITLIST_CLOSED" });
  });

  it("takes one entry per user: a second buy, any key, answers the first", async () => {
    const { def } = await raffle(3_600_000, { perUserLimit: 3 });
    const first = await engine.buy({ dropId: def.dropId, userId: "ann", qty: 2, idempotencyKey: key() });
    expect(first).toMatchObject({ kind: "entered", replayed: false, qty: 2 });
    const again = await engine.buy({ dropId: def.dropId, userId: "ann", qty: 1, idempotencyKey: key() });
    expect(again).toMatchObject({ kind: "entered", replayed: true });
    expect(again.kind === "entered" && first.kind === "entered" && again.entryId === first.entryId).toBe(
      true,
    );
    // Two buys of one user in one batch: still one entry.
    const [a, b] = await Promise.all([
      engine.buy({ dropId: def.dropId, userId: "bea", qty: 1, idempotencyKey: key() }),
      engine.buy({ dropId: def.dropId, userId: "bea", qty: 1, idempotencyKey: key() }),
    ]);
    expect(a?.kind === "entered" && b?.kind === "entered" && a.entryId === b.entryId).toBe(true);
    const entries = await engine.fairEntriesOf(def.dropId, "ann");
    expect(entries).toEqual([
      expect.objectContaining({ status: "entered", qty: 2, reservationId: null, granted: 0, userId: "ann" }),
    ]);
    expect(await engine.fairEntriesOf(def.dropId, "bea")).toHaveLength(1);
    expect(await engine.fairEntriesOf(def.dropId, "nobody")).toEqual([]);
    expect(await engine.status(def.dropId)).toMatchObject({ available: 10, held: 0 });
  });

  it("draws at close; unpaid winners' units go to the non-winners in drawn order, then on sale", async () => {
    const { def } = await raffle(3_000, { initialStock: 2, perUserLimit: 1, holdMs: 60_000 });
    const users = ["u1", "u2", "u3", "u4", "u5"];
    await Promise.all(
      users.map((u) => engine.buy({ dropId: def.dropId, userId: u, qty: 1, idempotencyKey: key() })),
    );
    const allocated = await allocateWhenDue(def.dropId);
    expect(allocated).toMatchObject({ allocatedNow: true, winners: 2, losers: 3, units: 2, stock: 2 });
    const events = await eventsOf(engine, def.dropId);
    const drawn = events.find((e) => e.type === "fair.allocated");
    expect(drawn).toMatchObject({ mode: "raffle", winners: 2, losers: 3 });
    const winners = events.flatMap((e) => (e.type === "reservation.placed" ? [e] : []));
    expect(winners.map((w) => w.via)).toEqual(["draw", "draw"]);
    const draw = await engine.fairDraw(def.dropId);
    if (!draw) throw new Error("expected a published draw");
    expect(verifyDraw(draw.seed, draw.seedHash, drawInputOf(draw), draw.results)).toEqual({ ok: true });

    // The non-winners, in drawn order, hold tickets 1..3 of the hand-off queue.
    const status = await engine.status(def.dropId);
    const byUser = new Map<string, string>();
    for (const u of users)
      for (const e of await engine.fairEntriesOf(def.dropId, u)) byUser.set(e.entryId, u);
    const losersInOrder = draw.results.filter((r) => r.granted === 0).map((r) => byUser.get(r.entryId) ?? "");
    expect(losersInOrder).toHaveLength(3);
    for (const [i, u] of losersInOrder.entries())
      expect(await engine.waitlistOf(def.dropId, u)).toEqual({
        ticket: i + 1,
        position: i + 1,
        status: "waiting",
      });
    expect(status).toMatchObject({ available: 0, held: 2 });
    // No first-come sale after the draw while the drawn order has someone waiting.
    await expect(
      engine.buy({ dropId: def.dropId, userId: "late", qty: 1, idempotencyKey: key() }),
    ).rejects.toMatchObject({ code: "SOLD_OUT" });

    // Winner 1 does not pay: the first non-winner gets a hold of their own (via handoff).
    const [w1, w2] = winners;
    await engine.release(w1?.reservation ?? "");
    const next = losersInOrder[0] ?? "";
    expect(await engine.waitlistOf(def.dropId, next)).toMatchObject({ status: "offered", position: 0 });
    const offered = (await eventsOf(engine, def.dropId)).flatMap((e) =>
      e.type === "reservation.placed" && e.via === "handoff" ? [e] : [],
    );
    expect(offered.map((o) => [o.user, o.qty])).toEqual([[next, 1]]);
    expect(await engine.unitsOfUser(def.dropId, next)).toBe(1);
    // Their entry stays lost in the published draw (the draw is what was drawn).
    expect((await engine.fairEntriesOf(def.dropId, next))[0]).toMatchObject({ status: "lost" });
    // The handed hold pays like any hold.
    await engine.confirm(offered[0]?.reservation ?? "");
    invariant(await engine.status(def.dropId));

    // Winner 2 does not pay either -> second in order; that one releases -> third; the third
    // releases -> the order is exhausted: the unit goes on sale, first come, first served.
    await engine.release(w2?.reservation ?? "");
    const hold2 = await heldBy(def.dropId, losersInOrder[1] ?? "");
    await engine.release(hold2);
    const hold3 = await heldBy(def.dropId, losersInOrder[2] ?? "");
    await engine.release(hold3);
    const end = await engine.status(def.dropId);
    expect(end).toMatchObject({ available: 1, held: 0, sold: 1, state: "live" });
    invariant(end);
    const late = await engine.buy({ dropId: def.dropId, userId: "late", qty: 1, idempotencyKey: key() });
    expect(late.kind).toBe("held");
  });

  it("the fair pass draws a raffle once its close comes, not before", async () => {
    const { def, status } = await raffle(2_000, { initialStock: 1 });
    await engine.buy({ dropId: def.dropId, userId: "solo", qty: 1, idempotencyKey: key() });
    const done = await until(async () => {
      const passed = await engine.allocateDueFairWindows();
      return passed.find((a) => a.dropId === def.dropId);
    });
    const drawn = (await eventsOf(engine, def.dropId)).find((e) => e.type === "fair.allocated");
    expect(drawn?.at).toBeGreaterThan(status.fair?.closesAt ?? 0);
    expect(done).toMatchObject({ allocated: true, winners: 1 });
    expect((await engine.fairEntriesOf(def.dropId, "solo"))[0]).toMatchObject({ status: "won", granted: 1 });
  });

  it("a launch moves a scheduled raffle's close, and the fair pass's index with it", async () => {
    const def = dropDefinition({
      raffleWindowMs: RAFFLE_MS,
      startsAt: (await engine.serverTime()) + 3_600_000,
    });
    await engine.createDrop(def);
    const before = Number(await redis.client().zscore(engine.keys.fairPending, def.dropId));
    await engine.launch(def.dropId);
    const s = await engine.status(def.dropId);
    expect(s.fair?.closesAt).toBe(s.startsAt + RAFFLE_MS);
    const after = Number(await redis.client().zscore(engine.keys.fairPending, def.dropId));
    expect(after).toBeLessThan(before);
    expect(after).toBeLessThanOrEqual(s.fair?.closesAt ?? 0);
    // A pass that finds it early scores it with its exact close.
    await redis.client().zadd(engine.keys.fairPending, 0, def.dropId);
    await engine.allocateDueFairWindows();
    expect(Number(await redis.client().zscore(engine.keys.fairPending, def.dropId))).toBe(s.fair?.closesAt);
  });
});

/** The reservation id `userId` holds in a drop now (the hold the hand-off gave them). */
async function heldBy(dropId: string, userId: string): Promise<string> {
  const held = await engine.heldReservations(dropId);
  const mine = held.find((r) => r.userId === userId);
  if (!mine) throw new Error(`${userId} holds nothing`);
  return mine.reservationId;
}
