import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childLogger, type RedisClient } from "../../core/index.ts";
import { type OrderQueues, OutboxRelay, openQueues } from "../../orders/index.ts";
import { decodeOutboxEntry, decodeOutboxTraces } from "../../protocol/index.ts";
import { SaleEngine } from "../../sale-engine/index.ts";
import { SpanKind, startSpan, traceparentOf, tracing } from "../../telemetry/index.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

let redis: PrivateRedis;
let client: RedisClient;
let engine: SaleEngine;
let queues: OrderQueues;

beforeAll(async () => {
  redis = await startPrivateRedis();
  client = redis.client();
  const prefix = uniquePrefix("trace-off");
  engine = await SaleEngine.create({ redis: client, prefix });
  queues = await openQueues(redis.client(), prefix);
}, 60_000);

afterAll(async () => {
  await queues?.close();
  await engine?.close();
  await redis?.stop();
});

/** Polls until `read` resolves to a value (bounded). */
async function eventually<T>(
  read: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("tracing off (no OTLP endpoint)", () => {
  it("the span helpers make nothing: no span, no carrier", () => {
    expect(tracing()).toBe(false);
    const span = startSpan("buy", SpanKind.SERVER);
    expect(span).toBeUndefined();
    expect(traceparentOf(span)).toBeUndefined();
  });

  it("a buy's outbox entry and its order job carry no trace field", async () => {
    const def = dropDefinition({ initialStock: 3 });
    await engine.createDrop(def);
    const held = await Promise.all(
      ["u-1", "u-2"].map((userId) =>
        engine.reserve({ dropId: def.dropId, userId, qty: 1, idempotencyKey: key() }),
      ),
    );
    // Read before any relay runs: the entry as reserve.lua wrote it.
    const entries = (await client.xrange(engine.keys.drop(def.dropId).outbox, "-", "+")) as [
      string,
      string[],
    ][];
    expect(entries.length).toBeGreaterThan(0);
    for (const [, fields] of entries) {
      expect(fields.filter((_, i) => i % 2 === 0)).toEqual(["e"]);
      expect(decodeOutboxTraces(fields)).toBeUndefined();
    }

    const relay = OutboxRelay.start({ redis: client, engine, queues, log: childLogger("test"), idleMs: 20 });
    try {
      for (const r of held) {
        const job = await eventually(
          async () => (await queues.orders.getJob(r.reservationId)) ?? undefined,
          `order job ${r.reservationId}`,
        );
        expect(job.data).toMatchObject({ kind: "create", reservationId: r.reservationId });
        expect(Object.keys(job.data)).not.toContain("trace");
      }
    } finally {
      await relay.stop();
    }
  });

  it("an outbox entry whose trace field is bad still gives its events; the trace is dropped", () => {
    const event = {
      type: "reservation.placed",
      drop: "d-1",
      room: "r-1",
      v: 1,
      at: Date.now(),
      state: "live",
      available: 1,
      held: 1,
      sold: 0,
      reservation: "d-1.1",
      user: "u-1",
      qty: 1,
      deadline: Date.now() + 60_000,
    };
    const fields = ["e", JSON.stringify([event]), "t", '{"d-1.1":"not-a-traceparent"}'];
    const decoded = decodeOutboxEntry(fields);
    expect(decoded.ok ? decoded.value.map((e) => e.type) : decoded.error).toEqual(["reservation.placed"]);
    expect(decodeOutboxTraces(fields)).toBeUndefined();
    const good = `00-${"a".repeat(32)}-${"b".repeat(16)}-01`;
    expect(decodeOutboxTraces(["e", "[]", "t", JSON.stringify({ "d-1.1": good })])).toEqual({
      "d-1.1": good,
    });
  });
});
