import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAULT_POINTS, loadConfig } from "../../core/index.ts";
import {
  Checkout,
  type FaultPoint,
  OrderStore,
  PaymentReconciler,
  type PayRequest,
  type RunningPipeline,
  SandboxPaymentProvider,
  SandboxToken,
  startOrderPipeline,
} from "../../orders/index.ts";
import { SaleEngine } from "../../sale-engine/index.ts";
import { type PrivatePostgres, startPrivatePostgres } from "../harness/postgres.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

const childScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/pay-child.ts");
/** A hold short enough to run out in the test, long enough for a checkout that starts right away. */
const SHORT_HOLD_MS = 4_000;

let redis: PrivateRedis;
let pg: PrivatePostgres;
let engine: SaleEngine;
let store: OrderStore;
let sandbox: SandboxPaymentProvider;
let checkout: Checkout;
let prefix: string;
let dataDir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  [redis, pg] = await Promise.all([startPrivateRedis(), startPrivatePostgres()]);
  prefix = uniquePrefix("payfault");
  dataDir = mkdtempSync(path.join(os.tmpdir(), "livedrop-payfault-"));
  engine = await SaleEngine.create({ redis: redis.client(), prefix });
  store = await OrderStore.open({ kind: "pg", url: pg.url });
  sandbox = SandboxPaymentProvider.inRedis(engine.connection, prefix);
  checkout = new Checkout({ engine, store, payments: sandbox, redis: engine.connection, keyPrefix: prefix });
}, 120_000);

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await store?.close();
  await engine?.close();
  await Promise.all([redis?.stop(), pg?.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
});

function childEnv(faultPoint: FaultPoint): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    REDIS_URL: redis.url,
    DATABASE_URL: pg.url,
    LIVEDROP_DATA_DIR: dataDir,
    LIVEDROP_KEY_PREFIX: prefix,
    LIVEDROP_SHADOW: "off",
    LIVEDROP_FAULT_POINT: faultPoint,
    LOG_LEVEL: "warn",
  };
}

/**
 * Runs one checkout in a real child process armed with `faultPoint`. The request is made only
 * once the child is connected, so a short hold is paid at once. Resolves when the child exits.
 */
async function payInChild(
  faultPoint: FaultPoint,
  request: () => Promise<PayRequest>,
): Promise<{ signal: NodeJS.Signals | null; output: string; request: PayRequest }> {
  const child = spawn(process.execPath, ["--import", "tsx", childScript], {
    env: childEnv(faultPoint),
    stdio: ["pipe", "pipe", "inherit"],
  });
  children.push(child);
  let output = "";
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once("exit", (_code, signal) => resolve(signal)),
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("ready\n")) resolve();
    });
    void exited.then((signal) =>
      reject(new Error(`pay child exited before it was ready (${signal}): ${output}`)),
    );
  });
  const req = await request();
  child.stdin?.write(`${JSON.stringify(req)}\n`);
  const signal = await exited;
  return { signal, output: output.replace("ready\n", ""), request: req };
}

/** A hold of a new drop for a new buyer, and a pay request for it. */
async function holdAndRequest(holdMs: number): Promise<PayRequest> {
  const def = dropDefinition({ holdMs, initialStock: 5 });
  await engine.createDrop(def);
  const userId = `buyer-${key().slice(0, 8)}`;
  const hold = await engine.reserve({ dropId: def.dropId, userId, qty: 1, idempotencyKey: key() });
  return { reservationId: hold.reservationId, userId, token: SandboxToken.success, idempotencyKey: key() };
}

/** The order pipeline with the payment reconciler, started after the crash. */
async function startPipeline(): Promise<RunningPipeline> {
  const cfg = loadConfig({
    REDIS_URL: redis.url,
    DATABASE_URL: pg.url,
    LIVEDROP_DATA_DIR: dataDir,
    LIVEDROP_KEY_PREFIX: prefix,
    LIVEDROP_EXPIRE_SWEEP_MS: "100",
    LIVEDROP_PAYMENT_RECONCILE_MS: "100",
    // The crashed checkout is dead: nothing is in flight, so no attempt needs to age first.
    LIVEDROP_PAYMENT_STUCK_MS: "0",
    LOG_LEVEL: "silent",
  });
  return startOrderPipeline({ cfg, engine, store, reconcileMs: 500 });
}

async function unfinished(reservationId: string): Promise<number> {
  const attempts = await store.paymentAttempts(reservationId);
  return attempts.filter(
    (a) =>
      a.status === "started" || a.status === "captured" || (a.status === "timeout" && a.checkedAt === null),
  ).length;
}

/**
 * The money invariant, from the provider's own books: each succeeded capture of this order is
 * refunded or is the one payment of the paid order; at most one capture is kept.
 */
async function moneyOf(reservationId: string) {
  const { captures, refunds } = await sandbox.statement();
  const mine = captures.filter((c) => c.reference === reservationId);
  const refunded = new Set(refunds.map((r) => r.providerRef));
  const kept = mine.filter((c) => !refunded.has(c.providerRef));
  const order = await store.get(reservationId);
  expect(kept.length).toBeLessThanOrEqual(1);
  if (kept.length === 1) expect(order).toMatchObject({ status: "paid", paymentRef: kept[0]?.providerRef });
  else expect(order?.status).not.toBe("paid");
  for (const a of await store.paymentAttempts(reservationId))
    if (a.providerRef !== null) expect(["succeeded", "refunded"]).toContain(a.status);
  return { captures: mine.length, refunds: mine.length - kept.length, order };
}

describe("payments survive a SIGKILL at every step", () => {
  it.each(FAULT_POINTS)(
    "killed at %s with the hold still live: the payment reconciler ends it paid or uncharged",
    async (point) => {
      const run = await payInChild(point, () => holdAndRequest(600_000));
      expect(run.signal, run.output).toBe("SIGKILL");
      const rid = run.request.reservationId;
      expect((await store.paymentAttempts(rid)).map((a) => a.status)).toHaveLength(1);

      const pipeline = await startPipeline();
      try {
        await expect.poll(() => unfinished(rid), { timeout: 30_000, interval: 100 }).toBe(0);
        if (point === "after-attempt-recorded") {
          // Died before the provider was called: the provider has no capture, nothing was charged.
          expect(await moneyOf(rid)).toMatchObject({
            captures: 0,
            refunds: 0,
            order: { status: "pending_payment" },
          });
          expect((await store.paymentAttempts(rid))[0]).toMatchObject({ status: "timeout" });
          // The buyer pays again with a new key, once.
          await checkout.pay({ ...run.request, idempotencyKey: key() });
          expect(await moneyOf(rid)).toMatchObject({ captures: 1, refunds: 0, order: { status: "paid" } });
        } else {
          await expect.poll(async () => (await store.get(rid))?.status, { timeout: 30_000 }).toBe("paid");
          expect(await moneyOf(rid)).toMatchObject({ captures: 1, refunds: 0 });
          expect((await store.paymentAttempts(rid)).map((a) => a.status)).toEqual(["succeeded"]);
          expect((await engine.reservation(rid)).status).toBe("confirmed");
        }
        // A retried pay with the crashed request's key changes nothing more.
        const retry = await checkout.pay(run.request).catch((err: { code?: string }) => err.code);
        expect(retry === "PAYMENT_TIMEOUT" || (typeof retry === "object" && retry.status === "paid")).toBe(
          true,
        );
        expect(await moneyOf(rid)).toMatchObject({ captures: 1, refunds: 0 });
      } finally {
        await pipeline.stop();
      }
    },
    120_000,
  );

  it.each(["after-capture", "after-capture-recorded"] as const)(
    "killed at %s and the deadline passes before anyone recovers: the capture is refunded, the order expires",
    async (point) => {
      const run = await payInChild(point, () => holdAndRequest(SHORT_HOLD_MS));
      expect(run.signal, run.output).toBe("SIGKILL");
      const rid = run.request.reservationId;
      const { deadline } = await engine.reservation(rid);
      await expect
        .poll(() => engine.serverTime(), { timeout: SHORT_HOLD_MS + 10_000, interval: 100 })
        .toBeGreaterThan(deadline);

      const pipeline = await startPipeline();
      try {
        await expect.poll(() => unfinished(rid), { timeout: 30_000, interval: 100 }).toBe(0);
        await expect.poll(async () => (await store.get(rid))?.status, { timeout: 30_000 }).toBe("expired");
        expect(await moneyOf(rid)).toMatchObject({ captures: 1, refunds: 1 });
        expect((await store.paymentAttempts(rid))[0]).toMatchObject({
          status: "refunded",
          errorCode: "hold_expired",
        });
        const status = await engine.status((await engine.reservation(rid)).dropId);
        expect(status).toMatchObject({ sold: 0, held: 0 });
      } finally {
        await pipeline.stop();
      }
    },
    120_000,
  );

  it("two reconcilers and the buyer's retried pay finish one crashed capture once, whoever comes first", async () => {
    const run = await payInChild("after-capture", () => holdAndRequest(600_000));
    expect(run.signal).toBe("SIGKILL");
    const rid = run.request.reservationId;
    // A second process's view of the store: its own connections.
    const otherStore = await OrderStore.open({ kind: "pg", url: pg.url });
    try {
      const deps = { engine, payments: sandbox, redis: engine.connection, keyPrefix: prefix };
      const silent = { info() {}, warn() {} } as unknown as ConstructorParameters<
        typeof PaymentReconciler
      >[2];
      const reconcilers = [store, otherStore].map(
        (s) => new PaymentReconciler({ ...deps, store: s }, { stuckMs: 0, batch: 50 }, silent),
      );
      const [a, b, paid] = await Promise.all([
        reconcilers[0]?.pass(),
        reconcilers[1]?.pass(),
        checkout.pay(run.request),
      ]);
      expect(paid.status).toBe("paid");
      expect((a?.failed ?? 0) + (b?.failed ?? 0)).toBe(0);
      expect(await unfinished(rid)).toBe(0);
      expect(await moneyOf(rid)).toMatchObject({ captures: 1, refunds: 0 });
      expect((await store.events(rid)).filter((e) => e.toStatus === "paid")).toHaveLength(1);
    } finally {
      await otherStore.close();
    }
  }, 120_000);

  it("concurrent pays of one order with different keys keep one capture and refund the others", async () => {
    const request = await holdAndRequest(600_000);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => checkout.pay({ ...request, idempotencyKey: key() })),
    );
    for (const order of results) expect(order.status).toBe("paid");
    const money = await moneyOf(request.reservationId);
    expect(money.captures - money.refunds).toBe(1);
    expect(
      (await store.paymentAttempts(request.reservationId)).filter((a) => a.status === "succeeded"),
    ).toHaveLength(1);
  });
});
