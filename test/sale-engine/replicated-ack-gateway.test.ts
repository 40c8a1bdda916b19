import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenService } from "../../auth/index.ts";
import { childLogger } from "../../core/index.ts";
import { GatewayServer } from "../../gateway/index.ts";
import { Checkout, OrderStore, SandboxPaymentProvider } from "../../orders/index.ts";
import type { ServerFrame } from "../../protocol/index.ts";
import { SaleEngine } from "../../sale-engine/index.ts";
import { uniquePrefix } from "../harness/redis.ts";
import { RedisReplicaSet } from "../harness/redis-replica-set.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition, key } from "./fixtures.ts";

// What a buyer sees of REPLICATION_TIMEOUT: HTTP 503 with Retry-After, a WebSocket ack with the
// code and `retryable: true`; the HTTP retry with the same key answers the hold as a replay.

/** WAIT timeout of the gateway's engine, ms. */
const ACK_TIMEOUT_MS = 1_000;
let set: RedisReplicaSet;
let dir: string;
let store: OrderStore;
let engine: SaleEngine;
let gateway: GatewayServer;
let tokens: TokenService;

beforeAll(async () => {
  set = await RedisReplicaSet.start("ack-gw");
  dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-ack-gw-orders-"));
  store = await OrderStore.open({ kind: "pglite", dataDir: dir });
  const redis = set.client(set.master);
  const prefix = uniquePrefix("ack-gw");
  engine = await SaleEngine.create({ redis, prefix, ackReplicas: 1, ackTimeoutMs: ACK_TIMEOUT_MS });
  const payments = new SandboxPaymentProvider(1_000);
  tokens = await TokenService.create({ secret: "s".repeat(48) });
  gateway = await GatewayServer.create({
    host: "127.0.0.1",
    port: 0,
    redis,
    store,
    engine,
    checkout: new Checkout({ engine, store, payments, redis, keyPrefix: prefix }),
    tokens,
    guestTokenTtlS: 3600,
    subscriber: set.client(set.master),
    keyPrefix: prefix,
    log: childLogger("test-gateway"),
  });
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await engine?.close();
  await store?.close();
  await set?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("REPLICATION_TIMEOUT at the gateway", () => {
  it("HTTP answers 503 with Retry-After and the code; the retry with the same key answers 200 with the same hold", async () => {
    const drop = dropDefinition();
    await engine.createDrop(drop);
    const token = await tokens.issue({ userId: "http-buyer", role: "viewer", rooms: [], ttlSeconds: 3600 });
    const body = JSON.stringify({ qty: 1, idempotencyKey: key() });
    const buy = () =>
      fetch(`${gateway.url}/api/v1/drops/${drop.dropId}/buy`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body,
      });
    const refused = await set.withReplicaStopped(buy);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    const { error } = (await refused.json()) as {
      error: { code: string; details?: { reservationId?: string } };
    };
    expect(error.code).toBe("REPLICATION_TIMEOUT");

    await set.inSync();
    const retried = await buy();
    expect(retried.status).toBe(200);
    const hold = (await retried.json()) as { reservationId: string; replayed: boolean };
    expect(hold).toMatchObject({ reservationId: error.details?.reservationId, replayed: true });
  });

  it("a WebSocket buy gets an ack with REPLICATION_TIMEOUT and retryable: true", async () => {
    const drop = dropDefinition();
    await engine.createDrop(drop);
    await set.inSync();
    const token = await tokens.issue({ userId: "ws-buyer", role: "viewer", rooms: [], ttlSeconds: 3600 });
    const socket = await TestSocket.connect(gateway.url, token);
    try {
      const ack = await set.withReplicaStopped(async () => {
        socket.send({ t: "buy", reqId: "b1", dropId: drop.dropId, qty: 1, idempotencyKey: key() });
        return socket.next<Extract<ServerFrame, { t: "ack" }>>((f) => f.t === "ack" && f.reqId === "b1");
      });
      expect(ack).toMatchObject({ ok: false, code: "REPLICATION_TIMEOUT", retryable: true });
    } finally {
      socket.close();
    }
  });
});
