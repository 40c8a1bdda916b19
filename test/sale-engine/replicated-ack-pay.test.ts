import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLivedropError } from "../../core/index.ts";
import { Checkout, OrderStore, SandboxPaymentProvider, SandboxToken } from "../../orders/index.ts";
import { SaleEngine } from "../../sale-engine/index.ts";
import { uniquePrefix } from "../harness/redis.ts";
import { RedisReplicaSet } from "../harness/redis-replica-set.ts";
import { dropDefinition, key } from "./fixtures.ts";

// A payment acknowledged with a replica required: the pay whose confirm the replica did not take
// in time answers REPLICATION_TIMEOUT with the capture recorded; the buyer's retry with the same
// key finishes that capture (no second charge) and answers paid once the replica has the sale.

const TIMEOUT_MS = 300;
const HEALTHY_TIMEOUT_MS = 5_000;
let set: RedisReplicaSet;
let store: OrderStore;
let dir: string;

beforeAll(async () => {
  set = await RedisReplicaSet.start("ack-pay");
  dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-ack-pay-orders-"));
  store = await OrderStore.open({ kind: "pglite", dataDir: dir });
}, 120_000);

afterAll(async () => {
  await store?.close();
  await set?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("replicated acknowledgement of a payment", () => {
  it("a pay whose confirm the stopped replica did not take is REPLICATION_TIMEOUT; the retry with the same key pays with the one capture", async () => {
    const prefix = uniquePrefix("ack-pay");
    const payments = new SandboxPaymentProvider(1_000);
    const checkoutWith = async (ackTimeoutMs: number) => {
      const engine = await SaleEngine.create({
        redis: set.client(set.master),
        prefix,
        ackReplicas: 1,
        ackTimeoutMs,
      });
      return {
        engine,
        checkout: new Checkout({ engine, store, payments, redis: engine.connection, keyPrefix: prefix }),
      };
    };
    const healthy = await checkoutWith(HEALTHY_TIMEOUT_MS);
    const short = await checkoutWith(TIMEOUT_MS);
    const drop = dropDefinition();
    await healthy.engine.createDrop(drop);
    const hold = await healthy.engine.reserve({
      dropId: drop.dropId,
      userId: "payer",
      qty: 1,
      idempotencyKey: key(),
    });
    const pay = {
      reservationId: hold.reservationId,
      userId: "payer",
      token: SandboxToken.success,
      idempotencyKey: key(),
    };

    let error: unknown;
    await set.withReplicaStopped(() =>
      short.checkout.pay(pay).catch((err: unknown) => {
        error = err;
      }),
    );
    expect(isLivedropError(error) ? error.code : String(error)).toBe("REPLICATION_TIMEOUT");
    expect(await store.paymentAttempt("payer", pay.idempotencyKey)).toMatchObject({ status: "captured" });

    await set.inSync();
    const order = await healthy.checkout.pay(pay);
    expect(order.status).toBe("paid");
    const reader = set.client(set.replica);
    const raw = await reader.hget(healthy.engine.keys.drop(drop.dropId).state, `r:${hold.reservationId}`);
    expect(raw?.split("|")[3]).toBe("C");
    const { captures } = await payments.statement();
    expect(captures.filter((c) => c.reference === hold.reservationId)).toHaveLength(1);
    await healthy.engine.close();
    await short.engine.close();
  });
});
