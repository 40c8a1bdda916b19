import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConflictError, NotFoundError, RejectedError } from "../../core/index.ts";
import { parseEventMessage, SaleEngine, type SaleEvent } from "../../sale-engine/index.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, key } from "./fixtures.ts";

let redis: PrivateRedis;
let engine: SaleEngine;

beforeAll(async () => {
  redis = await startPrivateRedis();
  engine = await SaleEngine.create({ redis: redis.client(), prefix: uniquePrefix("life") });
});
afterAll(async () => {
  await engine?.close();
  await redis?.stop();
});

/** The per-attempt fields of a drop's state hash (`i:<user>|<key>`). */
async function recordedFields(dropId: string): Promise<string[]> {
  const fields = await redis.client().hkeys(engine.keys.drop(dropId).state);
  return fields.filter((f) => f.startsWith("i:"));
}

function invariant(s: { available: number; held: number; sold: number; initial: number; restocked: number }) {
  expect(s.available + s.held + s.sold).toBe(s.initial + s.restocked);
}

describe("drop lifecycle", () => {
  it("createDrop() is a no-op for identical parameters and refuses conflicting ones", async () => {
    const def = dropDefinition();
    const first = await engine.createDrop(def);
    expect(first.created).toBe(true);
    expect(first.status).toMatchObject({
      state: "live",
      available: 10,
      held: 0,
      sold: 0,
      initial: 10,
      restocked: 0,
    });
    const again = await engine.createDrop(def);
    expect(again.created).toBe(false);
    expect(again.status.startsAt).toBe(first.status.startsAt);
    await expect(engine.createDrop({ ...def, initialStock: 11 })).rejects.toMatchObject({
      code: "DROP_CONFLICT",
    });
    await expect(engine.createDrop({ ...def, initialStock: 11 })).rejects.toBeInstanceOf(ConflictError);
  });

  it("reserve() places a hold with a deadline and a retry with the same key returns the original answer", async () => {
    const def = dropDefinition({ holdMs: 30_000 });
    await engine.createDrop(def);
    const k = key();
    const r = await engine.reserve({ dropId: def.dropId, userId: "u1", qty: 2, idempotencyKey: k });
    expect(r.replayed).toBe(false);
    expect(r.available).toBe(8);
    expect(r.reservationId).toBe(`${def.dropId}.1`);
    const status = await engine.status(def.dropId);
    expect(r.deadline - status.serverTime).toBeGreaterThan(29_000);
    expect(r.deadline - status.serverTime).toBeLessThanOrEqual(30_000);

    const retry = await engine.reserve({ dropId: def.dropId, userId: "u1", qty: 2, idempotencyKey: k });
    expect(retry).toEqual({ ...r, replayed: true });
    await engine.confirm(r.reservationId);
    expect(await engine.reserve({ dropId: def.dropId, userId: "u1", qty: 2, idempotencyKey: k })).toEqual({
      ...r,
      replayed: true,
    });
    await expect(
      engine.reserve({ dropId: def.dropId, userId: "u1", qty: 1, idempotencyKey: k }),
    ).rejects.toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
    });
    const after = await engine.status(def.dropId);
    expect(after).toMatchObject({ available: 8, held: 0, sold: 2 });
    invariant(after);
  });

  it("the per-user limit counts held and sold units", async () => {
    const def = dropDefinition({ perUserLimit: 3 });
    await engine.createDrop(def);
    const a = await engine.reserve({ dropId: def.dropId, userId: "u1", qty: 2, idempotencyKey: key() });
    await engine.confirm(a.reservationId);
    await engine.reserve({ dropId: def.dropId, userId: "u1", qty: 1, idempotencyKey: key() });
    await expect(
      engine.reserve({ dropId: def.dropId, userId: "u1", qty: 1, idempotencyKey: key() }),
    ).rejects.toMatchObject({
      code: "LIMIT_EXCEEDED",
    });
    expect(await engine.unitsOfUser(def.dropId, "u1")).toBe(3);
    // Another user is not affected.
    await expect(
      engine.reserve({ dropId: def.dropId, userId: "u2", qty: 3, idempotencyKey: key() }),
    ).resolves.toMatchObject({
      available: 4,
    });
  });

  it("a refusal is not recorded: the same key is evaluated afresh once stock returns, and the hold it gets is replayed", async () => {
    const def = dropDefinition({ initialStock: 1, perUserLimit: 2 });
    await engine.createDrop(def);
    const k = key();
    const buy = { dropId: def.dropId, userId: "u1", qty: 2, idempotencyKey: k };
    await expect(engine.reserve(buy)).rejects.toMatchObject({
      code: "INSUFFICIENT_STOCK",
      details: { replayed: false },
    });
    expect(await recordedFields(def.dropId)).toEqual([]);
    await engine.restock(def.dropId, 5);
    const held = await engine.reserve(buy);
    expect(held).toMatchObject({ available: 4, replayed: false });
    expect(await engine.reserve(buy)).toEqual({ ...held, replayed: true });
    // A quantity other than the hold's is a reused key; a new key is a new attempt.
    await expect(engine.reserve({ ...buy, qty: 1 })).rejects.toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
    });
    await expect(engine.reserve({ ...buy, idempotencyKey: key() })).rejects.toMatchObject({
      code: "LIMIT_EXCEEDED",
    });
  });

  it("a buy refused NOT_STARTED gets in with the same key after T0", async () => {
    const now = await engine.serverTime();
    const def = dropDefinition({ startsAt: now + 1_500 });
    await engine.createDrop(def);
    const buy = { dropId: def.dropId, userId: "u1", qty: 1, idempotencyKey: key() };
    await expect(engine.reserve(buy)).rejects.toMatchObject({
      code: "NOT_STARTED",
      details: { replayed: false },
    });
    await expect
      .poll(async () => (await engine.status(def.dropId)).state, { timeout: 10_000, interval: 50 })
      .toBe("live");
    const held = await engine.reserve(buy);
    expect(held).toMatchObject({ reservationId: `${def.dropId}.1`, replayed: false });
    expect(await engine.reserve(buy)).toEqual({ ...held, replayed: true });
    expect(await engine.status(def.dropId)).toMatchObject({ held: 1, available: 9 });
  });

  it("a buy refused PAUSED gets in with the same key after resume; SOLD_OUT and LIMIT_EXCEEDED retries too once units return", async () => {
    const def = dropDefinition({ initialStock: 2, perUserLimit: 1 });
    await engine.createDrop(def);
    await engine.pause(def.dropId);
    const paused = { dropId: def.dropId, userId: "u1", qty: 1, idempotencyKey: key() };
    await expect(engine.reserve(paused)).rejects.toMatchObject({ code: "PAUSED" });
    await engine.resume(def.dropId);
    const held = await engine.reserve(paused);
    expect(held.replayed).toBe(false);

    const limited = { ...paused, idempotencyKey: key() };
    await expect(engine.reserve(limited)).rejects.toMatchObject({ code: "LIMIT_EXCEEDED" });
    const other = await engine.reserve({ dropId: def.dropId, userId: "u2", qty: 1, idempotencyKey: key() });
    const soldOut = { dropId: def.dropId, userId: "u3", qty: 1, idempotencyKey: key() };
    await expect(engine.reserve(soldOut)).rejects.toMatchObject({ code: "SOLD_OUT" });
    await engine.release(other.reservationId);
    expect(await engine.reserve(soldOut)).toMatchObject({ userId: "u3", replayed: false });
    await engine.release(held.reservationId);
    expect(await engine.reserve(limited)).toMatchObject({ userId: "u1", replayed: false });
    // The released hold is still the answer to its own key: never a second hold for it.
    expect(await engine.reserve(paused)).toEqual({ ...held, replayed: true });
    const s = await engine.status(def.dropId);
    expect(s).toMatchObject({ held: 2, available: 0, sold: 0 });
    invariant(s);
    expect(await engine.unitsOfUser(def.dropId, "u1")).toBe(1);
  });

  it("a refusal recorded by an earlier engine version is ignored: the key is evaluated afresh", async () => {
    const def = dropDefinition();
    await engine.createDrop(def);
    const k = key();
    await redis.client().hset(engine.keys.drop(def.dropId).state, `i:u1|${k}`, "2|0|SOLD_OUT");
    const held = await engine.reserve({ dropId: def.dropId, userId: "u1", qty: 1, idempotencyKey: k });
    expect(held).toMatchObject({ reservationId: `${def.dropId}.1`, replayed: false });
    expect(await engine.reserve({ dropId: def.dropId, userId: "u1", qty: 1, idempotencyKey: k })).toEqual({
      ...held,
      replayed: true,
    });
  });

  it("ENDED refusals write nothing", async () => {
    const def = dropDefinition();
    await engine.createDrop(def);
    await engine.end(def.dropId);
    const fields = await redis.client().hlen(engine.keys.drop(def.dropId).state);
    for (let i = 0; i < 3; i++)
      await expect(
        engine.reserve({ dropId: def.dropId, userId: `u${i}`, qty: 1, idempotencyKey: key() }),
      ).rejects.toMatchObject({ code: "ENDED" });
    expect(await redis.client().hlen(engine.keys.drop(def.dropId).state)).toBe(fields);
  });

  it("sold out, then a release makes the drop live again", async () => {
    const def = dropDefinition({ initialStock: 2 });
    await engine.createDrop(def);
    const r = await engine.reserve({ dropId: def.dropId, userId: "u1", qty: 2, idempotencyKey: key() });
    expect((await engine.status(def.dropId)).state).toBe("sold_out");
    await expect(
      engine.reserve({ dropId: def.dropId, userId: "u2", qty: 1, idempotencyKey: key() }),
    ).rejects.toMatchObject({
      code: "SOLD_OUT",
    });
    expect(await engine.release(r.reservationId)).toEqual({
      reservationId: r.reservationId,
      status: "released",
      replayed: false,
    });
    expect(await engine.release(r.reservationId)).toMatchObject({ status: "released", replayed: true });
    const s = await engine.status(def.dropId);
    expect(s).toMatchObject({ state: "live", available: 2, held: 0 });
    expect(await engine.unitsOfUser(def.dropId, "u1")).toBe(0);
  });

  it("confirm after release and release after confirm are refused; both are idempotent", async () => {
    const def = dropDefinition();
    await engine.createDrop(def);
    const a = await engine.reserve({ dropId: def.dropId, userId: "u1", qty: 1, idempotencyKey: key() });
    const b = await engine.reserve({ dropId: def.dropId, userId: "u2", qty: 1, idempotencyKey: key() });
    await engine.release(a.reservationId);
    await expect(engine.confirm(a.reservationId)).rejects.toMatchObject({
      code: "ALREADY_RELEASED",
      details: { status: "released" },
    });
    expect(await engine.confirm(b.reservationId)).toMatchObject({ status: "confirmed", replayed: false });
    expect(await engine.confirm(b.reservationId)).toMatchObject({ status: "confirmed", replayed: true });
    await expect(engine.release(b.reservationId)).rejects.toMatchObject({ code: "ALREADY_CONFIRMED" });
    const s = await engine.status(def.dropId);
    expect(s).toMatchObject({ available: 9, held: 0, sold: 1 });
    invariant(s);
  });

  it("holds expire at their deadline and stock returns; confirming an overdue hold is refused", async () => {
    const def = dropDefinition({ holdMs: 1_000, initialStock: 3 });
    await engine.createDrop(def);
    const a = await engine.reserve({ dropId: def.dropId, userId: "u1", qty: 2, idempotencyKey: key() });
    const b = await engine.reserve({ dropId: def.dropId, userId: "u2", qty: 1, idempotencyKey: key() });
    expect((await engine.expireDue(def.dropId)).expired).toEqual([]);
    await new Promise((r) => setTimeout(r, 1_100));
    await expect(engine.confirm(b.reservationId)).rejects.toMatchObject({ code: "HOLD_EXPIRED" });
    const swept = await engine.expireDue(def.dropId);
    expect(swept.expired).toEqual([a.reservationId]);
    expect(swept.serverTime).toBeGreaterThanOrEqual(a.deadline);
    expect((await engine.reservation(a.reservationId)).status).toBe("expired");
    expect((await engine.reservation(b.reservationId)).status).toBe("expired");
    await expect(engine.confirm(a.reservationId)).rejects.toMatchObject({
      code: "ALREADY_RELEASED",
      details: { status: "expired" },
    });
    expect(await engine.release(a.reservationId)).toMatchObject({ status: "expired", replayed: true });
    const s = await engine.status(def.dropId);
    expect(s).toMatchObject({ state: "live", available: 3, held: 0, sold: 0 });
    expect(await engine.unitsOfUser(def.dropId, "u1")).toBe(0);
  });

  it("expireAllDue() sweeps every drop in batches", async () => {
    const defs = [
      dropDefinition({ holdMs: 1_000, initialStock: 5, perUserLimit: 5 }),
      dropDefinition({ holdMs: 1_000 }),
    ];
    for (const d of defs) await engine.createDrop(d);
    for (let i = 0; i < 5; i++) {
      await engine.reserve({ dropId: defs[0]!.dropId, userId: `u${i}`, qty: 1, idempotencyKey: key() });
    }
    await engine.reserve({ dropId: defs[1]!.dropId, userId: "u1", qty: 1, idempotencyKey: key() });
    await new Promise((r) => setTimeout(r, 1_100));
    const results = await engine.expireAllDue(2);
    const expired = results.flatMap((r) => r.expired);
    expect(expired.filter((id) => id.startsWith(defs[0]!.dropId))).toHaveLength(5);
    expect(expired.filter((id) => id.startsWith(defs[1]!.dropId))).toHaveLength(1);
    for (const d of defs) expect((await engine.status(d.dropId)).held).toBe(0);
  });

  it("pause, resume and end control buying; end is final", async () => {
    const def = dropDefinition();
    await engine.createDrop(def);
    expect(await engine.pause(def.dropId)).toEqual({ dropId: def.dropId, state: "paused", changed: true });
    expect(await engine.pause(def.dropId)).toMatchObject({ changed: false, state: "paused" });
    await expect(
      engine.reserve({ dropId: def.dropId, userId: "u1", qty: 1, idempotencyKey: key() }),
    ).rejects.toMatchObject({
      code: "PAUSED",
    });
    expect(await engine.resume(def.dropId)).toMatchObject({ state: "live", changed: true });
    await engine.reserve({ dropId: def.dropId, userId: "u1", qty: 1, idempotencyKey: key() });
    expect(await engine.end(def.dropId)).toMatchObject({ state: "ended", changed: true });
    expect(await engine.end(def.dropId)).toMatchObject({ state: "ended", changed: false });
    await expect(engine.resume(def.dropId)).rejects.toMatchObject({ code: "ENDED" });
    await expect(engine.restock(def.dropId, 1)).rejects.toMatchObject({ code: "ENDED" });
    await expect(
      engine.reserve({ dropId: def.dropId, userId: "u2", qty: 1, idempotencyKey: key() }),
    ).rejects.toBeInstanceOf(RejectedError);
  });

  it("launch opens a scheduled drop now on the server clock; on a live drop it changes nothing", async () => {
    const now = await engine.serverTime();
    const def = dropDefinition({ startsAt: now + 3_600_000 });
    await engine.createDrop(def);
    await expect(
      engine.reserve({ dropId: def.dropId, userId: "u1", qty: 1, idempotencyKey: key() }),
    ).rejects.toMatchObject({
      code: "NOT_STARTED",
    });
    expect(await engine.launch(def.dropId)).toMatchObject({ state: "live", changed: true });
    const status = await engine.status(def.dropId);
    expect(status.startsAt).toBeLessThanOrEqual(status.serverTime);
    expect(status.startsAt).toBeGreaterThanOrEqual(now);
    expect(await engine.launch(def.dropId)).toMatchObject({ state: "live", changed: false });
    await engine.reserve({ dropId: def.dropId, userId: "u1", qty: 1, idempotencyKey: key() });
    await engine.pause(def.dropId);
    expect(await engine.launch(def.dropId)).toMatchObject({ state: "live", changed: true });
    await engine.end(def.dropId);
    await expect(engine.launch(def.dropId)).rejects.toMatchObject({ code: "ENDED" });
  });

  it("the window is enforced on the server clock: not started, then ended", async () => {
    const now = (await engine.status((await engine.createDrop(dropDefinition())).status.dropId)).serverTime;
    // Seconds apart, and waits measured on the server clock: a busy machine cannot blur them.
    const def = dropDefinition({ startsAt: now + 3_000, endsAt: now + 6_000 });
    await engine.createDrop(def);
    expect((await engine.status(def.dropId)).state).toBe("scheduled");
    await expect(
      engine.reserve({ dropId: def.dropId, userId: "u1", qty: 1, idempotencyKey: key() }),
    ).rejects.toMatchObject({
      code: "NOT_STARTED",
    });
    const untilServerTime = async (t: number) => {
      while ((await engine.serverTime()) < t) await new Promise((r) => setTimeout(r, 50));
    };
    await untilServerTime(def.startsAt! + 10);
    await expect(
      engine.reserve({ dropId: def.dropId, userId: "u1", qty: 1, idempotencyKey: key() }),
    ).resolves.toMatchObject({
      available: 9,
    });
    await untilServerTime(def.endsAt! + 10);
    expect((await engine.status(def.dropId)).state).toBe("ended");
    await expect(
      engine.reserve({ dropId: def.dropId, userId: "u1", qty: 1, idempotencyKey: key() }),
    ).rejects.toMatchObject({
      code: "ENDED",
    });
  });

  it("restock adds to available and restocked, and is bounded", async () => {
    const def = dropDefinition({ initialStock: 0 });
    await engine.createDrop(def);
    expect((await engine.status(def.dropId)).state).toBe("sold_out");
    const s = await engine.restock(def.dropId, 4);
    expect(s).toMatchObject({ available: 4, restocked: 4, initial: 0, state: "live" });
    await expect(engine.restock(def.dropId, 10_000_000)).resolves.toMatchObject({ restocked: 10_000_004 });
    invariant(await engine.status(def.dropId));
  });

  it("unknown drops and reservations are NotFound", async () => {
    await expect(engine.status("nope")).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      engine.reserve({ dropId: "nope", userId: "u1", qty: 1, idempotencyKey: key() }),
    ).rejects.toMatchObject({
      code: "DROP_NOT_FOUND",
    });
    await expect(engine.confirm("nope.1")).rejects.toMatchObject({ code: "RESERVATION_NOT_FOUND" });
    await expect(engine.release("nope.1")).rejects.toMatchObject({ code: "RESERVATION_NOT_FOUND" });
    await expect(engine.restock("nope", 1)).rejects.toMatchObject({ code: "DROP_NOT_FOUND" });
    await expect(engine.pause("nope")).rejects.toMatchObject({ code: "DROP_NOT_FOUND" });
    await expect(engine.expireDue("nope")).rejects.toMatchObject({ code: "DROP_NOT_FOUND" });
  });
});

describe("events", () => {
  it("every change is published on the drop's shard channel with a gap-free version, reservations also to the outbox", async () => {
    const def = dropDefinition({ initialStock: 3 });
    const events: SaleEvent[] = [];
    const sub = redis.client();
    const channel = engine.keys.drop(def.dropId).events;
    await sub.ssubscribe(channel);
    const messages: SaleEvent[][] = [];
    sub.on("smessage", (_ch: string, message: string) => {
      messages.push(parseEventMessage(message));
      events.push(...parseEventMessage(message));
    });

    await engine.createDrop(def);
    const a = await engine.reserve({ dropId: def.dropId, userId: "u1", qty: 1, idempotencyKey: key() });
    const b = await engine.reserve({ dropId: def.dropId, userId: "u2", qty: 2, idempotencyKey: key() });
    await engine.confirm(a.reservationId);
    await engine.release(b.reservationId);
    await engine.restock(def.dropId, 1);
    await engine.pause(def.dropId);
    await engine.end(def.dropId);

    await expect.poll(() => events.length).toBe(8);
    expect(events.map((e) => e.type)).toEqual([
      "drop.created",
      "reservation.placed",
      "reservation.placed",
      "reservation.confirmed",
      "reservation.released",
      "stock.restocked",
      "drop.state",
      "drop.state",
    ]);
    expect(events.map((e) => e.v)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // Each call above ran alone, so each message holds one event.
    expect(messages.map((m) => m.length)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(events[2]).toMatchObject({
      drop: def.dropId,
      room: "room-1",
      state: "sold_out",
      available: 0,
      held: 3,
      sold: 0,
    });
    expect(events[4]).toMatchObject({ reason: "released", available: 2, held: 0, sold: 1, state: "live" });
    expect(events[7]).toMatchObject({ state: "ended", action: "end" });

    const outbox = await redis.client().xrange(engine.keys.drop(def.dropId).outbox, "-", "+");
    expect(outbox.flatMap(([, fields]) => parseEventMessage(fields[1] ?? "[]").map((e) => e.type))).toEqual([
      "reservation.placed",
      "reservation.placed",
      "reservation.confirmed",
      "reservation.released",
    ]);
  });

  it("buys arriving together are placed by one batch call and published as one message, versions still gap-free", async () => {
    const def = dropDefinition({ initialStock: 5, perUserLimit: 2 });
    const sub = redis.client();
    const messages: SaleEvent[][] = [];
    await sub.ssubscribe(engine.keys.drop(def.dropId).events);
    sub.on("smessage", (_ch: string, message: string) => messages.push(parseEventMessage(message)));
    await engine.createDrop(def);
    const buyers = ["a", "b", "c", "d"];
    const results = await Promise.allSettled(
      buyers.map((u) => engine.reserve({ dropId: def.dropId, userId: u, qty: 2, idempotencyKey: key() })),
    );
    // Arrival order decides: a and b get 2 each; c and d find 1 unit left, too few for 2.
    expect(
      results.map((r) => (r.status === "fulfilled" ? "ok" : (r.reason as { code: string }).code)),
    ).toEqual(["ok", "ok", "INSUFFICIENT_STOCK", "INSUFFICIENT_STOCK"]);
    await expect.poll(() => messages.length).toBe(2);
    expect(messages[1]!.map((e) => [e.type, e.v, e.available])).toEqual([
      ["reservation.placed", 2, 3],
      ["reservation.placed", 3, 1],
    ]);
    const outbox = await redis.client().xrange(engine.keys.drop(def.dropId).outbox, "-", "+");
    expect(outbox).toHaveLength(1);
  });
});
