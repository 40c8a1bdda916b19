import { z } from "zod";

/**
 * Ids that cross processes (wire frames, HTTP paths, Redis keys, order rows). Bounded and
 * charset-limited so any of them is safe inside a Redis key and a URL path segment.
 */
export const dropIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "1-64 of A-Z a-z 0-9 _ -");
export const roomIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "1-64 of A-Z a-z 0-9 _ -");
export const userIdSchema = z.string().regex(/^[A-Za-z0-9_.:@-]{1,128}$/, "1-128 of A-Z a-z 0-9 _ . : @ -");
export const idempotencyKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,128}$/, "1-128 of A-Z a-z 0-9 _ . : -");
/** `<dropId>.<sequence>`: the sale engine finds the drop from the reservation id alone. */
export const reservationIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}\.[1-9][0-9]{0,15}$/, "expected <dropId>.<sequence>");
/** Sandbox or provider payment token. */
export const paymentTokenSchema = z.string().regex(/^[A-Za-z0-9_]{1,64}$/, "1-64 of A-Z a-z 0-9 _");
