import { z } from "zod";
import { MAX_FAIR_WINDOW_MS } from "./drop-fields.ts";
import { roomIdSchema } from "./ids.ts";

const delayMs = z.number().int().min(0).max(MAX_FAIR_WINDOW_MS);
const sourceFigures = z.strictObject({ count: z.number().int().min(0), p95Ms: delayMs });

/**
 * GET /api/v1/rooms/:room/delay: the latest playback delay of every viewer socket in the room
 * (over every gateway node), and the fair window it implies (what `fairWindowMs: "auto"` takes).
 * Percentiles are 0 while no viewer reported.
 */
export const roomDelayResponseSchema = z.strictObject({
  room: roomIdSchema,
  /** Sockets whose latest report counts. */
  reports: z.number().int().min(0),
  p50Ms: delayMs,
  p90Ms: delayMs,
  p95Ms: delayMs,
  maxMs: delayMs,
  bySource: z.strictObject({ hls: sourceFigures, webrtc: sourceFigures }),
  /** p95 plus the margin, rounded up, capped at the longest fair window; a default without reports. */
  impliedWindowMs: z.number().int().min(1).max(MAX_FAIR_WINDOW_MS),
});

export type RoomDelayResponse = z.infer<typeof roomDelayResponseSchema>;
