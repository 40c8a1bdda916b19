import type { LiveConnection } from "../shared/connection.ts";
import type { DrawState } from "../shared/draw-state.ts";
import { currentAuction, type DropView, pinnedBuyNow } from "../shared/room-state.ts";
import type { ServerClock } from "../shared/server-clock.ts";
import { AuctionCard } from "./auction-card.tsx";
import { useAuctionHolds } from "./auction-hold.tsx";
import type { EntryAck, Hold } from "./drop-card.tsx";
import { PinnedCard } from "./pinned-card.tsx";

/**
 * The cards of the formats that do not sell on the pinned drop card: the room's auction and
 * each buy-it-now drop the host has pinned. An auction's hold frame becomes a hold here.
 */
export function PinnedFormats({
  visible,
  drops,
  conn,
  clock,
  token,
  onHold,
  draws,
  onEntered,
  onTicket,
  holding,
}: {
  /** The room's drops this viewer may see now (an HLS viewer's video may not show some yet). */
  visible: readonly DropView[];
  drops: { readonly current: ReadonlyMap<string, DropView> };
  conn: LiveConnection;
  clock: ServerClock;
  token: () => Promise<string>;
  onHold: (h: Hold) => void;
  draws: DrawState;
  onEntered: (r: EntryAck) => void;
  onTicket: (r: { dropId: string; ticket: number; position: number }) => void;
  /** Drops the page holds a unit of. */
  holding: ReadonlySet<string>;
}) {
  useAuctionHolds(conn, drops, onHold);
  const auction = currentAuction(visible);
  return (
    <>
      {auction ? (
        <AuctionCard
          key={auction.dropId}
          drop={auction}
          conn={conn}
          clock={clock}
          token={token}
          holding={holding.has(auction.dropId)}
        />
      ) : null}
      {pinnedBuyNow(visible).map((d) => (
        <PinnedCard
          key={d.dropId}
          drop={d}
          conn={conn}
          clock={clock}
          onHold={onHold}
          ticket={draws.tickets.get(d.dropId)}
          onEntered={onEntered}
          onTicket={onTicket}
        />
      ))}
    </>
  );
}
