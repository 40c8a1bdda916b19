import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OrderStore, SandboxToken } from "../../orders/index.ts";
import type { Reservation, SaleEngine } from "../../sale-engine/index.ts";
import { livedrop } from "../harness/cli.ts";
import { type OrderStack, startOrderStack } from "../harness/order-stack.ts";
import { type PrivatePostgres, startPrivatePostgres } from "../harness/postgres.ts";
import { type PrivateRedis, startPrivateRedis } from "../harness/redis.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

let redis: PrivateRedis;
let pg: PrivatePostgres;
let stack: OrderStack;
let engine: SaleEngine;
let store: OrderStore;
let env: Record<string, string>;
let dataDir: string;
const def = dropDefinition({ initialStock: 10 });
let paid: Reservation;
let pending: Reservation;

beforeAll(async () => {
  [redis, pg] = await Promise.all([startPrivateRedis(), startPrivatePostgres()]);
  dataDir = mkdtempSync(path.join(os.tmpdir(), "livedrop-orders-cli-"));
  stack = await startOrderStack({
    redisEnv: { REDIS_URL: redis.url },
    redisClient: redis.client(),
    databaseUrl: pg.url,
  });
  ({ engine, store, env } = stack);
  await engine.createDrop(def);
  paid = await engine.reserve({ dropId: def.dropId, userId: "ann", qty: 2, idempotencyKey: key() });
  pending = await engine.reserve({ dropId: def.dropId, userId: "bob", qty: 1, idempotencyKey: key() });
  await stack.checkout.pay({
    reservationId: paid.reservationId,
    userId: "ann",
    token: SandboxToken.success,
    idempotencyKey: key(),
  });
  // Wait for the relay and worker to write the pending order.
  for (let i = 0; i < 200 && (await store.existing([pending.reservationId])).size === 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await Promise.all([redis?.stop(), pg?.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
});

describe("`livedrop orders`", () => {
  it("lists and shows orders with their audit trail", async () => {
    const list = await livedrop(["orders", "list", "--drop", def.dropId, "--json"], env);
    expect(list.code).toBe(0);
    const orders = JSON.parse(list.stdout) as { reservationId: string; status: string }[];
    expect(orders.map((o) => [o.reservationId, o.status]).sort()).toEqual(
      [
        [paid.reservationId, "paid"],
        [pending.reservationId, "pending_payment"],
      ].sort(),
    );
    const onlyPaid = JSON.parse(
      (await livedrop(["orders", "list", "--status", "paid", "--json"], env)).stdout,
    ) as unknown[];
    expect(onlyPaid).toHaveLength(1);
    const show = JSON.parse(
      (await livedrop(["orders", "show", paid.reservationId, "--json"], env)).stdout,
    ) as {
      order: { totalMinor: number };
      events: { toStatus: string }[];
    };
    expect(show.order.totalMinor).toBe(def.product.priceMinor * 2);
    expect(show.events.map((e) => e.toStatus)).toEqual(["pending_payment", "paid"]);
  });

  it("refund marks the paid order refunded, keeps the stock sold, and shows in the drop summary", async () => {
    const before = await engine.status(def.dropId);
    const res = await livedrop(
      ["orders", "refund", paid.reservationId, "--reason", "customer request", "--json"],
      env,
    );
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ status: "refunded" });
    expect((await engine.status(def.dropId)).sold).toBe(before.sold);
    const summary = JSON.parse(
      (await livedrop(["orders", "summary", "--drop", def.dropId, "--json"], env)).stdout,
    );
    expect(summary).toMatchObject({
      dropId: def.dropId,
      refundedUnits: 2,
      heldUnits: 1,
      unitsSold: 0,
      gmvMinor: 0,
    });
    const room = JSON.parse(
      (await livedrop(["orders", "summary", "--room", def.roomId, "--json"], env)).stdout,
    );
    expect(room).toMatchObject({ roomId: def.roomId, orders: 2 });
  });

  it.each([
    [["orders", "list", "--status", "bogus", "--json"], 2, "INVALID_INPUT"],
    [["orders", "list", "--limit", "0", "--json"], 2, "INVALID_INPUT"],
    [["orders", "list", "--user", "bad user!", "--json"], 2, "INVALID_INPUT"],
    [["orders", "show", "--json"], 2, "INVALID_INPUT"],
    [["orders", "show", "not-an-id", "--json"], 2, "INVALID_INPUT"],
    [["orders", "show", "nope.1", "--json"], 2, "ORDER_NOT_FOUND"],
    [["orders", "refund", "nope.1", "--json"], 2, "INVALID_INPUT"],
    [["orders", "summary", "--json"], 2, "INVALID_INPUT"],
    [["orders", "summary", "--drop", "a", "--room", "b", "--json"], 2, "INVALID_INPUT"],
    [["orders", "frob", "--json"], 2, "INVALID_INPUT"],
    [["worker", "--now", "--json"], 2, "INVALID_INPUT"],
  ])("livedrop %j exits %i with %s", async (args, code, error) => {
    const res = await livedrop(args as string[], env);
    expect(res.code).toBe(code);
    expect(JSON.parse(res.stdout)).toMatchObject({ error: { code: error } });
  });

  it("refunding an unpaid order is refused and changes nothing", async () => {
    const res = await livedrop(["orders", "refund", pending.reservationId, "--reason", "x", "--json"], env);
    expect(res.code).toBe(2);
    expect(JSON.parse(res.stdout)).toMatchObject({ error: { code: "ORDER_STATE_CONFLICT" } });
    expect((await store.get(pending.reservationId))?.status).toBe("pending_payment");
  });

  it("the embedded store in use by another process is a clear error, not a corrupted database", async () => {
    const dir = path.join(dataDir, "locked");
    mkdirSync(path.join(dir, "orders"), { recursive: true });
    writeFileSync(path.join(dir, "orders", "livedrop.lock"), String(process.pid));
    const res = await livedrop(["orders", "list"], { LIVEDROP_DATA_DIR: dir, LOG_LEVEL: "warn" });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`in use by process ${process.pid}`);
  });
});
