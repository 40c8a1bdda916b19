import { z } from "zod";
import { type Decoded, decodeJson } from "./decode.ts";
import { type ReservationEvent, reservationEventSchema } from "./sale-events.ts";

/**
 * A drop's outbox stream entry, written by the sale engine's scripts in the same call as the
 * change, read by the order relay: one field `e` holding a JSON array of reservation events,
 * oldest first (one change, or every hold a batched reserve placed). A lone event (not in an
 * array) is read as a one-event entry.
 */
export const OUTBOX_FIELD = "e";
/**
 * Optional field `t` (tracing on): a JSON object from reservation id to the W3C `traceparent` of
 * the reserve call that placed that hold. Entries without it decode as before.
 */
export const OUTBOX_TRACE_FIELD = "t";

/** A W3C trace context header value: `version-traceid-spanid-flags` in lowercase hex. */
export const traceparentSchema = z.string().regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);

export const outboxTracesSchema = z.record(z.string().max(200), traceparentSchema);

export const outboxEventsSchema = z.preprocess(
  (v) => (Array.isArray(v) ? v : [v]),
  z.array(reservationEventSchema).min(1),
);

/** An entry's fields as Redis returns them (`[name, value, ...]`) decoded to its events. */
export function decodeOutboxEntry(fields: readonly string[]): Decoded<ReservationEvent[]> {
  let payload: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === OUTBOX_FIELD) payload = fields[i + 1];
  if (payload === undefined) return { ok: false, error: `no field ${OUTBOX_FIELD}` };
  return decodeJson(outboxEventsSchema, payload);
}

/**
 * The trace carriers of an entry, by reservation id; undefined when it has none or they do not
 * decode (a lost trace never loses the entry's events).
 */
export function decodeOutboxTraces(fields: readonly string[]): Readonly<Record<string, string>> | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2)
    if (fields[i] === OUTBOX_TRACE_FIELD) {
      const decoded = decodeJson(outboxTracesSchema, fields[i + 1] as string);
      return decoded.ok ? decoded.value : undefined;
    }
  return undefined;
}
