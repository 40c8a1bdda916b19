import type { RedisClient } from "../../core/index.ts";
import type { Order } from "../store/index.ts";

export type OrderUpdateType =
  | "order.created"
  | "order.paid"
  | "order.expired"
  | "order.cancelled"
  | "order.refunded";

export interface OrderUpdate {
  readonly type: OrderUpdateType;
  readonly reservationId: string;
  readonly dropId: string;
  readonly roomId: string;
  readonly userId: string;
  readonly qty: number;
  readonly totalMinor: number;
  readonly currency: string;
  readonly status: Order["status"];
  readonly at: number;
}

/** The shard channel of one buyer's order updates (the gateway follows it per connected user). */
export function userOrderChannel(keyPrefix: string, userId: string): string {
  return `${keyPrefix}:user:{${userId}}:orders`;
}

/** Shard channels an order update goes to: the buyer's own, and the room's. */
export function orderChannels(keyPrefix: string, order: { userId: string; roomId: string }) {
  return {
    user: userOrderChannel(keyPrefix, order.userId),
    room: `${keyPrefix}:room:{${order.roomId}}:orders`,
  };
}

/**
 * Publishes an order change for the gateway to deliver (at most once, like all pub/sub: the
 * order store is the record; a client that missed one reads its order status).
 */
export async function publishOrderUpdate(
  redis: RedisClient,
  keyPrefix: string,
  type: OrderUpdateType,
  order: Order,
): Promise<void> {
  const event: OrderUpdate = {
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
  const payload = JSON.stringify(event);
  const channels = orderChannels(keyPrefix, order);
  await Promise.all([redis.spublish(channels.user, payload), redis.spublish(channels.room, payload)]);
}
