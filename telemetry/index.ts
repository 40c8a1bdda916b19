/**
 * Traces of a buy, end to end (OpenTelemetry, OTLP/HTTP). Imports nothing of the server: roles
 * start it with their configuration; the buy path makes its spans through these helpers, which
 * cost one boolean check when tracing is off.
 */
export { startTelemetry, type Telemetry, type TelemetryConfig, tracesEndpoint } from "./sdk.ts";
export { endSpan, type Span, SpanAttr, SpanKind, startSpan, traceparentOf, tracing } from "./spans.ts";
