import { useEffect, useRef, useState } from "preact/hooks";
import { type BuyRefusal, followStock } from "../shared/buy-refusal.ts";
import type { Ack, LiveConnection } from "../shared/connection.ts";
import type { EntrySummary, MyTicket } from "../shared/draw-state.ts";
import { clockText, money } from "../shared/format.ts";
import { useServerNow } from "../shared/hooks.ts";
import { type MessageKey, useI18n } from "../shared/i18n.ts";
import { randomId } from "../shared/ids.ts";
import { type DropView, drawOpen, effectiveState } from "../shared/room-state.ts";
import type { ServerClock } from "../shared/server-clock.ts";
import { DrawStatus } from "./draw-status.tsx";
import { WaitlistButton } from "./waitlist-button.tsx";

/** Longest the button says "drawing" after the entries closed, ms. */
const DRAWING_SHOWN_MS = 5_000;
/** Starts further ahead than this show "coming soon" rather than a countdown. */
const COUNTDOWN_MAX_MS = 24 * 3600_000;

export interface Hold {
  readonly reservationId: string;
  readonly dropId: string;
  readonly qty: number;
  /** Server-clock pay-by time. */
  readonly deadline: number;
  readonly priceMinor: number;
  readonly currency: string;
  readonly title: string;
  /** A hold the server placed for this buyer: a draw's win, a raffle's hand-off, the waitlist. */
  readonly via?: "draw" | "handoff" | "waitlist";
}

/** What an accepted buy ack became: an entry of the draw, or a hold. */
export type EntryAck = Extract<Extract<Ack, { ok: true }>["result"], { kind: "entered" }>;

/** Buy refusals that change what the card shows, and the message of the others. */
const REFUSAL: Record<string, MessageKey> = {
  SOLD_OUT: "drop.soldOut",
  INSUFFICIENT_STOCK: "drop.soldOut",
  LIMIT_EXCEEDED: "drop.limit",
  NOT_STARTED: "buy.err.notStarted",
  DRAW_OPEN: "fair.err.open",
  PAUSED: "drop.paused",
  ENDED: "drop.ended",
};

/**
 * The pinned drop: product, price, "N left", the countdown to T0 in server time, and the buy
 * button, enabled exactly at T0 (a timer fires at T0; the sale engine still judges the window,
 * so a clock estimate that is off only costs a NOT_STARTED answer, never a sale out of window).
 */
export function DropCard({
  drop,
  conn,
  clock,
  onHold,
  entry,
  ticket,
  onEntered,
  onTicket,
}: {
  drop: DropView;
  conn: LiveConnection;
  clock: ServerClock;
  onHold: (h: Hold) => void;
  /** This buyer's entries in the drop's draw, and waitlist ticket. */
  entry?: EntrySummary | undefined;
  ticket?: MyTicket | undefined;
  onEntered: (r: EntryAck) => void;
  onTicket: (r: { dropId: string; ticket: number; position: number }) => void;
}) {
  const t = useI18n();
  const now = useServerNow(clock, 250, [drop.startsAt, drop.fair?.closesAt ?? 0]);
  const [buying, setBuying] = useState(false);
  const [refusal, setRefusal] = useState<BuyRefusal | undefined>();
  const [error, setError] = useState<MessageKey | undefined>();

  // A sold-out answer stands until stock comes back (shared/buy-refusal.ts).
  const availableNow = useRef(drop.available);
  availableNow.current = drop.available;
  useEffect(() => {
    setRefusal((r) => followStock(r, drop.dropId, drop.available));
  }, [drop.dropId, drop.available]);

  let state: string = effectiveState(drop, now);
  const refused = refusal?.dropId === drop.dropId ? refusal.code : undefined;
  // The engine's answer is newer than the last stock frame the card has seen.
  if (state === "live" && (refused === "SOLD_OUT" || refused === "INSUFFICIENT_STOCK")) state = "sold_out";
  const limitReached = refused === "LIMIT_EXCEEDED";
  // In a draw's entry window a buy is an entry: one press per buyer here (the engine checks the limit).
  const entering = state === "live" && drawOpen(drop, now);
  // Entries closed, winners not drawn yet (the worker's next pass): nothing to press meanwhile,
  // for a few seconds at most (a draw frame this page missed must not lock the button).
  const drawing =
    state === "live" &&
    drop.fair !== undefined &&
    drop.fair.seed === null &&
    now >= drop.fair.closesAt &&
    now < drop.fair.closesAt + DRAWING_SHOWN_MS;
  const canBuy = state === "live" && !limitReached && !buying && !drawing && !(entering && entry);

  const buy = async () => {
    setBuying(true);
    setError(undefined);
    try {
      // One key per press: a resend after a reconnect gets the same answer, never a second hold.
      const ack = await conn.request({
        t: "buy",
        dropId: drop.dropId,
        qty: 1,
        idempotencyKey: randomId("k"),
      });
      if (ack.ok && ack.result.kind === "entered") onEntered(ack.result);
      else if (ack.ok && ack.result.kind === "buy") {
        onHold({
          reservationId: ack.result.reservationId,
          dropId: drop.dropId,
          qty: ack.result.qty,
          deadline: ack.result.deadline,
          priceMinor: drop.product.priceMinor,
          currency: drop.product.currency,
          title: drop.product.title,
        });
      } else if (!ack.ok) {
        setRefusal({ dropId: drop.dropId, code: ack.code, floor: availableNow.current });
        setError(REFUSAL[ack.code] ?? "buy.err.generic");
      }
    } catch {
      setError("buy.err.offline");
    } finally {
      setBuying(false);
    }
  };

  // A drop held back for the host's Launch has a start far ahead: no countdown for that.
  const comingSoon = state === "scheduled" && drop.startsAt - now > COUNTDOWN_MAX_MS;
  const label = limitReached
    ? t("drop.limit")
    : state === "scheduled"
      ? comingSoon
        ? t("drop.comingSoon")
        : t("drop.startsIn", { time: clockText(drop.startsAt - now) })
      : state === "live"
        ? drawing
          ? t("fair.drawingNow")
          : entering
            ? buying
              ? t("fair.entering")
              : t(drop.format === "giveaway" ? "giveaway.enter" : "fair.enter")
            : buying
              ? t("drop.buying")
              : t("drop.buy")
        : state === "sold_out"
          ? t("drop.soldOut")
          : state === "paused"
            ? t("drop.paused")
            : t("drop.ended");

  return (
    <section class="drop-card" aria-label={t("drop.label")} data-testid="drop-card" data-state={state}>
      <img class="drop-img" src={drop.product.imageUrl} alt={drop.product.title} width={96} height={96} />
      <div class="drop-info">
        <h2 class="drop-title">{drop.product.title}</h2>
        <p class="drop-price">
          {drop.format === "giveaway"
            ? t("giveaway.free")
            : money(drop.product.priceMinor, drop.product.currency)}
        </p>
        <p class="drop-left" data-testid="drop-left">
          {state === "sold_out" ? t("drop.noneLeft") : t("drop.left", { n: drop.available })}
        </p>
        {state === "scheduled" && !comingSoon ? (
          <p class="drop-countdown" data-testid="countdown" aria-live="off">
            {t("drop.countdown", { time: clockText(drop.startsAt - now) })}
          </p>
        ) : null}
        <DrawStatus drop={drop} now={now} entry={entry} ticket={ticket} />
        {drop.format === "giveaway" ? (
          <p class="drop-note" data-testid="giveaway-note">
            {t("giveaway.note")}
          </p>
        ) : null}
      </div>
      <button
        type="button"
        class={`btn btn-buy state-${state}`}
        disabled={!canBuy}
        onClick={buy}
        data-testid="buy"
      >
        {label}
      </button>
      {state === "sold_out" && !drop.fair && !ticket ? (
        <WaitlistButton drop={drop} conn={conn} onTicket={onTicket} />
      ) : null}
      {error && error !== "drop.soldOut" && error !== "drop.limit" ? (
        <p class="drop-error" role="alert">
          {t(error)}
        </p>
      ) : null}
    </section>
  );
}
