import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotFoundError, RejectedError, ValidationError } from "../../core/index.ts";
import { SaleEngine } from "../../sale-engine/index.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, eventsOf, invariant, key, until } from "./fixtures.ts";

let redis: PrivateRedis;
let engine: SaleEngine;
let prefix: string;

beforeAll(async () => {
  redis = await startPrivateRedis();
  prefix = uniquePrefix("wait");
  engine = await SaleEngine.create({ redis: redis.client(), prefix });
});
afterAll(async () => {
  await engine?.close();
  await redis?.stop();
});

/** A first-come drop of `stock` units, sold out to `owner` (limit = stock). */
async function soldOutDrop(stock: number, overrides: Parameters<typeof dropDefinition>[0] = {}) {
  const def = dropDefinition({ initialStock: stock, perUserLimit: stock, ...overrides });
  await engine.createDrop(def);
  const hold = await engine.reserve({
    dropId: def.dropId,
    userId: "owner",
    qty: stock,
    idempotencyKey: key(),
  });
  return { def, hold };
}

describe("waitlist", () => {
  it("a sold-out drop takes tickets; a released hold goes to them in order as new holds", async () => {
    const { def, hold } = await soldOutDrop(2);
    expect((await engine.status(def.dropId)).waitlist).toEqual({ length: 0, served: 0 });
    const k2 = key();
    const t2 = await engine.joinWaitlist({ dropId: def.dropId, userId: "u2", qty: 1, idempotencyKey: k2 });
    expect(t2).toEqual({ dropId: def.dropId, ticket: 1, position: 1, replayed: false });
    const t3 = await engine.joinWaitlist({ dropId: def.dropId, userId: "u3", qty: 2, idempotencyKey: key() });
    expect(t3).toMatchObject({ ticket: 2, position: 2, replayed: false });
    // One ticket per user: again, with any key, answers it.
    expect(
      await engine.joinWaitlist({ dropId: def.dropId, userId: "u2", qty: 1, idempotencyKey: key() }),
    ).toEqual({ ...t2, replayed: true });
    expect(await engine.waitlistOf(def.dropId, "u3")).toEqual({ ticket: 2, position: 2, status: "waiting" });
    expect(await engine.waitlistOf(def.dropId, "nobody")).toBeNull();
    expect((await engine.status(def.dropId)).waitlist).toEqual({ length: 2, served: 0 });

    await engine.release(hold.reservationId);
    const s = await engine.status(def.dropId);
    // u2 wanted 1, u3 wanted 2 and gets the one unit left: nothing went back on sale.
    expect(s).toMatchObject({ available: 0, held: 2, sold: 0, state: "sold_out" });
    expect(s.waitlist).toEqual({ length: 2, served: 2 });
    invariant(s);
    const placed = (await eventsOf(engine, def.dropId)).filter(
      (e) => e.type === "reservation.placed" && e.via === "waitlist",
    );
    expect(placed.map((e) => e.type === "reservation.placed" && [e.user, e.qty])).toEqual([
      ["u2", 1],
      ["u3", 1],
    ]);
    const offered = await engine.waitlistOf(def.dropId, "u2");
    expect(offered).toEqual({ ticket: 1, position: 0, status: "offered" });
    expect(await engine.unitsOfUser(def.dropId, "u2")).toBe(1);
    // The join key replays the hold the ticket got (a buy retry finds it).
    const replay = await engine.reserve({ dropId: def.dropId, userId: "u2", qty: 1, idempotencyKey: k2 });
    const u2Hold = placed[0]?.type === "reservation.placed" ? placed[0] : undefined;
    expect(replay).toMatchObject({ reservationId: u2Hold?.reservation, replayed: true });
    expect(u2Hold?.deadline).toBe((u2Hold?.at ?? 0) + def.holdMs);
    // The hand-off holds are ordinary holds: they pay, and they go through the outbox.
    await engine.confirm(u2Hold?.reservation ?? "");
    const outbox = await redis.client().xrange(engine.keys.drop(def.dropId).outbox, "-", "+");
    expect(outbox.some(([, f]) => (f[1] ?? "").includes('"via":"waitlist"'))).toBe(true);
    invariant(await engine.status(def.dropId));
  });

  it("an expired hold goes to the next ticket; the queue exhausted, stock goes back on sale", async () => {
    const { def } = await soldOutDrop(1, { holdMs: 1_000 });
    await engine.joinWaitlist({ dropId: def.dropId, userId: "w1", qty: 1, idempotencyKey: key() });
    // owner's hold expires -> w1; w1's hold (1 s too) expires -> nobody waits: on sale.
    const handed = await until(async () => {
      await engine.expireDue(def.dropId);
      const offer = await engine.waitlistOf(def.dropId, "w1");
      return offer?.status === "offered" ? offer : undefined;
    });
    expect(handed).toMatchObject({ ticket: 1 });
    expect(await engine.status(def.dropId)).toMatchObject({ available: 0, held: 1 });
    const back = await until(async () => {
      await engine.expireDue(def.dropId);
      const s = await engine.status(def.dropId);
      return s.available === 1 ? s : undefined;
    });
    expect(back).toMatchObject({ held: 0, state: "live", waitlist: { length: 1, served: 1 } });
    const reasons = (await eventsOf(engine, def.dropId)).flatMap((e) =>
      e.type === "reservation.released" ? [`${e.user}:${e.reason}`] : [],
    );
    expect(reasons).toEqual(["owner:expired", "w1:expired"]);
  });

  it("a user at the limit when their turn comes is skipped; the next ticket gets the unit", async () => {
    const def = dropDefinition({ initialStock: 3, perUserLimit: 2 });
    await engine.createDrop(def);
    const owner = await engine.reserve({
      dropId: def.dropId,
      userId: "owner",
      qty: 2,
      idempotencyKey: key(),
    });
    const other = await engine.reserve({
      dropId: def.dropId,
      userId: "other",
      qty: 1,
      idempotencyKey: key(),
    });
    await engine.joinWaitlist({ dropId: def.dropId, userId: "full", qty: 2, idempotencyKey: key() });
    await engine.joinWaitlist({ dropId: def.dropId, userId: "next", qty: 1, idempotencyKey: key() });
    // "full" reaches the limit meanwhile: a release while paused hands nothing off, and after the
    // resume those units sell first come.
    await engine.pause(def.dropId);
    await engine.release(owner.reservationId);
    await engine.resume(def.dropId);
    await engine.reserve({ dropId: def.dropId, userId: "full", qty: 2, idempotencyKey: key() });
    await engine.release(other.reservationId);
    expect(await engine.waitlistOf(def.dropId, "full")).toMatchObject({ status: "skipped", position: 0 });
    expect(await engine.waitlistOf(def.dropId, "next")).toMatchObject({ status: "offered" });
    const s = await engine.status(def.dropId);
    expect(s).toMatchObject({ available: 0, held: 3, waitlist: { length: 2, served: 2 } });
    invariant(s);
    expect(await engine.unitsOfUser(def.dropId, "full")).toBe(2);
  });

  it("a restock serves the line before it goes on sale", async () => {
    const { def } = await soldOutDrop(1);
    await engine.joinWaitlist({ dropId: def.dropId, userId: "first", qty: 1, idempotencyKey: key() });
    await engine.joinWaitlist({ dropId: def.dropId, userId: "second", qty: 1, idempotencyKey: key() });
    const s = await engine.restock(def.dropId, 3);
    // Two units to the two tickets (holds via waitlist), one on sale.
    expect(s).toMatchObject({ available: 1, held: 3, waitlist: { length: 2, served: 2 } });
    invariant(s);
    expect(await engine.waitlistOf(def.dropId, "first")).toMatchObject({ status: "offered" });
    expect(await engine.waitlistOf(def.dropId, "second")).toMatchObject({ status: "offered" });
    const log = (await engine.readEvents(def.dropId, "0", 1_000)).flatMap((e) => e.events);
    const last = log.slice(-3);
    expect(last.map((e) => e.type)).toEqual(["stock.restocked", "reservation.placed", "reservation.placed"]);
    expect(last.slice(1).map((e) => (e.type === "reservation.placed" ? [e.user, e.via] : []))).toEqual([
      ["first", "waitlist"],
      ["second", "waitlist"],
    ]);
    // The order pipeline hears the new holds: reservation events only, in one outbox entry.
    const outbox = await redis.client().xrevrange(engine.keys.drop(def.dropId).outbox, "+", "-", "COUNT", 1);
    const payload = JSON.parse((outbox[0]?.[1] ?? [])[1] ?? "[]") as { type: string; user: string }[];
    expect(payload.map((e) => [e.type, e.user])).toEqual([
      ["reservation.placed", "first"],
      ["reservation.placed", "second"],
    ]);
  });

  it("refuses with typed errors: not sold out, switched off, limit, full, bad input", async () => {
    const open = dropDefinition({ initialStock: 3 });
    await engine.createDrop(open);
    const join = (dropId: string, userId: string, qty = 1) =>
      engine.joinWaitlist({ dropId, userId, qty, idempotencyKey: key() });
    await expect(join(open.dropId, "a")).rejects.toMatchObject({ code: "WAITLIST_CLOSED" });
    await expect(join(open.dropId, "a")).rejects.toBeInstanceOf(RejectedError);

    const off = await soldOutDrop(1, { waitlist: false });
    expect((await engine.status(off.def.dropId)).waitlist).toBeUndefined();
    await expect(join(off.def.dropId, "a")).rejects.toMatchObject({ code: "WAITLIST_CLOSED" });
    // Without a waitlist a release goes back on sale, as always.
    await engine.release(off.hold.reservationId);
    expect(await engine.status(off.def.dropId)).toMatchObject({ available: 1, held: 0 });

    const { def } = await soldOutDrop(2);
    await expect(join(def.dropId, "owner")).rejects.toMatchObject({ code: "LIMIT_EXCEEDED" });
    await expect(join(def.dropId, "a", 3)).rejects.toBeInstanceOf(ValidationError);
    await expect(join(def.dropId, "bad|user")).rejects.toBeInstanceOf(ValidationError);
    await expect(join("no-such-drop", "a")).rejects.toBeInstanceOf(NotFoundError);
    await expect(engine.waitlistOf(def.dropId, "bad|user")).rejects.toBeInstanceOf(ValidationError);
    await expect(engine.waitlistOf("bad drop", "a")).rejects.toBeInstanceOf(ValidationError);
    await expect(engine.fairEntriesOf(def.dropId, "")).rejects.toBeInstanceOf(ValidationError);
    expect(await engine.fairEntriesOf(def.dropId, "owner")).toEqual([]);

    const small = await SaleEngine.create({ redis: redis.client(), prefix, waitlistMax: 1 });
    await small.joinWaitlist({ dropId: def.dropId, userId: "first", qty: 1, idempotencyKey: key() });
    await expect(
      small.joinWaitlist({ dropId: def.dropId, userId: "second", qty: 1, idempotencyKey: key() }),
    ).rejects.toMatchObject({ code: "WAITLIST_FULL" });
    await expect(SaleEngine.create({ redis: redis.client(), prefix, waitlistMax: 0 })).rejects.toBeInstanceOf(
      ValidationError,
    );
    // Nothing a refusal touched changed the drop.
    expect(await engine.status(def.dropId)).toMatchObject({ waitlist: { length: 1, served: 0 }, held: 2 });

    await engine.end(def.dropId);
    await expect(join(def.dropId, "late")).rejects.toMatchObject({ code: "WAITLIST_CLOSED" });
  });

  it("an ended or paused drop hands nothing off: the units go back as before", async () => {
    const { def, hold } = await soldOutDrop(1);
    await engine.joinWaitlist({ dropId: def.dropId, userId: "w", qty: 1, idempotencyKey: key() });
    await engine.pause(def.dropId);
    await engine.release(hold.reservationId);
    expect(await engine.status(def.dropId)).toMatchObject({ available: 1, held: 0, state: "paused" });
    expect(await engine.waitlistOf(def.dropId, "w")).toMatchObject({ status: "waiting", position: 1 });
  });

  it("a waitlisted user erased is withdrawn: the hand-off skips them", async () => {
    const { eraseUserSaleState } = await import("../../sale-engine/index.ts");
    const { def, hold } = await soldOutDrop(1);
    await engine.joinWaitlist({ dropId: def.dropId, userId: "gone", qty: 1, idempotencyKey: key() });
    await engine.joinWaitlist({ dropId: def.dropId, userId: "stays", qty: 1, idempotencyKey: key() });
    await eraseUserSaleState(engine, "gone", "anon-gone");
    expect(await engine.waitlistOf(def.dropId, "gone")).toBeNull();
    await engine.release(hold.reservationId);
    expect(await engine.waitlistOf(def.dropId, "anon-gone")).toMatchObject({ status: "skipped" });
    expect(await engine.waitlistOf(def.dropId, "stays")).toMatchObject({ status: "offered" });
  });
});
