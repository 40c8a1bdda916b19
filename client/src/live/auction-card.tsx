import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { AuctionViewResponse } from "../../../protocol/index.ts";
import { api } from "../shared/api.ts";
import type { LiveConnection } from "../shared/connection.ts";
import { clockText, money } from "../shared/format.ts";
import { useFrames, useServerNow } from "../shared/hooks.ts";
import { type MessageKey, useI18n } from "../shared/i18n.ts";
import { randomId } from "../shared/ids.ts";
import {
  type AuctionView,
  applyAuctionFrame,
  applyBidAnswer,
  auctionFromStatus,
  auctionPhase,
  type DropView,
  youLead,
} from "../shared/room-state.ts";
import type { ServerClock } from "../shared/server-clock.ts";
import { minorDigits, toMajor, toMinor } from "./auction-money.tsx";

/** Bid refusals and what the card says (BID_TOO_LOW names the minimum, read from the status). */
const REFUSAL: Record<string, MessageKey> = {
  BID_TOO_LOW: "auction.err.tooLow",
  ALREADY_LEADING: "auction.err.leading",
  AUCTION_ENDED: "auction.err.ended",
  AUCTION_NOT_STARTED: "auction.err.notStarted",
  AUCTION_NOT_FOUND: "auction.err.ended",
  INVALID_INPUT: "auction.err.invalid",
};

/**
 * An auction's card: the current price, the leader (masked; "you lead" when the viewer's bid
 * leads), the end counting down on the server clock (with an "extended" hint after anti-snipe),
 * the lowest next bid, and a max-bid form. The standing comes from the auction's status, then
 * follows the room's `auction` frames; a join or resume reads the status again.
 */
export function AuctionCard({
  drop,
  conn,
  clock,
  token,
  holding,
}: {
  drop: DropView;
  conn: LiveConnection;
  clock: ServerClock;
  token: () => Promise<string>;
  /** The page holds this auction's unit (won, or handed on), however it learnt it. */
  holding: boolean;
}) {
  const t = useI18n();
  const [view, setView] = useState<AuctionView | undefined>();
  const latest = useRef(view);
  latest.current = view;
  const [amount, setAmount] = useState("");
  const [bidding, setBidding] = useState(false);
  const [error, setError] = useState<{ key: MessageKey; min?: number } | undefined>();
  // One key per amount until the engine answers: a retry after a lost ack never bids twice.
  const pendingKey = useRef<{ maxMinor: number; key: string } | undefined>(undefined);
  const now = useServerNow(clock, 250, view ? [view.endsAt, view.startsAt] : []);
  const currency = drop.product.currency;

  const load = useCallback(async (): Promise<AuctionView | undefined> => {
    try {
      const r = await api<AuctionViewResponse>(
        `/api/v1/drops/${encodeURIComponent(drop.dropId)}/auction?limit=1`,
        {
          token: await token(),
        },
      );
      const next = auctionFromStatus(r.auction, latest.current);
      latest.current = next;
      setView(next);
      return next;
    } catch {
      return undefined; // the frames still come; the next join or resume reads it again
    }
  }, [drop.dropId, token]);

  useEffect(() => {
    void load();
  }, [load]);

  useFrames(conn, (f) => {
    if ((f.t === "joined" || f.t === "resync") && f.room === drop.roomId) void load();
    else if ((f.t === "auction" || f.t === "auctionEnded") && f.dropId === drop.dropId) {
      setView((v) => (v ? applyAuctionFrame(v, f) : v));
      // The first bid sets the step the next minimum follows: read it once from the status.
      if (f.t === "auction" && latest.current?.stepMinor === null) void load();
    }
  });

  if (!view) return null;
  const phase = auctionPhase(view, now);
  // A page that was away at the end knows it won from its hold, not from its bids' standing.
  const leads = youLead(view) || (phase === "ended" && holding);
  const digits = minorDigits(currency);

  const bid = async (e: Event) => {
    e.preventDefault();
    const maxMinor = toMinor(amount || toMajor(view.minNextMinor, digits), digits);
    if (maxMinor === undefined) {
      setError({ key: "auction.err.invalid" });
      return;
    }
    setBidding(true);
    setError(undefined);
    if (pendingKey.current?.maxMinor !== maxMinor) pendingKey.current = { maxMinor, key: randomId("bid") };
    try {
      const ack = await conn.request({
        t: "bid",
        dropId: drop.dropId,
        maxMinor,
        idempotencyKey: pendingKey.current.key,
      });
      pendingKey.current = undefined;
      if (ack.ok && ack.result.kind === "bid") {
        const { kind: _, ...answer } = ack.result;
        setView((v) => (v ? applyBidAnswer(v, answer) : v));
        setAmount("");
      } else if (!ack.ok) {
        // The wire ack names no minimum: the status does.
        const fresh = ack.code === "BID_TOO_LOW" || ack.code === "ALREADY_LEADING" ? await load() : undefined;
        const min = ack.code === "ALREADY_LEADING" ? undefined : fresh?.minNextMinor;
        setError({ key: REFUSAL[ack.code] ?? "auction.err.generic", ...(min !== undefined ? { min } : {}) });
      }
    } catch {
      setError({ key: "buy.err.offline" }); // the same key goes again with the next press
    } finally {
      setBidding(false);
    }
  };

  const ended = phase === "ended";
  return (
    <section
      class="drop-card auction-card"
      aria-label={t("auction.label")}
      data-testid="auction-card"
      data-phase={phase}
      data-leading={leads ? "yes" : "no"}
    >
      <img class="drop-img" src={drop.product.imageUrl} alt={drop.product.title} width={96} height={96} />
      <div class="drop-info">
        <h2 class="drop-title">{drop.product.title}</h2>
        <p class="drop-price" data-testid="auction-price">
          {t(ended ? "auction.finalPrice" : view.bids > 0 ? "auction.price" : "auction.startPrice", {
            price: money(view.priceMinor, currency),
          })}
        </p>
        <p class="drop-left" data-testid="auction-leader" role="status">
          {ended
            ? view.reserveMet
              ? leads
                ? t("auction.youWon")
                : t("auction.wonBy", { who: view.leader ?? "" })
              : view.bids > 0
                ? t("auction.reserveNotMet")
                : t("auction.noBids")
            : view.bids === 0
              ? t("auction.noBids")
              : leads
                ? t("auction.youLead")
                : t("auction.leader", { who: view.leader ?? "", n: view.bids })}
        </p>
        {phase === "live" ? (
          <p class="drop-countdown" data-testid="auction-ends" aria-live="off">
            {t("auction.endsIn", { time: clockText(view.endsAt - now) })}
            {view.extended ? <span class="pill auction-extended"> {t("auction.extended")}</span> : null}
          </p>
        ) : phase === "scheduled" ? (
          <p class="drop-countdown" aria-live="off">
            {t("auction.startsIn", { time: clockText(view.startsAt - now) })}
          </p>
        ) : phase === "ending" ? (
          <p class="drop-countdown">{t("auction.ending")}</p>
        ) : null}
        {view.hasReserve && !ended ? <p class="drop-note">{t("auction.hasReserve")}</p> : null}
      </div>
      {phase === "live" ? (
        <form class="auction-bid" style={{ gridArea: "buy", display: "grid", gap: "6px" }} onSubmit={bid}>
          <label for={`bid-${drop.dropId}`}>
            {t("auction.maxBid", { min: money(view.minNextMinor, currency) })}
          </label>
          <input
            id={`bid-${drop.dropId}`}
            name="maxBid"
            inputMode="decimal"
            data-testid="bid-amount"
            placeholder={toMajor(view.minNextMinor, digits)}
            value={amount}
            onInput={(e) => setAmount((e.target as HTMLInputElement).value)}
          />
          <button
            type="submit"
            class="btn btn-buy"
            style={{ gridArea: "auto" }}
            disabled={bidding}
            data-testid="bid"
          >
            {bidding ? t("auction.bidding") : t("auction.bid")}
          </button>
        </form>
      ) : null}
      {error ? (
        <p class="drop-error" role="alert" data-testid="bid-error">
          {t(error.key, error.min !== undefined ? { min: money(error.min, currency) } : undefined)}
        </p>
      ) : null}
    </section>
  );
}
