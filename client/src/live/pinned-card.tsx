import type { LiveConnection } from "../shared/connection.ts";
import type { MyTicket } from "../shared/draw-state.ts";
import { useI18n } from "../shared/i18n.ts";
import type { DropView } from "../shared/room-state.ts";
import type { ServerClock } from "../shared/server-clock.ts";
import { DropCard, type EntryAck, type Hold } from "./drop-card.tsx";

/**
 * A buy-it-now drop the host pinned: the drop card (price, "N left", Buy; it opened when created,
 * so there is no countdown), under a "pinned by the host" line. Unpinned, it leaves the page.
 */
export function PinnedCard({
  drop,
  conn,
  clock,
  onHold,
  ticket,
  onEntered,
  onTicket,
}: {
  drop: DropView;
  conn: LiveConnection;
  clock: ServerClock;
  onHold: (h: Hold) => void;
  ticket?: MyTicket | undefined;
  onEntered: (r: EntryAck) => void;
  onTicket: (r: { dropId: string; ticket: number; position: number }) => void;
}) {
  const t = useI18n();
  return (
    <div class="pinned-card" data-testid="pinned-card" data-drop={drop.dropId}>
      <p class="pill pinned-pill">{t("pin.badge")}</p>
      <DropCard
        drop={drop}
        conn={conn}
        clock={clock}
        onHold={onHold}
        ticket={ticket}
        onEntered={onEntered}
        onTicket={onTicket}
      />
    </div>
  );
}
