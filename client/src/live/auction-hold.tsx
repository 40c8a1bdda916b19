import { useRef } from "preact/hooks";
import type { LiveConnection } from "../shared/connection.ts";
import { useFrames } from "../shared/hooks.ts";
import type { DropView } from "../shared/room-state.ts";
import type { Hold } from "./drop-card.tsx";

/**
 * The auction's `auctionHold` frame (to the winner, or a runner-up handed the unit) becomes a
 * hold at this user's own price, paid with the normal pay flow (hold-panel.tsx).
 */
export function useAuctionHolds(
  conn: LiveConnection,
  drops: { readonly current: ReadonlyMap<string, DropView> },
  onHold: (h: Hold) => void,
): void {
  // A resent frame (a resume) does not bring back a hold the buyer closed.
  const given = useRef(new Set<string>());
  useFrames(conn, (f) => {
    if (f.t !== "auctionHold" || given.current.has(f.reservationId)) return;
    const d = drops.current.get(f.dropId);
    if (!d) return;
    given.current.add(f.reservationId);
    onHold({
      reservationId: f.reservationId,
      dropId: f.dropId,
      qty: 1,
      deadline: f.deadline,
      priceMinor: f.priceMinor,
      currency: d.product.currency,
      title: d.product.title,
    });
  });
}
