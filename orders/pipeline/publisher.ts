import type { RedisClient } from "../../core/index.ts";
import { encodeOrderUpdate, type OrderUpdate, type OrderUpdateType } from "../../protocol/index.ts";
import { orderChannels } from "../keys.ts";
import type { Order } from "../store/index.ts";

export type { OrderUpdate, OrderUpdateType };

/**
 * Publishes an order change for the gateway to deliver (at most once, like all pub/sub: the
 * order store is the record; a client that missed one reads its order status). The payload is
 * protocol's order update; the gateway reads it with `decodeOrderUpdate`.
 */
export async function publishOrderUpdate(
  redis: RedisClient,
  keyPrefix: string,
  type: OrderUpdateType,
  order: Order,
  /** Tracing on: the publish span's traceparent, for the gateway's order frame span. */
  trace?: string,
): Promise<void> {
  const update: OrderUpdate = {
    type,
    reservationId: order.reservationId,
    dropId: order.dropId,
    roomId: order.roomId,
    userId: order.userId,
    qty: order.qty,
    totalMinor: order.totalMinor,
    currency: order.currency,
    status: order.status,
    at: Date.now(),
  };
  if (trace !== undefined) update.trace = trace;
  const payload = encodeOrderUpdate(update);
  const channels = orderChannels(keyPrefix, order);
  await Promise.all([redis.spublish(channels.user, payload), redis.spublish(channels.room, payload)]);
}
