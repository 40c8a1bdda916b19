import { spawn } from "node:child_process";
import os from "node:os";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLivedropError, loadConfig, type RedisClient } from "../../core/index.ts";
import {
  type Checkout,
  type Order,
  type OrderStore,
  type OrderUpdate,
  orderChannels,
  SandboxToken,
  startOrderPipeline,
} from "../../orders/index.ts";
import { decodeOrderUpdate } from "../../protocol/index.ts";
import { SaleEngine } from "../../sale-engine/index.ts";
import { type OrderStack, startOrderStack } from "../harness/order-stack.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

let redis: PrivateRedis;
let stack: OrderStack;
let engine: SaleEngine;
let store: OrderStore;
let checkout: Checkout;
let prefix: string;

beforeAll(async () => {
  redis = await startPrivateRedis();
  stack = await startOrderStack({
    redisEnv: { REDIS_URL: redis.url },
    redisClient: redis.client(),
    reconcileMs: 500,
  });
  ({ engine, store, checkout, prefix } = stack);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await redis?.stop();
});

async function orderOf(reservationId: string, status: Order["status"] = "pending_payment"): Promise<Order> {
  await expect
    .poll(async () => (await store.get(reservationId))?.status, { timeout: 10_000, interval: 50 })
    .toBe(status);
  return (await store.get(reservationId)) as Order;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (isLivedropError(err)) return err.code;
    throw err;
  }
}

describe("order pipeline (PGlite store)", () => {
  it("every hold becomes one pending order with the drop's product, price and deadline", async () => {
    const def = dropDefinition({ initialStock: 10, perUserLimit: 3 });
    await engine.createDrop(def);
    const holds = await Promise.all(
      ["ann", "bob", "cy"].map((u, i) =>
        engine.reserve({ dropId: def.dropId, userId: u, qty: i + 1, idempotencyKey: key() }),
      ),
    );
    for (const [i, h] of holds.entries()) {
      const order = await orderOf(h.reservationId);
      expect(order).toMatchObject({
        dropId: def.dropId,
        roomId: def.roomId,
        userId: ["ann", "bob", "cy"][i],
        sku: def.product.sku,
        qty: i + 1,
        unitPriceMinor: def.product.priceMinor,
        totalMinor: def.product.priceMinor * (i + 1),
        currency: def.product.currency,
        holdDeadline: h.deadline,
      });
      expect((await store.events(h.reservationId)).map((e) => e.toStatus)).toEqual(["pending_payment"]);
    }
  });

  it("a decline, then a success inside the deadline, ends paid; the hold is sold; paying again is a no-op", async () => {
    const def = dropDefinition({ initialStock: 5 });
    await engine.createDrop(def);
    const events: OrderUpdate[] = [];
    const sub = redis.client();
    await sub.ssubscribe(orderChannels(prefix, { userId: "dana", roomId: def.roomId }).user);
    // Every payload is protocol's order update: what the gateway decodes.
    const undecodable: string[] = [];
    sub.on("smessage", (_c: string, m: string) => {
      const u = decodeOrderUpdate(m);
      if (u.ok) events.push(u.value);
      else undecodable.push(u.error);
    });
    const hold = await engine.reserve({ dropId: def.dropId, userId: "dana", qty: 2, idempotencyKey: key() });
    await orderOf(hold.reservationId);

    const declinedKey = key();
    const attempt = { reservationId: hold.reservationId, userId: "dana", idempotencyKey: declinedKey };
    expect(await codeOf(checkout.pay({ ...attempt, token: SandboxToken.declined }))).toBe("PAYMENT_DECLINED");
    // The same key again is the same answer, even with another token.
    expect(await codeOf(checkout.pay({ ...attempt, token: SandboxToken.success }))).toBe("PAYMENT_DECLINED");
    expect((await store.get(hold.reservationId))?.status).toBe("pending_payment");

    const payKey = key();
    const paid = await checkout.pay({
      reservationId: hold.reservationId,
      userId: "dana",
      token: SandboxToken.success,
      idempotencyKey: payKey,
    });
    expect(paid).toMatchObject({ status: "paid", totalMinor: def.product.priceMinor * 2 });
    expect(paid.paymentRef).toMatch(/^sbx_ch_/);
    expect((await engine.reservation(hold.reservationId)).status).toBe("confirmed");
    expect(await engine.status(def.dropId)).toMatchObject({ sold: 2, held: 0, available: 3 });
    expect(
      await checkout.pay({
        reservationId: hold.reservationId,
        userId: "dana",
        token: SandboxToken.success,
        idempotencyKey: payKey,
      }),
    ).toMatchObject({
      status: "paid",
    });
    expect((await store.events(hold.reservationId)).map((e) => e.toStatus)).toEqual([
      "pending_payment",
      "paid",
    ]);
    expect((await store.paymentAttempts(hold.reservationId)).map((a) => a.status).sort()).toEqual([
      "declined",
      "succeeded",
    ]);
    await expect.poll(() => events.map((e) => e.type)).toEqual(["order.created", "order.paid"]);
    expect(undecodable).toEqual([]);
    expect(events.at(-1)).toMatchObject({ status: "paid", userId: "dana", qty: 2, dropId: def.dropId });
  });

  it("an unpaid hold expires at its deadline: stock returns, the order is expired, paying afterwards is refused and changes nothing", async () => {
    const def = dropDefinition({ initialStock: 2, holdMs: 1_000 });
    await engine.createDrop(def);
    const hold = await engine.reserve({ dropId: def.dropId, userId: "eve", qty: 2, idempotencyKey: key() });
    expect((await engine.status(def.dropId)).state).toBe("sold_out");
    await orderOf(hold.reservationId, "expired");
    expect(await engine.status(def.dropId)).toMatchObject({ available: 2, held: 0, sold: 0, state: "live" });
    expect(
      await codeOf(
        checkout.pay({
          reservationId: hold.reservationId,
          userId: "eve",
          token: SandboxToken.success,
          idempotencyKey: key(),
        }),
      ),
    ).toBe("HOLD_EXPIRED");
    expect((await store.get(hold.reservationId))?.status).toBe("expired");
    expect(await store.paymentAttempts(hold.reservationId)).toEqual([]);
    expect(await engine.status(def.dropId)).toMatchObject({ available: 2, sold: 0 });
  });

  it("paying right after the hold, before the order job ran, creates the order and ends paid", async () => {
    const def = dropDefinition();
    await engine.createDrop(def);
    const hold = await engine.reserve({ dropId: def.dropId, userId: "kim", qty: 1, idempotencyKey: key() });
    const paid = await checkout.pay({
      reservationId: hold.reservationId,
      userId: "kim",
      token: SandboxToken.success,
      idempotencyKey: key(),
    });
    expect(paid.status).toBe("paid");
    // The relay's create job then finds the order and changes nothing.
    await new Promise((r) => setTimeout(r, 500));
    expect((await store.events(hold.reservationId)).map((e) => e.toStatus)).toEqual([
      "pending_payment",
      "paid",
    ]);
  });

  it("a payment that times out changes nothing; a new attempt inside the deadline ends paid", async () => {
    const def = dropDefinition();
    await engine.createDrop(def);
    const hold = await engine.reserve({ dropId: def.dropId, userId: "lou", qty: 1, idempotencyKey: key() });
    const timeoutKey = key();
    expect(
      await codeOf(
        checkout.pay({
          reservationId: hold.reservationId,
          userId: "lou",
          token: SandboxToken.timeout,
          idempotencyKey: timeoutKey,
        }),
      ),
    ).toBe("PAYMENT_TIMEOUT");
    expect((await store.get(hold.reservationId))?.status).toBe("pending_payment");
    expect((await engine.reservation(hold.reservationId)).status).toBe("held");
    const paid = await checkout.pay({
      reservationId: hold.reservationId,
      userId: "lou",
      token: SandboxToken.success,
      idempotencyKey: key(),
    });
    expect(paid.status).toBe("paid");
    expect((await store.paymentAttempts(hold.reservationId)).map((a) => a.status).sort()).toEqual([
      "succeeded",
      "timeout",
    ]);
  });

  it("a released hold makes its order cancelled", async () => {
    const def = dropDefinition();
    await engine.createDrop(def);
    const hold = await engine.reserve({ dropId: def.dropId, userId: "fay", qty: 1, idempotencyKey: key() });
    await orderOf(hold.reservationId);
    await engine.release(hold.reservationId);
    await orderOf(hold.reservationId, "cancelled");
  });

  it("refund marks a paid order refunded and records it; stock does not return; only paid orders refund", async () => {
    const def = dropDefinition({ initialStock: 3 });
    await engine.createDrop(def);
    const hold = await engine.reserve({ dropId: def.dropId, userId: "gus", qty: 1, idempotencyKey: key() });
    const other = await engine.reserve({ dropId: def.dropId, userId: "hal", qty: 1, idempotencyKey: key() });
    await orderOf(other.reservationId);
    await checkout.pay({
      reservationId: hold.reservationId,
      userId: "gus",
      token: SandboxToken.success,
      idempotencyKey: key(),
    });
    const refunded = await checkout.refund(hold.reservationId, "damaged in transit");
    expect(refunded.status).toBe("refunded");
    expect((await checkout.refund(hold.reservationId, "again")).status).toBe("refunded");
    expect((await store.events(hold.reservationId)).map((e) => [e.toStatus, e.reason])).toContainEqual([
      "refunded",
      "damaged in transit",
    ]);
    expect(await engine.status(def.dropId)).toMatchObject({ sold: 1, available: 1, held: 1 });
    expect(await codeOf(checkout.refund(other.reservationId, "not paid"))).toBe("ORDER_STATE_CONFLICT");
    expect((await store.dropSummary(def.dropId)).refundedUnits).toBe(1);
  });

  it("bad payment requests get typed errors and change nothing", async () => {
    const def = dropDefinition();
    await engine.createDrop(def);
    const hold = await engine.reserve({ dropId: def.dropId, userId: "ivy", qty: 1, idempotencyKey: key() });
    await orderOf(hold.reservationId);
    const good = {
      reservationId: hold.reservationId,
      userId: "ivy",
      token: SandboxToken.success,
      idempotencyKey: key(),
    };
    const cases: [unknown, string][] = [
      [{ ...good, reservationId: "not an id" }, "INVALID_INPUT"],
      [{ ...good, reservationId: `${def.dropId}.999` }, "ORDER_NOT_FOUND"],
      [{ ...good, userId: "mallory" }, "ORDER_NOT_FOUND"],
      [{ ...good, token: "tok_unknown" }, "INVALID_INPUT"],
      [{ ...good, token: "<script>" }, "INVALID_INPUT"],
      [{ ...good, idempotencyKey: "" }, "INVALID_INPUT"],
      [{ ...good, extra: 1 }, "INVALID_INPUT"],
      [null, "INVALID_INPUT"],
    ];
    for (const [request, code] of cases) {
      expect(
        await codeOf(checkout.pay(request as Parameters<Checkout["pay"]>[0])),
        JSON.stringify(request),
      ).toBe(code);
    }
    expect(await codeOf(checkout.refund(hold.reservationId, ""))).toBe("INVALID_INPUT");
    expect(await codeOf(checkout.refund("nope.1", "why"))).toBe("ORDER_NOT_FOUND");
    expect((await store.get(hold.reservationId))?.status).toBe("pending_payment");
    expect(await store.paymentAttempts(hold.reservationId)).toEqual([]);
    expect((await engine.reservation(hold.reservationId)).status).toBe("held");
  });
});

describe("reconciler", () => {
  it("creates the order of a hold whose outbox entry was lost", async () => {
    // Its own key space, with no relay running while the hold is placed and the outbox emptied.
    const p2 = uniquePrefix("recon");
    const client: RedisClient = redis.client();
    const engine2 = await SaleEngine.create({ redis: client, prefix: p2 });
    const def = dropDefinition();
    await engine2.createDrop(def);
    const hold = await engine2.reserve({ dropId: def.dropId, userId: "jo", qty: 1, idempotencyKey: key() });
    await client.xtrim(engine2.keys.drop(def.dropId).outbox, "MAXLEN", 0);
    const cfg = loadConfig({
      REDIS_URL: redis.url,
      LIVEDROP_KEY_PREFIX: p2,
      LIVEDROP_DATA_DIR: os.tmpdir(),
      LOG_LEVEL: "silent",
    });
    const second = await startOrderPipeline({
      cfg,
      engine: engine2,
      store,
      reconcileMs: 200,
      reconcileGraceMs: 0,
    });
    try {
      await orderOf(hold.reservationId);
      expect(second.reconciler.repaired).toBeGreaterThanOrEqual(1);
      expect(second.relay.relayed).toBe(0);
    } finally {
      await second.stop();
      await engine2.close();
    }
  });
});

describe("background loops visit active drops only", () => {
  type Loop = "relay" | "sweeper" | "reconciler";
  type Visit = { loop: Loop; drop: string };

  /** The per-drop command each loop sends (MONITOR lines of a real Redis), or undefined. */
  function visitOf(prefix: string, args: string[], source: string): Visit | undefined {
    if (source === "lua") return undefined;
    const dropOf = (key: string | undefined) => {
      const m = key?.match(/^(.*):drop:\{([^}]+)\}/);
      return m && m[1] === prefix ? m[2] : undefined;
    };
    const command = args[0]?.toLowerCase();
    const drop =
      command === "xreadgroup"
        ? dropOf(args[args.indexOf("STREAMS") + 1])
        : (command === "evalsha" || command === "eval") && args[2] === "5" // expire (not status: 1 key)
          ? dropOf(args[3])
          : command === "zrange"
            ? dropOf(args[1])
            : undefined;
    if (drop === undefined) return undefined;
    const loop: Loop = command === "xreadgroup" ? "relay" : command === "zrange" ? "reconciler" : "sweeper";
    return { loop, drop };
  }

  /**
   * MONITOR through redis-cli, one parsed line per command: `<time> [<db> <source>] "arg" ...`.
   * An ioredis monitor connection sometimes fails with "Command queue state error" when monitor
   * lines arrive before its own MONITOR reply is taken.
   */
  async function monitorRedis(url: string, onCommand: (args: string[], source: string) => void) {
    const child = spawn("redis-cli", ["-u", url, "monitor"], { stdio: ["ignore", "pipe", "inherit"] });
    const started = new Promise<void>((resolve, reject) => {
      child.once("error", reject);
      createInterface({ input: child.stdout }).on("line", (line) => {
        if (line === "OK") return resolve();
        const m = /^\S+ \[\d+ ([^\]]+)\] (.*)$/.exec(line);
        if (!m) return;
        const args = [...(m[2] as string).matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((a) =>
          (a[1] as string).replace(/\\(.)/g, "$1"),
        );
        onCommand(args, m[1] as string);
      });
    });
    await started;
    return { stop: () => child.kill() };
  }

  /**
   * Drops the three loops visit in passes that all began after this call: waits until each loop
   * went past `sentinel` twice (so any pass begun earlier is over), then collects until each has
   * gone past it once more.
   */
  async function visitedDrops(visits: Visit[], sentinel: string): Promise<Set<string>> {
    const passes = (from: number, loop: Loop) =>
      visits.slice(from).filter((v) => v.loop === loop && v.drop === sentinel).length;
    const loops: Loop[] = ["relay", "sweeper", "reconciler"];
    const start = visits.length;
    await expect
      .poll(() => loops.every((l) => passes(start, l) >= 2), { timeout: 30_000, interval: 50 })
      .toBe(true);
    const cut = visits.length;
    await expect
      .poll(() => loops.every((l) => passes(cut, l) >= 1), { timeout: 30_000, interval: 50 })
      .toBe(true);
    return new Set(visits.slice(cut).map((v) => `${v.loop}:${v.drop}`));
  }

  it("ended drops leave the index once their orders are relayed and are not visited again; a drop with a pending hold is visited until it settles", async () => {
    const p2 = uniquePrefix("idle");
    const engine2 = await SaleEngine.create({ redis: redis.client(), prefix: p2 });
    const [quiet, sold, released, pending, sentinel] = [1, 2, 3, 4, 5].map(() => dropDefinition());
    for (const d of [quiet, sold, released, pending, sentinel]) await engine2!.createDrop(d!);
    const buy = (d: { dropId: string }, userId: string) =>
      engine2.reserve({ dropId: d.dropId, userId, qty: 1, idempotencyKey: key() });
    const paid = await buy(sold!, "pam");
    await engine2.confirm(paid.reservationId);
    const dropped = await buy(released!, "rex");
    await engine2.release(dropped.reservationId);
    const open = await buy(pending!, "pia");
    for (const d of [quiet, sold, released, pending]) await engine2.end(d!.dropId);

    const cfg = loadConfig({
      REDIS_URL: redis.url,
      LIVEDROP_KEY_PREFIX: p2,
      LIVEDROP_DATA_DIR: os.tmpdir(),
      LIVEDROP_EXPIRE_SWEEP_MS: "100",
      LOG_LEVEL: "silent",
    });
    const visits: Visit[] = [];
    const monitor = await monitorRedis(redis.url, (args, source) => {
      const v = visitOf(p2, args, source);
      if (v) visits.push(v);
    });
    const second = await startOrderPipeline({ cfg, engine: engine2, store, reconcileMs: 200 });
    try {
      // Ended drops stay until the relay has taken their events: their orders exist.
      await orderOf(paid.reservationId, "paid");
      await orderOf(dropped.reservationId, "cancelled");
      const ids = (drops: ({ dropId: string } | undefined)[]) => drops.map((d) => d!.dropId).sort();
      await expect
        .poll(async () => (await engine2.activeDrops()).sort(), { timeout: 30_000, interval: 50 })
        .toEqual(ids([pending, sentinel]));
      const whileHeld = await visitedDrops(visits, sentinel!.dropId);
      for (const loop of ["relay", "sweeper", "reconciler"])
        expect(whileHeld).toContain(`${loop}:${pending!.dropId}`);
      for (const d of [quiet, sold, released])
        expect([...whileHeld].filter((v) => v.endsWith(`:${d!.dropId}`))).toEqual([]);

      await orderOf(open.reservationId);
      await engine2.release(open.reservationId);
      await orderOf(open.reservationId, "cancelled");
      await expect
        .poll(async () => engine2.activeDrops(), { timeout: 30_000, interval: 50 })
        .toEqual([sentinel!.dropId]);
      const after = await visitedDrops(visits, sentinel!.dropId);
      expect([...after].sort()).toEqual(
        ["reconciler", "relay", "sweeper"].map((loop) => `${loop}:${sentinel!.dropId}`),
      );
    } finally {
      monitor.stop();
      await second.stop();
      await engine2.close();
    }
  });
});

describe("reconciler after a drop left the index", () => {
  it("a pending order of a settled, retired drop whose status event was lost is brought up to date", async () => {
    const p3 = uniquePrefix("orphan");
    const client: RedisClient = redis.client();
    const engine3 = await SaleEngine.create({ redis: client, prefix: p3 });
    const cfg = loadConfig({
      REDIS_URL: redis.url,
      LIVEDROP_KEY_PREFIX: p3,
      LIVEDROP_DATA_DIR: os.tmpdir(),
      LOG_LEVEL: "silent",
    });
    const def = dropDefinition();
    await engine3.createDrop(def);
    const first = await startOrderPipeline({ cfg, engine: engine3, store });
    const hold = await engine3.reserve({ dropId: def.dropId, userId: "ora", qty: 1, idempotencyKey: key() });
    try {
      await orderOf(hold.reservationId);
    } finally {
      await first.stop();
    }
    // With no relay running, the release event is lost; the drop ends and leaves the index.
    await engine3.release(hold.reservationId);
    await client.xtrim(engine3.keys.drop(def.dropId).outbox, "MAXLEN", 0);
    await engine3.end(def.dropId);
    await engine3.expireAllDue();
    expect(await engine3.activeDrops()).not.toContain(def.dropId);
    expect((await store.get(hold.reservationId))?.status).toBe("pending_payment");

    const second = await startOrderPipeline({ cfg, engine: engine3, store, reconcileMs: 200 });
    try {
      await orderOf(hold.reservationId, "cancelled");
      expect(second.reconciler.repaired).toBeGreaterThanOrEqual(1);
      expect(second.relay.relayed).toBe(0);
    } finally {
      await second.stop();
      await engine3.close();
    }
  });
});
