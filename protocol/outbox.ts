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
