import { z } from "zod";
import { WIRE_LIMITS } from "./limits.ts";
import { NO_CONTROL_CHARS, NO_CONTROL_CHARS_MESSAGE } from "./text.ts";

/** Field schemas shared by client and server frames. Ids and drop fields live in ids.ts and drop-fields.ts. */
export { type Product as WireProduct, productSchema } from "./drop-fields.ts";
export {
  dropIdSchema,
  idempotencyKeySchema,
  paymentTokenSchema,
  reservationIdSchema,
  roomIdSchema,
  userIdSchema,
} from "./ids.ts";

const token64 = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Correlates a request with its ack / error; chosen by the client. */
export const reqIdSchema = z.string().regex(token64, "1-64 of A-Z a-z 0-9 _ . : -");
/** Lets a client match its own chat message in a batch (optimistic display). */
export const clientMsgIdSchema = reqIdSchema;
/** Server-assigned chat message id. */
export const messageIdSchema = z.string().regex(token64, "1-64 of A-Z a-z 0-9 _ . : -");
/** Identity of a room's history stream; changes when the history is reset, so offsets restart. */
export const epochSchema = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, "1-32 of A-Z a-z 0-9 _ -");
/** A Redis Stream entry id, `<ms>-<seq>`. */
export const offsetSchema = z.string().regex(/^\d{1,20}-\d{1,20}$/, 'stream offset like "1718000000000-0"');
/** Milliseconds since the Unix epoch; fractions allowed (performance.timeOrigin + now()). */
export const timeMsSchema = z.number().min(0).max(8.64e15);
/** Server-clock ms epoch, whole milliseconds. */
export const epochMsSchema = z.number().int().min(0).max(8.64e15);
export const countSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const displayNameSchema = z
  .string()
  .min(1)
  .max(WIRE_LIMITS.maxNameChars)
  .regex(NO_CONTROL_CHARS, NO_CONTROL_CHARS_MESSAGE);
export const messageSchema = z.string().max(WIRE_LIMITS.maxMessageChars);

/** Trimmed, 1-500 code points, no control characters (newlines included). */
export const chatTextSchema = z
  .string()
  .max(WIRE_LIMITS.maxChatRawUnits)
  .trim()
  .min(1, "empty after trimming")
  .regex(NO_CONTROL_CHARS, NO_CONTROL_CHARS_MESSAGE)
  .refine((s) => [...s].length <= WIRE_LIMITS.maxChatChars, {
    message: `at most ${WIRE_LIMITS.maxChatChars} characters`,
    params: { chatTooLong: true },
  });

export const ROLES = ["viewer", "moderator", "host", "admin"] as const;
export type Role = (typeof ROLES)[number];
export const roleSchema = z.enum(ROLES);

/** The sale engine's DropState, as buyers see it. */
export const DROP_STATES = ["scheduled", "live", "paused", "sold_out", "ended"] as const;
export type WireDropState = (typeof DROP_STATES)[number];
export const dropStateSchema = z.enum(DROP_STATES);

/** The order store's statuses. */
export const ORDER_STATUSES = ["pending_payment", "paid", "expired", "cancelled", "refunded"] as const;
export type WireOrderStatus = (typeof ORDER_STATUSES)[number];
export const orderStatusSchema = z.enum(ORDER_STATUSES);
