import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allocate,
  drawInputOf,
  type EligibleAtDraw,
  PRESENCE_UNAVAILABLE,
  SaleEngine,
  type SaleEngineOptions,
  verifyDraw,
} from "../../sale-engine/index.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, eventsOf, invariant, key, until } from "./fixtures.ts";

let redis: PrivateRedis;
const engines: SaleEngine[] = [];

beforeAll(async () => {
  redis = await startPrivateRedis();
});
afterAll(async () => {
  for (const e of engines) await e.close();
  await redis?.stop();
});

async function engineWith(options: Partial<SaleEngineOptions> = {}): Promise<SaleEngine> {
  const engine = await SaleEngine.create({
    redis: redis.client(),
    prefix: uniquePrefix("giveaway"),
    ...options,
  });
  engines.push(engine);
  return engine;
}

const WINDOW_MS = 60_000;
const FREE = {
  sku: "GIFT-1",
  title: "Signed poster",
  priceMinor: 0,
  currency: "USD",
  imageUrl: "https://cdn.example.com/poster.jpg",
};

/** A giveaway whose entry window closes `openForMs` from now (started in the past, server clock). */
async function giveaway(engine: SaleEngine, openForMs: number, initialStock: number) {
  const def = dropDefinition({
    format: "giveaway",
    product: FREE,
    raffleWindowMs: WINDOW_MS,
    startsAt: (await engine.serverTime()) - WINDOW_MS + openForMs,
    initialStock,
    perUserLimit: 1,
  });
  await engine.createDrop(def);
  return def;
}

async function enter(engine: SaleEngine, dropId: string, users: readonly string[]): Promise<void> {
  const answers = await Promise.all(
    users.map((userId) => engine.buy({ dropId, userId, qty: 1, idempotencyKey: key() })),
  );
  expect(answers.every((a) => a.kind === "entered")).toBe(true);
}

function drawnWhenDue(engine: SaleEngine, dropId: string) {
  return until(async () => {
    const a = await engine.allocateFairWindow(dropId);
    return a.allocated ? a : undefined;
  });
}

async function entryUsers(engine: SaleEngine, dropId: string, users: readonly string[]) {
  const byEntry = new Map<string, string>();
  for (const u of users) for (const e of await engine.fairEntriesOf(dropId, u)) byEntry.set(e.entryId, u);
  return byEntry;
}

describe("giveaway", () => {
  it("absent entrants never win; winners hold at price 0; the draw verifies with its skipped entries", async () => {
    const users = Array.from({ length: 10 }, (_, i) => `fan${i}`);
    const present = new Set(users.filter((_, i) => i % 2 === 0));
    const asked: { roomId: string; userIds: readonly string[] }[] = [];
    const eligibleAtDraw: EligibleAtDraw = async (roomId, userIds) => {
      asked.push({ roomId, userIds });
      return new Set(userIds.filter((u) => present.has(u)));
    };
    const engine = await engineWith({ eligibleAtDraw });
    const def = await giveaway(engine, 4_000, 3);
    await enter(engine, def.dropId, users);

    const drawn = await drawnWhenDue(engine, def.dropId);
    expect(drawn).toMatchObject({ allocatedNow: true, winners: 3, losers: 7, units: 3, stock: 3 });
    expect(asked).toHaveLength(1);
    expect(asked[0]?.roomId).toBe(def.roomId);
    expect(new Set(asked[0]?.userIds)).toEqual(new Set(users));

    const draw = await engine.fairDraw(def.dropId);
    if (!draw) throw new Error("expected a published draw");
    const byEntry = await entryUsers(engine, def.dropId, users);
    const userOf = (entryId: string) => byEntry.get(entryId) ?? "";
    const winners = draw.results.filter((r) => r.granted > 0).map((r) => userOf(r.entryId));
    expect(winners).toHaveLength(3);
    for (const w of winners) expect(present.has(w)).toBe(true);
    // Exactly the absent entrants are listed as skipped, and each of them lost.
    expect(new Set(draw.skipped.map(userOf))).toEqual(new Set(users.filter((u) => !present.has(u))));
    for (const u of users.filter((x) => !present.has(x)))
      expect(await engine.fairEntriesOf(def.dropId, u)).toEqual([
        expect.objectContaining({ status: "lost", granted: 0 }),
      ]);

    // The verifier recomputes it from the published list; the same walk over the present
    // entries alone gives the same winners; an altered skipped list does not verify.
    expect(verifyDraw(draw.seed, draw.seedHash, drawInputOf(draw), draw.results)).toEqual({ ok: true });
    const input = drawInputOf(draw);
    const presentOnly = allocate(draw.seed, {
      ...input,
      skipped: undefined,
      entries: input.entries.filter((e) => !draw.skipped.includes(e.entryId)),
    });
    expect(presentOnly.filter((r) => r.granted > 0).map((r) => r.entryId)).toEqual(
      draw.results.filter((r) => r.granted > 0).map((r) => r.entryId),
    );
    const tampered = { ...input, skipped: draw.skipped.slice(1) };
    const firstSkipped = draw.results.findIndex((r) => r.entryId === draw.skipped[0]);
    const winnersBefore = draw.results.slice(0, firstSkipped).filter((r) => r.granted > 0).length;
    if (winnersBefore < 3)
      expect(verifyDraw(draw.seed, draw.seedHash, tampered, draw.results).ok).toBe(false);
    expect(
      verifyDraw(draw.seed, draw.seedHash, { ...input, skipped: ["not-an-entry"] }, draw.results).ok,
    ).toBe(false);

    // Winners hold a unit at price 0, through the same outbox as every hold.
    const events = await eventsOf(engine, def.dropId);
    const placed = events.flatMap((e) => (e.type === "reservation.placed" ? [e] : []));
    expect(placed).toHaveLength(3);
    for (const p of placed) {
      expect(p).toMatchObject({ via: "draw", priceMinor: 0, qty: 1 });
      expect(await engine.reservation(p.reservation)).toMatchObject({ status: "held", qty: 1 });
    }
    const announced = events.find((e) => e.type === "fair.allocated");
    expect(
      announced?.type === "fair.allocated" ? announced.entries.filter((e) => e.skipped).length : -1,
    ).toBe(5);
    const status = await engine.status(def.dropId);
    expect(status).toMatchObject({ format: "giveaway", available: 0, held: 3 });
    invariant(status);

    // A giveaway takes no buy after its draw.
    await expect(
      engine.buy({ dropId: def.dropId, userId: "latecomer", qty: 1, idempotencyKey: key() }),
    ).rejects.toMatchObject({ code: "ENDED" });

    // An unclaimed prize goes to the next present entrant in drawn order, never a skipped one.
    const queued = draw.results
      .filter((r) => r.granted === 0 && !draw.skipped.includes(r.entryId))
      .map((r) => userOf(r.entryId));
    expect(queued).toHaveLength(2);
    for (const u of users.filter((x) => !present.has(x)))
      expect(await engine.waitlistOf(def.dropId, u)).toBeNull();
    await engine.release(placed[0]?.reservation ?? "");
    expect(await engine.waitlistOf(def.dropId, queued[0] ?? "")).toMatchObject({ status: "offered" });
    const after = await engine.status(def.dropId);
    expect(after).toMatchObject({ available: 0, held: 3 });
    invariant(after);
  });

  it("without an eligibility callback every entrant is eligible", async () => {
    const engine = await engineWith();
    const def = await giveaway(engine, 4_000, 2);
    const users = ["a", "b", "c"];
    await enter(engine, def.dropId, users);
    expect(await drawnWhenDue(engine, def.dropId)).toMatchObject({ winners: 2, losers: 1 });
    const draw = await engine.fairDraw(def.dropId);
    expect(draw?.skipped).toEqual([]);
    if (draw)
      expect(verifyDraw(draw.seed, draw.seedHash, drawInputOf(draw), draw.results)).toEqual({ ok: true });
  });

  it("a failing presence check delays the draw instead of drawing without it; raffles never ask", async () => {
    let failing = true;
    const asked: string[] = [];
    const engine = await engineWith({
      eligibleAtDraw: async (roomId, userIds) => {
        asked.push(roomId);
        if (failing) throw new Error("presence unavailable");
        return new Set(userIds.filter((u) => u !== "gone"));
      },
    });
    const def = await giveaway(engine, 4_000, 5);
    // A first-come drop's fair window closing at about the same time: the pass still draws it.
    const window = dropDefinition({ fairWindowMs: 4_000 });
    await engine.createDrop(window);
    await enter(engine, def.dropId, ["here", "gone"]);
    await enter(engine, window.dropId, ["buyer"]);
    const failure = await until(async () => {
      try {
        await engine.allocateDueFairWindows();
        return undefined;
      } catch (err) {
        return err;
      }
    });
    expect(failure).toMatchObject({
      code: "UNAVAILABLE",
      details: { reason: PRESENCE_UNAVAILABLE, roomId: def.roomId, cause: "presence unavailable" },
    });
    expect((await engine.status(def.dropId)).fair?.allocatedAt).toBeNull();
    // Passes go on failing for the giveaway, while they draw the window once it is due.
    const windowDrawnAt = await until(async () => {
      await engine.allocateDueFairWindows().catch(() => undefined);
      return (await engine.status(window.dropId)).fair?.allocatedAt ?? undefined;
    });
    expect(windowDrawnAt).toBeGreaterThan(0);
    failing = false;
    const passed = await until(async () => {
      const done = await engine.allocateDueFairWindows();
      return done.find((a) => a.dropId === def.dropId);
    });
    expect(passed).toMatchObject({ winners: 1, losers: 1 });
    const draw = await engine.fairDraw(def.dropId);
    expect(draw?.skipped).toHaveLength(1);

    // A plain raffle's draw does not ask about presence.
    asked.length = 0;
    const raffle = dropDefinition({
      raffleWindowMs: WINDOW_MS,
      startsAt: (await engine.serverTime()) - WINDOW_MS + 4_000,
    });
    await engine.createDrop(raffle);
    await enter(engine, raffle.dropId, ["gone"]);
    expect(await drawnWhenDue(engine, raffle.dropId)).toMatchObject({ winners: 1 });
    expect(asked).toEqual([]);
  });
});
