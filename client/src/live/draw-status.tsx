import type { EntrySummary, MyTicket } from "../shared/draw-state.ts";
import { waitlistPosition } from "../shared/draw-state.ts";
import { clockText } from "../shared/format.ts";
import { useI18n } from "../shared/i18n.ts";
import { type DropView, drawDone, drawOpen } from "../shared/room-state.ts";

/** Where a drop's "verify this draw" link goes: the viewer page's verify view. */
export function verifyHref(d: DropView): string {
  return `/live/${encodeURIComponent(d.roomId)}?verify=${encodeURIComponent(d.dropId)}`;
}

/**
 * The drop card's lines about its draw and waitlist: how the drop sells (fair window or raffle),
 * this buyer's entry ("in the draw, result in N s" counting down to closesAt on the server
 * clock, then won or not drawn), the draw's outcome with its verify link, and the buyer's place
 * in the waitlist.
 */
export function DrawStatus({
  drop,
  now,
  entry,
  ticket,
}: {
  drop: DropView;
  now: number;
  entry: EntrySummary | undefined;
  ticket: MyTicket | undefined;
}) {
  const t = useI18n();
  const fair = drop.fair;
  const open = drawOpen(drop, now);
  const done = drawDone(drop);
  return (
    <div class="draw-status">
      {fair && !done && !entry ? (
        <p class="drop-note" data-testid="draw-note">
          {fair.mode === "raffle"
            ? t("fair.raffleNote")
            : t("fair.windowNote", { s: Math.round(fair.windowMs / 100) / 10 })}
          {open && now >= drop.startsAt
            ? ` · ${t("fair.closesIn", { time: clockText(fair.closesAt - now) })}`
            : ""}
        </p>
      ) : null}
      {fair && entry ? (
        <p class="drop-entry" data-testid="entry-status" data-status={entry.status} role="status">
          {entry.status === "won"
            ? t("fair.won", { n: entry.granted })
            : entry.status === "lost"
              ? t("fair.lost")
              : now < fair.closesAt
                ? t("fair.entered", { time: clockText(fair.closesAt - now) })
                : t("fair.drawing")}
        </p>
      ) : null}
      {done ? (
        <p class="drop-drawn" data-testid="drawn">
          {drop.drawn
            ? t("fair.drawn", { w: drop.drawn.winners, n: drop.drawn.winners + drop.drawn.losers })
            : t("fair.drawnShort")}{" "}
          ·{" "}
          <a href={verifyHref(drop)} target="_blank" rel="noopener" data-testid="verify-link">
            {t("fair.verify")}
          </a>
        </p>
      ) : null}
      {ticket ? (
        <p class="drop-entry" data-testid="waitlist-status" data-status={ticket.status} role="status">
          {ticket.status === "offered"
            ? t("waitlist.offered")
            : ticket.status === "skipped"
              ? t("waitlist.skipped")
              : t("waitlist.position", { n: waitlistPosition(ticket, drop.waitlist?.served) })}
        </p>
      ) : null}
    </div>
  );
}
