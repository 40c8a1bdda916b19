import type { CouponStatus, DropSnapshot } from "../../protocol/index.ts";
import type { DropStatus, SaleEngine } from "../../sale-engine/index.ts";
import { couponsOf } from "../commands/index.ts";
import { dropSnapshot } from "./frames.ts";

/** Under way first (newest first), then scheduled ones (soonest first). */
function rank(a: DropStatus, b: DropStatus): number {
  const aScheduled = a.state === "scheduled";
  const bScheduled = b.state === "scheduled";
  if (aScheduled !== bScheduled) return aScheduled ? 1 : -1;
  return aScheduled ? a.startsAt - b.startsAt : b.startsAt - a.startsAt;
}

/**
 * The drops of a room's `joined` / `resync` snapshot: the ones not ended, at most `max`, and
 * whether the room has others (ended ones, or past the cap), which a client pages in over HTTP;
 * and the room's pinned coupons.
 * A room keeps every drop it ever had, so without the cap an old room's snapshot outgrows what
 * the client's own decoder accepts.
 */
export async function roomSnapshot(
  engine: SaleEngine,
  room: string,
  max: number,
): Promise<{ drops: DropSnapshot[]; moreDrops: boolean; coupons: CouponStatus[] }> {
  // Settled drops (ended, nothing pending) left the engine's active index: only the others'
  // statuses are read, so an old room's history costs its joins nothing.
  const [ids, total, coupons] = await Promise.all([
    engine.activeDropsInRoom(room),
    engine.countDropsInRoom(room),
    couponsOf(engine).list(room),
  ]);
  const statuses = await Promise.all(ids.map((id) => engine.status(id)));
  const active = statuses.filter((s) => s.state !== "ended").sort(rank);
  return {
    drops: active.slice(0, max).map(dropSnapshot),
    moreDrops: total > Math.min(active.length, max),
    coupons,
  };
}
