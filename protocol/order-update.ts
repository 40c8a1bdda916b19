import { z } from "zod";
import { type Decoded, decodeJson } from "./decode.ts";
import { productSchema } from "./drop-fields.ts";
import { epochMsSchema, orderStatusSchema } from "./fields.ts";
import { dropIdSchema, reservationIdSchema, roomIdSchema, userIdSchema } from "./ids.ts";
import { traceparentSchema } from "./outbox.ts";
import { buyQtySchema } from "./quantities.ts";

/**
 * What the order pipeline publishes on a buyer's and a room's order channels when an order
 * changes; the gateway turns it into an `order` frame. At most once (pub/sub): the order store is
 * the record.
 */
export const ORDER_UPDATE_TYPES = [
  "order.created",
  "order.paid",
  "order.expired",
  "order.cancelled",
  "order.refunded",
] as const;
export type OrderUpdateType = (typeof ORDER_UPDATE_TYPES)[number];

export const orderUpdateSchema = z.object({
  type: z.enum(ORDER_UPDATE_TYPES),
  reservationId: reservationIdSchema,
  dropId: dropIdSchema,
  roomId: roomIdSchema,
  userId: userIdSchema,
  qty: buyQtySchema,
  totalMinor: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  currency: productSchema.shape.currency,
  status: orderStatusSchema,
  /** When the publisher saw the change, ms epoch. */
  at: epochMsSchema,
  /** Tracing on: the W3C traceparent of the publish, parent of the gateway's order frame span. */
  trace: traceparentSchema.optional(),
});
export type OrderUpdate = z.infer<typeof orderUpdateSchema>;

export function encodeOrderUpdate(update: OrderUpdate): string {
  return JSON.stringify(update);
}

export function decodeOrderUpdate(payload: string): Decoded<OrderUpdate> {
  return decodeJson(orderUpdateSchema, payload);
}
