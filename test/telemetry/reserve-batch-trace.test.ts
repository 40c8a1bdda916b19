import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClient } from "../../core/index.ts";
import { decodeOutboxEntry, decodeOutboxTraces } from "../../protocol/index.ts";
import { SaleEngine } from "../../sale-engine/index.ts";
import {
  endSpan,
  type Span,
  SpanKind,
  startSpan,
  startTelemetry,
  type Telemetry,
  traceparentOf,
  tracing,
} from "../../telemetry/index.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";
import { OtlpReceiver } from "./otlp-receiver.ts";

let redis: PrivateRedis;
let client: RedisClient;
let engine: SaleEngine;
let receiver: OtlpReceiver;
let telemetry: Telemetry;

beforeAll(async () => {
  [redis, receiver] = await Promise.all([startPrivateRedis(), OtlpReceiver.start()]);
  client = redis.client();
  engine = await SaleEngine.create({ redis: client, prefix: uniquePrefix("trace-batch") });
  telemetry = await startTelemetry(
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: 50,
      OTEL_BSP_MAX_QUEUE_SIZE: 2048,
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: 512,
      OTEL_BSP_EXPORT_TIMEOUT: 10_000,
    },
    "test",
  );
}, 60_000);

afterAll(async () => {
  await telemetry?.shutdown();
  await engine?.close();
  await Promise.all([redis?.stop(), receiver?.close()]);
});

async function outboxFields(dropId: string): Promise<string[][]> {
  const entries = (await client.xrange(engine.keys.drop(dropId).outbox, "-", "+")) as [string, string[]][];
  return entries.map(([, fields]) => fields);
}

describe("trace context through a batched reserve (tracing on)", () => {
  it("buys batched into one reserve call keep their own spans and parents; the outbox entry maps each traced hold to its reserve span", async () => {
    expect(tracing()).toBe(true);
    const def = dropDefinition({ initialStock: 10 });
    await engine.createDrop(def);
    const parents = [startSpan("buy", SpanKind.SERVER), startSpan("buy", SpanKind.SERVER)] as Span[];
    // Same tick: one batch, one script call, one outbox entry. The third buy has no trace.
    const held = await Promise.all([
      engine.reserve({ dropId: def.dropId, userId: "u-a", qty: 1, idempotencyKey: key() }, parents[0]),
      engine.reserve({ dropId: def.dropId, userId: "u-b", qty: 1, idempotencyKey: key() }, parents[1]),
      engine.reserve({ dropId: def.dropId, userId: "u-c", qty: 1, idempotencyKey: key() }),
    ]);
    for (const p of parents) endSpan(p, "held");

    const entries = await outboxFields(def.dropId);
    expect(entries).toHaveLength(1);
    const fields = entries[0] as string[];
    const events = decodeOutboxEntry(fields);
    expect(events.ok && events.value.map((e) => e.type === "reservation.placed" && e.reservation)).toEqual(
      held.map((h) => h.reservationId),
    );
    const traces = decodeOutboxTraces(fields);
    expect(Object.keys(traces ?? {}).sort()).toEqual([held[0]?.reservationId, held[1]?.reservationId].sort());

    await telemetry.flush();
    const reserves = receiver.spans.filter((s) => s.name === "sale.reserve");
    expect(reserves).toHaveLength(2);
    held.slice(0, 2).forEach((h, i) => {
      const parent = (parents[i] as Span).spanContext();
      const span = reserves.find((s) => s.attributes["livedrop.reservation.id"] === h.reservationId);
      expect(span).toMatchObject({ traceId: parent.traceId, parentSpanId: parent.spanId });
      // The carrier is the reserve span's own context: the relay's span becomes its child.
      expect(traces?.[h.reservationId]).toBe(`00-${span?.traceId}-${span?.spanId}-01`);
    });
  });

  it("reserve.lua drops a trace argument that is not a traceparent (no JSON breaks out of the entry)", async () => {
    const def = dropDefinition({ initialStock: 10 });
    await engine.createDrop(def);
    const k = engine.keys.drop(def.dropId);
    const lua = ["_prelude", "reserve"]
      .map((f) => readFileSync(new URL(`../../sale-engine/lua/${f}.lua`, import.meta.url), "utf8"))
      .join("\n");
    const good = traceparentOf(startSpan("buy", SpanKind.SERVER)) as string;
    const evil = `00-${"a".repeat(32)}-${"b".repeat(16)}-0","x":"1`;
    // KEYS, then drop id, n = 2, (user, qty, key) twice, log length, one trace per request.
    await client.eval(
      lua,
      5,
      k.state,
      k.holds,
      k.outbox,
      k.events,
      k.log,
      def.dropId,
      2,
      "u-1",
      1,
      key(),
      "u-2",
      1,
      key(),
      100,
      evil,
      good,
    );
    const [fields] = await outboxFields(def.dropId);
    const traces = decodeOutboxTraces(fields as string[]);
    expect(Object.values(traces ?? {})).toEqual([good]);
  });
});
