import { z } from "zod";
import { moderationAction } from "./client-frames.ts";
import { couponClaimIdSchema } from "./coupon.ts";
import { dropFieldsSchema, fairWindowMsSchema } from "./drop-fields.ts";
import {
  chatTextSchema,
  dropIdSchema,
  idempotencyKeySchema,
  paymentTokenSchema,
  reservationIdSchema,
  roomIdSchema,
} from "./fields.ts";
import { buyQtySchema, restockQtySchema } from "./quantities.ts";

/**
 * The input of every command the gateway serves (buy, pay, host controls, chat, moderation),
 * whichever transport carries it, and the HTTP request bodies derived from them (what the path
 * does not already say). A WebSocket frame carries the same fields under its own names.
 */

export const buyInputSchema = z.strictObject({
  dropId: dropIdSchema,
  qty: buyQtySchema,
  /** Same key, same answer: a retry after a lost answer never buys twice. */
  idempotencyKey: idempotencyKeySchema,
});
/** POST /api/v1/drops/:dropId/buy */
export const buyBodySchema = buyInputSchema.omit({ dropId: true });

export const payInputSchema = z.strictObject({
  reservationId: reservationIdSchema,
  token: paymentTokenSchema,
  idempotencyKey: idempotencyKeySchema,
  /** A coupon claim of the buyer (docs/coupons.md) taken off this order before the capture. */
  couponClaimId: couponClaimIdSchema.optional(),
});
/** POST /api/v1/orders/:reservationId/pay */
export const payBodySchema = payInputSchema.omit({ reservationId: true });

/**
 * POST /api/v1/rooms/:room/drops carries the drop's fields; the room comes from the path. A fair
 * window may be `"auto"`: the window the room's measured video delay implies when the drop is
 * created (GET /api/v1/rooms/:room/delay, impliedWindowMs).
 */
export const createDropInputSchema = dropFieldsSchema.extend({
  fairWindowMs: z.union([fairWindowMsSchema, z.literal("auto")]).optional(),
});
export const createDropBodySchema = createDropInputSchema.omit({ roomId: true });

/** Host controls without a body (launch, pause, resume, end). */
export const dropControlInputSchema = z.strictObject({
  dropId: dropIdSchema,
  /** The room the caller acts in (a WebSocket frame names it): the drop must be in it. */
  room: roomIdSchema.optional(),
});
export const restockInputSchema = dropControlInputSchema.extend({ qty: restockQtySchema });
/** POST /api/v1/drops/:dropId/restock */
export const restockBodySchema = restockInputSchema.pick({ qty: true });

export const chatPostInputSchema = z.strictObject({ room: roomIdSchema, text: chatTextSchema });
export const moderateInputSchema = z.strictObject({ room: roomIdSchema, action: moderationAction });

export type BuyInput = z.infer<typeof buyInputSchema>;
export type PayInput = z.infer<typeof payInputSchema>;
export type CreateDropInput = z.infer<typeof createDropInputSchema>;
export type DropControlInput = z.infer<typeof dropControlInputSchema>;
export type RestockInput = z.infer<typeof restockInputSchema>;
export type ChatPostInput = z.infer<typeof chatPostInputSchema>;
export type ModerateInput = z.infer<typeof moderateInputSchema>;
