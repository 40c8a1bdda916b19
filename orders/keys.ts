/**
 * Every Redis key, channel and queue name of the order side is built here (the sale engine's own
 * are in sale-engine/keys.ts, reached only through its API). Names of one user or room carry it
 * as a hash tag, so each lives on one Redis Cluster slot.
 */

/** BullMQ queue names, under `queuePrefix`. */
export const QueueName = { orders: "orders", holds: "holds" } as const;

/** BullMQ key prefix: a hash tag, so each queue's keys share one Redis Cluster slot. */
export function queuePrefix(keyPrefix: string): string {
  return `{${keyPrefix}-orders}`;
}

/** The shard channel of one buyer's order updates (the gateway follows it per connected user). */
export function userOrderChannel(keyPrefix: string, userId: string): string {
  return `${keyPrefix}:user:{${userId}}:orders`;
}

/** The shard channel of a room's order updates. */
export function roomOrderChannel(keyPrefix: string, roomId: string): string {
  return `${keyPrefix}:room:{${roomId}}:orders`;
}

/** Shard channels an order update goes to: the buyer's own, and the room's. */
export function orderChannels(keyPrefix: string, order: { userId: string; roomId: string }) {
  return { user: userOrderChannel(keyPrefix, order.userId), room: roomOrderChannel(keyPrefix, order.roomId) };
}

/** Redis hash of one book of the sandbox payment provider's ledger. */
export function sandboxLedgerKey(keyPrefix: string, book: string): string {
  return `${keyPrefix}:sandbox:${book}`;
}
