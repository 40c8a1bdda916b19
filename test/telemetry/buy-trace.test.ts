import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenService } from "../../auth/index.ts";
import type { RedisClient } from "../../core/index.ts";
import { freePort } from "../../deploy/index.ts";
import type { ServerFrame } from "../../protocol/index.ts";
import { SaleEngine } from "../../sale-engine/index.ts";
import { type PrivatePostgres, startPrivatePostgres } from "../harness/postgres.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";
import { OtlpReceiver, type ReceivedSpan } from "./otlp-receiver.ts";
import { type RoleProcess, startRole } from "./roles.ts";

const SECRET = "buy-trace-secret-".padEnd(48, "x");
/** Personal data that must never reach a span: the buyer's id and display name. */
const BUYER = { userId: "buyer-tr4ce-5ecret", name: "Ada Lovelace-Tracewatch" };
/** OTLP span kinds (the wire enum: the API's SpanKind + 1). */
const KIND = { server: 2, client: 3, producer: 4, consumer: 5 } as const;

let redis: PrivateRedis;
let pg: PrivatePostgres;
let receiver: OtlpReceiver;
let client: RedisClient;
let dataDir: string;
const engines: SaleEngine[] = [];
const roles: RoleProcess[] = [];

beforeAll(async () => {
  [redis, pg, receiver] = await Promise.all([
    startPrivateRedis(),
    startPrivatePostgres(),
    OtlpReceiver.start(),
  ]);
  dataDir = mkdtempSync(path.join(os.tmpdir(), "livedrop-trace-"));
  client = redis.client();
}, 120_000);

afterAll(async () => {
  await Promise.all(roles.map((r) => r.stop()));
  for (const e of engines) await e.close();
  await Promise.all([redis?.stop(), pg?.stop(), receiver?.close()]);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/**
 * A gateway and a worker process exporting to the receiver, on a key prefix of their own, and
 * an engine on that prefix for the test to create drops with.
 */
async function startTracedRoles(scheduleDelayMs: number): Promise<{
  gatewayUrl: string;
  engine: SaleEngine;
  gateway: RoleProcess;
  worker: RoleProcess;
}> {
  const prefix = uniquePrefix("trace");
  const engine = await SaleEngine.create({ redis: client, prefix });
  engines.push(engine);
  const env = {
    REDIS_URL: redis.url,
    DATABASE_URL: pg.url,
    LIVEDROP_KEY_PREFIX: prefix,
    LIVEDROP_DATA_DIR: dataDir,
    LIVEDROP_SHADOW: "off",
    LOG_LEVEL: "warn",
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_BSP_SCHEDULE_DELAY: String(scheduleDelayMs),
  };
  const [gatewayPort, workerPort] = [await freePort(), await freePort()];
  const gateway = await startRole(
    "gateway",
    { ...env, GATEWAY_PORT: String(gatewayPort), GATEWAY_TOKEN_SECRET: SECRET },
    "livedrop gateway on",
  );
  roles.push(gateway);
  const worker = await startRole(
    "worker",
    { ...env, WORKER_PORT: String(workerPort) },
    "livedrop worker running",
  );
  roles.push(worker);
  return { gatewayUrl: `http://127.0.0.1:${gatewayPort}`, engine, gateway, worker };
}

/** One buy over WebSocket by BUYER; resolves with its reservation id once its order frame came. */
async function buyOnce(gatewayUrl: string, engine: SaleEngine, roomId: string): Promise<string> {
  const def = dropDefinition({ roomId, initialStock: 5 });
  await engine.createDrop(def);
  const tokens = await TokenService.create({ secret: SECRET });
  const socket = await TestSocket.connect(
    gatewayUrl,
    await tokens.issue({ ...BUYER, role: "viewer", ttlSeconds: 600 }),
  );
  try {
    socket.send({ t: "buy", reqId: "b1", dropId: def.dropId, qty: 1, idempotencyKey: key() });
    const ack = await socket.next<Extract<ServerFrame, { t: "ack" }>>(
      (f) => f.t === "ack" && f.reqId === "b1",
    );
    if (!ack.ok || ack.result.kind !== "buy") throw new Error(`buy refused: ${JSON.stringify(ack)}`);
    const rid = ack.result.reservationId;
    await socket.next((f) => f.t === "order" && f.reservationId === rid, 30_000);
    return rid;
  } finally {
    socket.close();
  }
}

/** Polls until `read` gives a value (bounded: the spans come from other processes' batch timers). */
async function eventually<T>(read: () => T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const SPAN_NAMES = [
  "buy",
  "sale.reserve",
  "outbox.relay",
  "order.job",
  "order.insert",
  "order.publish",
  "order.frame",
] as const;

describe("traces of a buy (OTEL_EXPORTER_OTLP_ENDPOINT set)", () => {
  it("one buy over WebSocket is one trace from the frame through reserve, relay, job and order row to the order frame", async () => {
    // Exported within 100 ms of ending, so the test waits for spans, not for a 5 s batch timer.
    const { gatewayUrl, engine } = await startTracedRoles(100);
    const rid = await buyOnce(gatewayUrl, engine, "trace-room");

    const root = await eventually(
      () => receiver.spans.find((s) => s.name === "buy" && s.attributes["livedrop.reservation.id"] === rid),
      "the buy span",
    );
    const spans = await eventually(() => {
      const inTrace = receiver.spans.filter((s) => s.traceId === root.traceId);
      return SPAN_NAMES.every((n) => inTrace.some((s) => s.name === n)) ? inTrace : undefined;
    }, `every span of trace ${root.traceId}`);

    // Exactly one of each, all in the buy's trace.
    expect(spans.map((s) => s.name).sort()).toEqual([...SPAN_NAMES].sort());
    const byName = Object.fromEntries(spans.map((s) => [s.name, s])) as Record<
      (typeof SPAN_NAMES)[number],
      ReceivedSpan
    >;
    const parentOf = (name: (typeof SPAN_NAMES)[number]) =>
      spans.find((s) => s.spanId === byName[name].parentSpanId)?.name ?? "(none)";
    expect({
      "sale.reserve": parentOf("sale.reserve"),
      "outbox.relay": parentOf("outbox.relay"),
      "order.job": parentOf("order.job"),
      "order.insert": parentOf("order.insert"),
      "order.publish": parentOf("order.publish"),
      "order.frame": parentOf("order.frame"),
    }).toEqual({
      "sale.reserve": "buy",
      "outbox.relay": "sale.reserve",
      "order.job": "outbox.relay",
      "order.insert": "order.job",
      "order.publish": "order.job",
      "order.frame": "order.publish",
    });
    expect(byName.buy.parentSpanId).toBe("");

    // Each step in the process that does it, with the kind of its role in the exchange.
    expect(spans.map((s) => [s.name, s.service, s.kind]).sort()).toEqual(
      [
        ["buy", "livedrop-gateway", KIND.server],
        ["sale.reserve", "livedrop-gateway", KIND.client],
        ["outbox.relay", "livedrop-worker", KIND.consumer],
        ["order.job", "livedrop-worker", KIND.consumer],
        ["order.insert", "livedrop-worker", KIND.client],
        ["order.publish", "livedrop-worker", KIND.producer],
        ["order.frame", "livedrop-gateway", KIND.consumer],
      ].sort(),
    );

    // Ids of the drop, room and hold, and the outcome; nothing that names the buyer.
    expect(byName.buy.attributes).toMatchObject({
      "livedrop.drop.id": rid.slice(0, rid.lastIndexOf(".")),
      "livedrop.reservation.id": rid,
      "livedrop.outcome": "held",
    });
    expect(byName["order.job"].attributes).toMatchObject({
      "livedrop.room.id": "trace-room",
      "livedrop.reservation.id": rid,
      "livedrop.outcome": "created",
    });
    expect(byName["order.frame"].attributes).toMatchObject({ "livedrop.outcome": "sent" });
    for (const s of spans)
      for (const value of Object.values(s.attributes)) {
        expect(String(value)).not.toContain(BUYER.userId);
        expect(String(value)).not.toContain(BUYER.name);
      }
    for (const body of receiver.bodies) {
      expect(body).not.toContain(BUYER.userId);
      expect(body).not.toContain(BUYER.name);
    }
  }, 90_000);

  it("spans a role still holds when it stops are exported by its shutdown", async () => {
    // A batch timer longer than the test: only the flush on SIGTERM can send these spans.
    const { gatewayUrl, engine, gateway, worker } = await startTracedRoles(600_000);
    const rid = await buyOnce(gatewayUrl, engine, "flush-room");
    expect(receiver.spans.filter((s) => s.attributes["livedrop.reservation.id"] === rid)).toEqual([]);
    expect(await Promise.all([gateway.stop(), worker.stop()])).toEqual([0, 0]);
    const root = receiver.spans.find(
      (s) => s.name === "buy" && s.attributes["livedrop.reservation.id"] === rid,
    );
    expect(root).toBeDefined();
    const names = receiver.spans.filter((s) => s.traceId === root?.traceId).map((s) => s.name);
    expect(names.sort()).toEqual([...SPAN_NAMES].sort());
  }, 90_000);
});
