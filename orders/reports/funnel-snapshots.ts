import { z } from "zod";
import { validate } from "../../core/index.ts";
import { dropIdSchema, roomIdSchema } from "../../protocol/index.ts";
import type { SqlClient } from "../store/index.ts";

/** The Redis-side funnel figures of one drop at one moment (gateway: room viewers, buy clicks). */
export const funnelSnapshotSchema = z.strictObject({
  dropId: dropIdSchema,
  roomId: roomIdSchema,
  viewers: z.number().int().nonnegative(),
  buyClicks: z.number().int().nonnegative(),
  /** The drop has ended: the figures are final and later snapshots of it are ignored. */
  final: z.boolean(),
});
export type FunnelSnapshot = z.infer<typeof funnelSnapshotSchema>;

/**
 * Writes the snapshots into drop_funnel_snapshots, one row per drop: viewers is the latest,
 * peak_viewers the most seen, buy_clicks never goes down (a count read while a node had not yet
 * flushed is lower). A row already final is left as it is, and a snapshot that changes nothing
 * leaves taken_at alone, so repeating one is a no-op. Returns the rows written.
 */
export async function recordFunnelSnapshots(
  db: SqlClient,
  snapshots: readonly FunnelSnapshot[],
): Promise<number> {
  let written = 0;
  for (const raw of snapshots) {
    const s = validate(funnelSnapshotSchema, raw, "funnel snapshot");
    const rows = await db.query(
      `INSERT INTO drop_funnel_snapshots AS f (drop_id, room_id, viewers, peak_viewers, buy_clicks, final)
       VALUES ($1, $2, $3, $3, $4, $5)
       ON CONFLICT (drop_id) DO UPDATE SET
         viewers = excluded.viewers,
         peak_viewers = greatest(f.peak_viewers, excluded.viewers),
         buy_clicks = greatest(f.buy_clicks, excluded.buy_clicks),
         final = excluded.final,
         taken_at = now()
       WHERE NOT f.final AND (f.viewers, f.buy_clicks, f.final)
         IS DISTINCT FROM (excluded.viewers, greatest(f.buy_clicks, excluded.buy_clicks), excluded.final)
       RETURNING drop_id`,
      [s.dropId, s.roomId, s.viewers, s.buyClicks, s.final],
    );
    written += rows.length;
  }
  return written;
}
