import { z } from "zod";

/** A recording id: `r<start ms, base 36>-<4 hex>` (sortable, safe in a path). */
export const replayIdSchema = z.string().regex(/^r[0-9a-z]{1,12}-[0-9a-f]{4}$/);

/**
 * A stretch of the recording without a break in program time: a restart of the stream (a new
 * ffmpeg run) or segments that were not kept leave a gap in the broadcast's wall clock that the
 * recording's play time does not have.
 */
export const replaySpanSchema = z
  .object({
    /** Program date of the span's first frame, ms epoch. */
    at: z.number().int(),
    /** Where the span starts in the recording, s. */
    offsetS: z.number().nonnegative(),
    durationS: z.number().nonnegative(),
  })
  .strict();
export type ReplaySpan = z.infer<typeof replaySpanSchema>;

/** One finished recording of a room's broadcast (GET /replays/:room on the media tier). */
export const replaySchema = z
  .object({
    id: replayIdSchema,
    room: z.string(),
    /** Program date of the first frame, ms epoch (the room's drop times map onto it). */
    startedAt: z.number().int(),
    /** When the broadcast ended, ms epoch. */
    endedAt: z.number().int(),
    durationS: z.number().nonnegative(),
    /** The recording's stretches in time order: a moment of the broadcast maps onto play time through them. */
    spans: z.array(replaySpanSchema),
    segments: z.number().int().nonnegative(),
    bytes: z.number().int().nonnegative(),
    /** The VOD playlist (#EXT-X-ENDLIST), absolute URL. */
    playlistUrl: z.string(),
  })
  .strict();
export type Replay = z.infer<typeof replaySchema>;

export const replayListSchema = z.object({ room: z.string(), replays: z.array(replaySchema) }).strict();
export type ReplayList = z.infer<typeof replayListSchema>;

/** A moment of the replay's timeline: drops now; auctions, pins and coupons use the same shape. */
export const replayChapterSchema = z
  .object({
    /** ms epoch (wall clock of the broadcast). */
    at: z.number().int(),
    kind: z.string().min(1).max(32),
    title: z.string().max(200),
    dropId: z.string().optional(),
  })
  .strict();
export type ReplayChapter = z.infer<typeof replayChapterSchema>;
