import {
  type Attributes,
  isSpanContextValid,
  type Link,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";

export { type Span, SpanKind };

/**
 * The few spans livedrop owns, made by hand (no auto-instrumentation). Until startTelemetry()
 * installs a tracer every helper returns at once: no span, no carrier, no allocation. Callers set
 * attributes with `span?.setAttributes({...})`, so the attribute object is never built when off.
 */
let tracer: Tracer | undefined;

/** Span attribute names. Ids of drops, rooms and holds only: never a user id, name or token. */
export const SpanAttr = {
  drop: "livedrop.drop.id",
  room: "livedrop.room.id",
  reservation: "livedrop.reservation.id",
  outcome: "livedrop.outcome",
} as const;

/** Installed by the SDK start; undefined again after its shutdown. */
export function setTracer(t: Tracer | undefined): void {
  tracer = t;
}

/** True while spans are recorded and exported. */
export function tracing(): boolean {
  return tracer !== undefined;
}

/**
 * Starts a span, child of `parent`: a span of this process, a W3C `traceparent` carried from
 * another one, or nothing (a new trace). A carrier that does not parse starts a new trace.
 */
export function startSpan(
  name: string,
  kind: SpanKind,
  parent?: Span | string,
  links?: Link[],
): Span | undefined {
  if (tracer === undefined) return undefined;
  const ctx =
    parent === undefined
      ? ROOT_CONTEXT
      : typeof parent === "string"
        ? contextOf(parent)
        : trace.setSpan(ROOT_CONTEXT, parent);
  return tracer.startSpan(name, links ? { kind, links } : { kind }, ctx);
}

/** The W3C `traceparent` of a span, to carry to the next step (undefined when off). */
export function traceparentOf(span: Span | undefined): string | undefined {
  if (span === undefined) return undefined;
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

/** W3C trace context: `version-traceid-spanid-flags`; version ff and all-zero ids are invalid. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

function contextOf(traceparent: string) {
  const m = TRACEPARENT.exec(traceparent);
  if (!m || m[1] === "ff") return ROOT_CONTEXT;
  const remote: SpanContext = {
    traceId: m[2] as string,
    spanId: m[3] as string,
    traceFlags: Number.parseInt(m[4] as string, 16),
    isRemote: true,
  };
  return isSpanContextValid(remote) ? trace.setSpanContext(ROOT_CONTEXT, remote) : ROOT_CONTEXT;
}

/** Ends a span with its outcome; an error marks it failed with its code (a message may name a user). */
export function endSpan(span: Span | undefined, outcome: string, err?: unknown): void {
  if (span === undefined) return;
  const attrs: Attributes = { [SpanAttr.outcome]: outcome };
  span.setAttributes(attrs);
  if (err !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: errorCode(err) });
  span.end();
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  return err instanceof Error ? err.name : "error";
}
