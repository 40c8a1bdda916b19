import { z } from "zod";

/** Batch span processor bounds: positive integers within a range. */
const bounded = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * OpenTelemetry trace export (the standard OTEL_* names; core/config.ts composes them). Tracing is
 * on only when an OTLP endpoint is set; unset, no span is made anywhere.
 */
export const telemetryConfigFields = {
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .url()
    .optional()
    .describe(
      "OTLP/HTTP collector base URL, e.g. `http://collector:4318`; spans go to `<url>/v1/traces` (JSON). Setting it turns tracing on. Default unset (no traces).",
    ),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z
    .url()
    .optional()
    .describe(
      "Full OTLP/HTTP traces URL, used as is; takes precedence over OTEL_EXPORTER_OTLP_ENDPOINT and also turns tracing on. Default unset.",
    ),
  OTEL_SERVICE_NAME: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe(
      "Service name on every span. Default `livedrop-<role>` (`livedrop-gateway`, `livedrop-worker`, ...).",
    ),
  OTEL_BSP_SCHEDULE_DELAY: bounded(1, 600_000)
    .default(5_000)
    .describe("Longest wait before finished spans are exported, milliseconds. Default 5000."),
  OTEL_BSP_MAX_QUEUE_SIZE: bounded(1, 1_000_000)
    .default(2_048)
    .describe("Finished spans kept waiting for export; past it new spans are dropped. Default 2048."),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: bounded(1, 1_000_000)
    .default(512)
    .describe("Spans per export request (at most OTEL_BSP_MAX_QUEUE_SIZE). Default 512."),
  OTEL_BSP_EXPORT_TIMEOUT: bounded(1, 600_000)
    .default(30_000)
    .describe("How long one export request may take before it is abandoned, milliseconds. Default 30000."),
};
