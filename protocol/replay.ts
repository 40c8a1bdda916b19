import { z } from "zod";

/** A recording id: `r<start ms, base 36>-<4 hex>` (sortable, safe in a path). */
export const replayIdSchema = z.string().regex(/^r[0-9a-z]{1,12}-[0-9a-f]{4}$/);

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
