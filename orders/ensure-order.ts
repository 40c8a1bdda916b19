import type { DropStatus, SaleEngine } from "../sale-engine/index.ts";
import { formatOf, unitPriceOf } from "./sale-terms.ts";
import type { Order, OrderStore } from "./store/index.ts";

export type DropLookup = (dropId: string) => Promise<DropStatus>;

/**
 * The order of a reservation, created from the sale engine's record when it is not there yet.
 * Idempotent: the store is unique on reservation id, so racing callers end with one order.
 */
export async function ensureOrder(
  engine: SaleEngine,
  store: OrderStore,
  reservationId: string,
  dropOf: DropLookup = (dropId) => engine.status(dropId),
): Promise<{ created: boolean; order: Order }> {
  const existing = await store.get(reservationId);
  if (existing) return { created: false, order: existing };
  const hold = await engine.reservation(reservationId);
  const drop = await dropOf(hold.dropId);
  return store.createOrder({
    reservationId,
    dropId: hold.dropId,
    roomId: drop.roomId,
    userId: hold.userId,
    sku: drop.product.sku,
    title: drop.product.title,
    qty: hold.qty,
    // The record carries its own price when the hold was placed at another than the list price.
    unitPriceMinor: unitPriceOf(hold, drop),
    currency: drop.product.currency,
    holdDeadline: hold.deadline,
    format: formatOf(drop),
  });
}
