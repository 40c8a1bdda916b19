import type { SaleEvent } from "./types.ts";

/**
 * Every message on a drop's event channel and every outbox entry (field `e`) is a JSON array of
 * events, oldest first: one change, or every hold a batched reserve placed.
 */
export function parseEventMessage(payload: string): SaleEvent[] {
  const parsed: unknown = JSON.parse(payload);
  return Array.isArray(parsed) ? (parsed as SaleEvent[]) : [parsed as SaleEvent];
}
