import { SALE_LIMITS } from "./quantities.ts";

/** Bounds of the wire protocol, shared so that the gateway and the client enforce the same numbers. */
export const WIRE_LIMITS = {
  /** Suggested maximum size of one client frame, bytes (the gateway may configure its own). */
  maxFrameBytes: 8_192,
  /** Chat text, in Unicode code points, after trimming. */
  maxChatChars: 500,
  /** Raw chat text before trimming, UTF-16 units: bounds the work done on padding. */
  maxChatRawUnits: 2_000,
  /** Units in one buy (the sale limits' own number). */
  maxBuyQty: SALE_LIMITS.maxBuyQty,
  /** Moderator timeout, seconds (a day). */
  maxTimeoutSeconds: 86_400,
  /** Slow mode interval, seconds (an hour); 0 turns it off. */
  maxSlowModeSeconds: 3_600,
  /** Display names (chat, toasts). */
  maxNameChars: 64,
  /** Human-readable error messages. */
  maxMessageChars: 500,
  /** Drops in one snapshot (joined, resync). */
  maxDropsPerRoom: 256,
  /** Chat messages in one frame (recent history in `joined`, one batch in `chat`). */
  maxChatBatch: 1_000,
} as const;
