import { setTracer } from "./spans.ts";

/** The configuration fields tracing reads (core/config-telemetry.ts documents them). */
export interface TelemetryConfig {
  readonly OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  readonly OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
  readonly OTEL_SERVICE_NAME?: string | undefined;
  readonly OTEL_BSP_SCHEDULE_DELAY: number;
  readonly OTEL_BSP_MAX_QUEUE_SIZE: number;
  readonly OTEL_BSP_MAX_EXPORT_BATCH_SIZE: number;
  readonly OTEL_BSP_EXPORT_TIMEOUT: number;
}

export interface Telemetry {
  /** Where spans go, or undefined when tracing is off. */
  readonly endpoint: string | undefined;
  /** Exports what is still queued. */
  flush(): Promise<void>;
  /** Flushes, then stops recording. Safe to call twice. */
  shutdown(): Promise<void>;
}

const OFF: Telemetry = { endpoint: undefined, flush: async () => {}, shutdown: async () => {} };

/** The OTLP/HTTP traces URL the configuration names, if any (the base URL gets `/v1/traces`). */
export function tracesEndpoint(cfg: TelemetryConfig): string | undefined {
  if (cfg.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return cfg.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (cfg.OTEL_EXPORTER_OTLP_ENDPOINT)
    return `${cfg.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, "")}/v1/traces`;
  return undefined;
}

/**
 * Starts trace export for one role when an OTLP endpoint is configured: spans of this process
 * are batched and sent as OTLP/HTTP JSON with service name `livedrop-<role>` (or
 * OTEL_SERVICE_NAME). Without an endpoint nothing starts and every span helper stays a no-op.
 */
export async function startTelemetry(cfg: TelemetryConfig, role: string): Promise<Telemetry> {
  const url = tracesEndpoint(cfg);
  if (url === undefined) return OFF;
  // Loaded only when tracing is on: a role without an endpoint never pays for the SDK's modules.
  const [
    { OTLPTraceExporter },
    { resourceFromAttributes },
    { BasicTracerProvider, BatchSpanProcessor },
    semconv,
  ] = await Promise.all([
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/semantic-conventions"),
  ]);
  const maxQueueSize = cfg.OTEL_BSP_MAX_QUEUE_SIZE;
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      [semconv.ATTR_SERVICE_NAME]: cfg.OTEL_SERVICE_NAME ?? `livedrop-${role}`,
    }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url, timeoutMillis: cfg.OTEL_BSP_EXPORT_TIMEOUT }), {
        scheduledDelayMillis: cfg.OTEL_BSP_SCHEDULE_DELAY,
        maxQueueSize,
        maxExportBatchSize: Math.min(cfg.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, maxQueueSize),
        exportTimeoutMillis: cfg.OTEL_BSP_EXPORT_TIMEOUT,
      }),
    ],
  });
  setTracer(provider.getTracer("livedrop"));
  let stopped: Promise<void> | undefined;
  return {
    endpoint: url,
    flush: () => provider.forceFlush(),
    shutdown() {
      stopped ??= (async () => {
        setTracer(undefined);
        await provider.shutdown();
      })();
      return stopped;
    },
  };
}
