import { DropCard, type EntryAck, type Hold } from "../live/drop-card.tsx";
import type { LiveConnection } from "../shared/connection.ts";
import { money } from "../shared/format.ts";
import { useI18n } from "../shared/i18n.ts";
import { type DropView, effectiveState } from "../shared/room-state.ts";
import type { ServerClock } from "../shared/server-clock.ts";
import type { RoomDrop } from "./timeline.ts";

/**
 * The product on screen at this moment of the replay. While the drop still sells (the room's
 * live state has it live with stock left) it is the live page's card, with the same buy path;
 * otherwise the product with what became of it.
 */
export function ReplayCard({
  drop,
  live,
  now,
  conn,
  clock,
  onHold,
  onEntered,
  onTicket,
}: {
  drop: RoomDrop;
  /** The drop as the room's socket reports it now (active drops only). */
  live: DropView | undefined;
  now: number;
  conn: LiveConnection;
  clock: ServerClock;
  onHold: (h: Hold) => void;
  onEntered: (r: EntryAck) => void;
  onTicket: (r: { dropId: string; ticket: number; position: number }) => void;
}) {
  const t = useI18n();
  const state = live ? effectiveState(live, now) : "ended";
  const buyable = live !== undefined && state === "live";
  return (
    <div
      class="replay-card"
      data-testid="replay-card"
      data-drop-id={drop.dropId}
      data-buyable={buyable ? "true" : "false"}
    >
      {buyable && live ? (
        <DropCard
          drop={live}
          conn={conn}
          clock={clock}
          onHold={onHold}
          onEntered={onEntered}
          onTicket={onTicket}
        />
      ) : (
        <section class="drop-card" aria-label={t("drop.label")} data-state={state}>
          <img class="drop-img" src={drop.product.imageUrl} alt={drop.product.title} width={96} height={96} />
          <div class="drop-info">
            <h2 class="drop-title">{drop.product.title}</h2>
            <p class="drop-price">{money(drop.product.priceMinor, drop.product.currency)}</p>
            <p class="drop-left">
              {state === "sold_out" || (live?.available ?? drop.available) === 0
                ? t("replay.soldOut")
                : t("replay.over")}
            </p>
          </div>
        </section>
      )}
    </div>
  );
}
