import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClient } from "../../core/index.ts";
import { saleEventSchema } from "../../protocol/index.ts";
import { SaleEngine } from "../../sale-engine/index.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, key } from "./fixtures.ts";

let redis: PrivateRedis;
let raw: RedisClient;
let engine: SaleEngine;

beforeAll(async () => {
  redis = await startPrivateRedis();
  raw = redis.client();
  engine = await SaleEngine.create({ redis: redis.client(), prefix: uniquePrefix("outbox") });
});

afterAll(async () => {
  await engine?.close();
  raw?.disconnect();
  await redis?.stop();
});

describe("the sale engine's outbox, read through its consumer API", () => {
  it("hands each hold's lifecycle out once as typed events, and ack empties the outbox", async () => {
    const def = dropDefinition({ initialStock: 5 });
    await engine.createDrop(def);
    const relay = engine.outbox("relay-a");
    const hold = await engine.reserve({ dropId: def.dropId, userId: "ann", qty: 2, idempotencyKey: key() });
    await engine.confirm(hold.reservationId);

    const entries = await relay.read(def.dropId, 100);
    const events = entries.flatMap((e) => (e.ok ? e.events : []));
    expect(entries.every((e) => e.ok)).toBe(true);
    expect(events.map((e) => [e.type, e.reservation, e.user, e.qty])).toEqual([
      ["reservation.placed", hold.reservationId, "ann", 2],
      ["reservation.confirmed", hold.reservationId, "ann", 2],
    ]);
    expect(events[0]).toMatchObject({ drop: def.dropId, room: def.roomId, deadline: hold.deadline });
    // Read once: a second read of the group has nothing new.
    expect(await relay.read(def.dropId, 100)).toEqual([]);

    await relay.ack(
      def.dropId,
      entries.map((e) => e.id),
    );
    expect(await raw.xlen(engine.keys.drop(def.dropId).outbox)).toBe(0);
    // Nothing pending any more: another consumer has nothing to claim.
    expect(await engine.outbox("relay-b").claimStale(def.dropId, 0, 100)).toEqual([]);
  });

  it("an entry read but never acked (its relay died) is claimed by another consumer", async () => {
    const def = dropDefinition({ initialStock: 5 });
    await engine.createDrop(def);
    const dead = engine.outbox("relay-dead");
    const hold = await engine.reserve({ dropId: def.dropId, userId: "bob", qty: 1, idempotencyKey: key() });
    const read = await dead.read(def.dropId, 100);
    expect(read).toHaveLength(1);

    const other = engine.outbox("relay-alive");
    // Younger than the idle bound: still the first reader's.
    expect(await other.claimStale(def.dropId, 60_000, 100)).toEqual([]);
    const claimed = await other.claimStale(def.dropId, 0, 100);
    expect(claimed.map((e) => e.id)).toEqual(read.map((e) => e.id));
    expect(claimed[0]).toMatchObject({
      ok: true,
      events: [{ type: "reservation.placed", reservation: hold.reservationId }],
    });
    await other.ack(
      def.dropId,
      claimed.map((e) => e.id),
    );
    expect(await raw.xlen(engine.keys.drop(def.dropId).outbox)).toBe(0);
  });

  it("an entry that is not an outbox entry comes back as a reason with its id, never a throw", async () => {
    const def = dropDefinition({ initialStock: 5 });
    await engine.createDrop(def);
    const relay = engine.outbox("relay-c");
    await relay.read(def.dropId, 1); // makes the group
    const stream = engine.keys.drop(def.dropId).outbox;
    const notJson = await raw.xadd(stream, "*", "e", "{not json");
    const noField = await raw.xadd(stream, "*", "x", "[]");
    const wrongShape = await raw.xadd(stream, "*", "e", JSON.stringify([{ type: "reservation.placed" }]));
    const entries = await relay.read(def.dropId, 100);
    expect(entries.map((e) => [e.id, e.ok])).toEqual([
      [notJson, false],
      [noField, false],
      [wrongShape, false],
    ]);
    expect(entries.map((e) => (e.ok ? "" : e.error))).toEqual([
      "not JSON",
      "no field e",
      expect.stringMatching(/^0\./),
    ]);
  });

  it("every event a drop's life writes to its log is one protocol's sale event schema accepts", async () => {
    const def = dropDefinition({ initialStock: 3, startsAt: Date.now() + 60_000 });
    await engine.createDrop(def);
    await engine.launch(def.dropId);
    await engine.restock(def.dropId, 2);
    const a = await engine.reserve({ dropId: def.dropId, userId: "cy", qty: 1, idempotencyKey: key() });
    const b = await engine.reserve({ dropId: def.dropId, userId: "di", qty: 1, idempotencyKey: key() });
    await engine.confirm(a.reservationId);
    await engine.release(b.reservationId);
    await engine.pause(def.dropId);
    await engine.end(def.dropId);
    const events = (await engine.readEvents(def.dropId, "0", 100)).flatMap((e) => e.events);
    expect(events.map((e) => e.type)).toEqual([
      "drop.created",
      "drop.state",
      "stock.restocked",
      "reservation.placed",
      "reservation.placed",
      "reservation.confirmed",
      "reservation.released",
      "drop.state",
      "drop.state",
    ]);
    const refused = events.filter((e) => !saleEventSchema.safeParse(e).success);
    expect(refused).toEqual([]);
  });
});
