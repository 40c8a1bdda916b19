import { z } from "zod";
import { displayNameSchema, roleSchema, roomIdSchema, userIdSchema } from "../protocol/index.ts";

export const TOKEN_ISSUER = "livedrop";
export const TOKEN_AUDIENCE = "livedrop-gateway";

export const TOKEN_LIMITS = {
  /** Longer strings are refused before any parsing; an issued token always fits. */
  maxTokenChars: 4_096,
  /** Accepted skew between the clocks of the issuing and the verifying node, seconds. */
  clockToleranceSeconds: 5,
  /** Longest lifetime issue() accepts, seconds (30 days, like the guest token ceiling). */
  maxTtlSeconds: 30 * 24 * 3600,
  /** Rooms one token may name; keeps every token under maxTokenChars. */
  maxRooms: 32,
} as const;

/**
 * What the gateway trusts about a connection once the signature checked out. Payloads are still
 * validated, so a token from a buggy or older issuer cannot smuggle in an unexpected shape.
 */
export const tokenPayloadSchema = z.object({
  sub: userIdSchema,
  role: roleSchema,
  rooms: z.array(roomIdSchema).max(TOKEN_LIMITS.maxRooms),
  name: displayNameSchema,
  /** Load-test (shadow) traffic: isolated end to end from real stock, orders and analytics. */
  shadow: z.boolean(),
  /** Expiry, seconds since the epoch (JWT `exp`). */
  exp: z.number().int().min(0),
});

export interface Claims {
  readonly userId: string;
  readonly role: z.infer<typeof roleSchema>;
  readonly rooms: readonly string[];
  readonly name: string;
  readonly shadow: boolean;
  /** Expiry, seconds since the epoch. */
  readonly exp: number;
}

export const issueInputSchema = z.strictObject({
  userId: userIdSchema,
  role: roleSchema,
  rooms: z.array(roomIdSchema).max(TOKEN_LIMITS.maxRooms).default([]),
  /** Display name in chat and toasts; defaults to the user id (cut to the name limit). */
  name: displayNameSchema.optional(),
  ttlSeconds: z.number().int().min(1).max(TOKEN_LIMITS.maxTtlSeconds),
  shadow: z.boolean().default(false),
});
export type IssueInput = z.input<typeof issueInputSchema>;
