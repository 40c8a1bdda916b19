import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ValidationError } from "../../core/index.ts";
import { SaleEngine } from "../../sale-engine/index.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, eventsOf, invariant, key } from "./fixtures.ts";

let redis: PrivateRedis;
let engine: SaleEngine;

beforeAll(async () => {
  redis = await startPrivateRedis();
  engine = await SaleEngine.create({ redis: redis.client(), prefix: uniquePrefix("buy-now") });
});
afterAll(async () => {
  await engine?.close();
  await redis?.stop();
});

describe("drop format", () => {
  it("a drop created without a format is a `drop`; a format is stored, answered and announced", async () => {
    const plain = await engine.createDrop(dropDefinition());
    expect(plain.status.format).toBe("drop");
    expect(plain.status).not.toHaveProperty("pinned");
    const created = (await eventsOf(engine, plain.status.dropId)).find((e) => e.type === "drop.created");
    expect(created).not.toHaveProperty("format");

    const auction = await engine.createDrop(dropDefinition({ format: "auction", initialStock: 1 }));
    expect(auction.status.format).toBe("auction");
    expect(await redis.client().hget(engine.keys.drop(auction.status.dropId).state, "fmt")).toBe("auction");
    const announced = (await eventsOf(engine, auction.status.dropId)).find((e) => e.type === "drop.created");
    expect(announced).toMatchObject({ format: "auction" });
  });

  it("the format is part of the definition: the same id with another format conflicts", async () => {
    const def = dropDefinition({ format: "buy_now" });
    expect((await engine.createDrop(def)).created).toBe(true);
    expect((await engine.createDrop(def)).created).toBe(false);
    await expect(engine.createDrop({ ...def, format: "drop" })).rejects.toMatchObject({
      code: "DROP_CONFLICT",
    });
  });

  it("refuses formats that break their rules with a typed error", async () => {
    const bad = [
      dropDefinition({ format: "nope" as never }),
      // a giveaway is a raffle at price 0
      dropDefinition({ format: "giveaway" }),
      dropDefinition({ format: "giveaway", raffleWindowMs: 60_000 }),
      // buy-it-now has no countdown and no draw
      dropDefinition({ format: "buy_now", startsAt: Date.now() + 60_000 }),
      dropDefinition({ format: "buy_now", fairWindowMs: 5_000 }),
    ];
    for (const def of bad) await expect(engine.createDrop(def)).rejects.toBeInstanceOf(ValidationError);
  });
});

describe("buy-it-now", () => {
  const buy = (dropId: string, userId: string, qty = 1) =>
    engine.reserve({ dropId, userId, qty, idempotencyKey: key() });

  it("opens when created, sells only while pinned, and the room hears each pin change once", async () => {
    const def = dropDefinition({ format: "buy_now", initialStock: 3, perUserLimit: 3 });
    const { status } = await engine.createDrop(def);
    expect(status).toMatchObject({ format: "buy_now", pinned: false, state: "live" });
    await expect(buy(def.dropId, "u1")).rejects.toMatchObject({ code: "NOT_PINNED" });

    expect(await engine.pin(def.dropId)).toEqual({ dropId: def.dropId, pinned: true, changed: true });
    expect(await engine.pin(def.dropId)).toEqual({ dropId: def.dropId, pinned: true, changed: false });
    expect((await engine.status(def.dropId)).pinned).toBe(true);
    const held = await buy(def.dropId, "u1", 2);
    expect(held.available).toBe(1);

    expect(await engine.unpin(def.dropId)).toEqual({ dropId: def.dropId, pinned: false, changed: true });
    expect((await engine.unpin(def.dropId)).changed).toBe(false);
    await expect(buy(def.dropId, "u2")).rejects.toMatchObject({ code: "NOT_PINNED" });
    // A hold placed while pinned stays payable after the unpin.
    expect((await engine.confirm(held.reservationId)).status).toBe("confirmed");

    const after = await engine.status(def.dropId);
    expect(after).toMatchObject({ available: 1, held: 0, sold: 2, pinned: false });
    invariant(after);
    const pins = (await eventsOf(engine, def.dropId))
      .map((e) => e.type)
      .filter((t) => t === "drop.pinned" || t === "drop.unpinned");
    expect(pins).toEqual(["drop.pinned", "drop.unpinned"]);
  });

  it("concurrent buyers of a pinned drop never get more than its stock", async () => {
    const def = dropDefinition({ format: "buy_now", initialStock: 10, perUserLimit: 1 });
    await engine.createDrop(def);
    await engine.pin(def.dropId);
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => buy(def.dropId, `u${i}`)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(10);
    const refused = results.flatMap((r) =>
      r.status === "rejected" ? [(r.reason as { code: string }).code] : [],
    );
    expect(new Set(refused)).toEqual(new Set(["SOLD_OUT"]));
    const s = await engine.status(def.dropId);
    expect(s).toMatchObject({ available: 0, held: 10 });
    invariant(s);
  });

  it("refuses a pin of another format, an unknown drop or an ended drop with a typed error", async () => {
    const plain = dropDefinition();
    await engine.createDrop(plain);
    await expect(engine.pin(plain.dropId)).rejects.toBeInstanceOf(ValidationError);
    await expect(engine.unpin(plain.dropId)).rejects.toBeInstanceOf(ValidationError);
    await expect(engine.pin("no-such-drop")).rejects.toMatchObject({ code: "DROP_NOT_FOUND" });
    await expect(engine.pin("bad id!")).rejects.toBeInstanceOf(ValidationError);

    const def = dropDefinition({ format: "buy_now" });
    await engine.createDrop(def);
    await engine.pin(def.dropId);
    await engine.end(def.dropId);
    expect((await engine.unpin(def.dropId)).pinned).toBe(false);
    await expect(engine.pin(def.dropId)).rejects.toMatchObject({ code: "ENDED" });
    await expect(buy(def.dropId, "u1")).rejects.toMatchObject({ code: "ENDED" });
  });
});
