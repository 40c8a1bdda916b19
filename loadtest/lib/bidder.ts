import { stepAt } from "./auction-run.ts";
import { enterRoom, whenDrop } from "./behaviours.ts";
import { type BidResult, type DropView, frames as f } from "./frames.ts";
import type { Session } from "./session.ts";

/**
 * An auction bidder, shared by the k6 script and the Node driver: joins the room, waits for the
 * auction's backing drop (its `startsAt` is the planned end), and in the auction's last
 * `windowMs` bids at once and keeps raising whenever it is outbid, up to its own random ceiling.
 * A sniper opens the same way but then holds back, and bids its ceiling `snipeLeadMs` before the
 * end as last seen (inside the anti-snipe window, so the end moves).
 * Every bid has its own idempotency key; a lost ack (a timeout, a retryable refusal, or one it
 * drops on purpose) is retried with the same key and amount, and a replay must repeat the answer.
 */

/** An unanswered bid is sent again (same key) after this long. */
const BID_ACK_TIMEOUT_MS = 5_000;
/** Resends of one bid (same key) before it counts as unanswered. */
const MAX_BID_RESENDS = 3;
/** Pause before asking again when the bid came before the auction opened. */
const NOT_STARTED_RETRY_MS = 50;
const MAX_EARLY_RETRIES = 400;
/** A raise goes up to this share of the way from the lowest acceptable bid to the ceiling. */
const RAISE_SHARE = 0.1;

export interface BidderOptions {
  readonly room: string;
  readonly dropId: string;
  /** The auction's starting price (the lowest first bid) and increment table. */
  readonly startPriceMinor: number;
  readonly increments: readonly { fromMinor: number; stepMinor: number }[];
  /** The most this bidder will ever bid (its proxy ceiling). */
  readonly ceilingMinor: number;
  /** Bid in the auction's last this-many ms (all of it when the auction is shorter). */
  readonly windowMs: number;
  /** Up to this long between learning it is outbid and raising (people are not instant). */
  readonly thinkMs: number;
  /** This bidder snipes: after its opening bid it waits, and bids its ceiling near the end. */
  readonly sniper: boolean;
  /** A sniper bids this long before the end as last seen. */
  readonly snipeLeadMs: number;
  /** Share of accepted first answers treated as lost (resent with the same key), 0-1. */
  readonly lostAckRate: number;
  /** After the auction ended, how long to wait for this bidder's auctionHold frame. */
  readonly settleWaitMs: number;
  readonly random?: () => number;
}

export interface BidderOutcome {
  /** Bids placed (distinct idempotency keys). */
  readonly bids: number;
  /** Bids the engine accepted (each key once, first answer or replay). */
  readonly accepted: number;
  /** Accepted bids that moved the end (anti-snipe). */
  readonly extensions: number;
  /** The highest maximum the engine accepted from this bidder; null: none. */
  readonly standingMaxMinor: number | null;
  readonly ceilingMinor: number;
  /** This bidder got the auctionHold frame (it won). */
  readonly won: boolean;
  readonly reservationId?: string;
  /** What the hold costs, when won. */
  readonly priceMinor?: number;
  /** The auctionEnded frame arrived. */
  readonly ended: boolean;
}

export function bidder(s: Session, o: BidderOptions, done: (outcome: BidderOutcome) => void): void {
  const random = o.random ?? Math.random;
  let bids = 0;
  let accepted = 0;
  let extensions = 0;
  let standing: number | null = null;
  let leading = false;
  let priceMinor: number | undefined;
  let endsAt = 0;
  let inFlight = false;
  let bidding = false;
  let over = false;
  let ended = false;
  let hold: { reservationId: string; priceMinor: number } | undefined;
  let raiseTimer: unknown;
  let finished = false;

  const finish = () => {
    if (finished) return;
    finished = true;
    if (standing !== null) {
      if (hold) {
        s.trend("auction_winner_max_minor", standing);
        s.trend("auction_price_minor", hold.priceMinor);
        s.count("auction_wins", 1);
      } else s.trend("auction_loser_max_minor", standing);
    }
    done({
      bids,
      accepted,
      extensions,
      standingMaxMinor: standing,
      ceilingMinor: o.ceilingMinor,
      won: hold !== undefined,
      ...(hold ? { reservationId: hold.reservationId, priceMinor: hold.priceMinor } : {}),
      ended,
    });
  };
  s.onClose(finish);

  s.on("auction", (a) => {
    if (a.dropId !== o.dropId) return;
    priceMinor = Math.max(priceMinor ?? 0, a.priceMinor);
    endsAt = Math.max(endsAt, a.endsAt);
    // Someone's maximum passed ours exactly when the price went above it (the proxy rule).
    if (standing !== null && a.priceMinor > standing) leading = false;
    maybeRaise();
  });
  s.on("auctionHold", (h) => {
    if (h.dropId !== o.dropId) return;
    hold = { reservationId: h.reservationId, priceMinor: h.priceMinor };
    if (ended) finish();
  });
  s.on("auctionEnded", (e) => {
    if (e.dropId !== o.dropId || ended) return;
    ended = true;
    over = true;
    if (hold || standing === null) return finish();
    s.after(o.settleWaitMs, finish);
  });

  enterRoom(s, o.room, (drops) => whenDrop(s, o.room, o.dropId, drops, (d) => start(d)));

  const start = (d: DropView) => {
    // The backing drop opens at the auction's planned end.
    endsAt = Math.max(endsAt, d.startsAt);
    const aim = d.startsAt - o.windowMs;
    s.after(aim - s.serverNow() + random() * o.thinkMs, () => {
      bidding = true;
      place(nextAmount());
      if (o.sniper) snipeLater();
    });
  };

  /** Waits for the end as last seen (it moves while others bid), then bids the ceiling once. */
  const snipeLater = () => {
    const aim = endsAt - o.snipeLeadMs;
    s.after(aim - s.serverNow(), () => {
      if (over) return;
      if (endsAt - o.snipeLeadMs > s.serverNow() + 50) return snipeLater();
      const amount = nextAmount();
      if (!leading && !inFlight && amount <= o.ceilingMinor && (standing === null || amount > standing))
        place(o.ceilingMinor);
    });
  };

  /** The lowest amount the engine takes now, then a random share of the way to the ceiling. */
  const nextAmount = (): number => {
    const least =
      priceMinor === undefined
        ? o.startPriceMinor
        : Math.max(priceMinor + stepAt(o.increments, priceMinor), (standing ?? 0) + 1);
    // Above the ceiling: the caller stops raising.
    if (least > o.ceilingMinor) return least;
    // A small step of the way to the ceiling: a bidding war of many raises, not one jump.
    return least + Math.floor(random() * (o.ceilingMinor - least) * RAISE_SHARE);
  };

  const maybeRaise = () => {
    if (!bidding || over || inFlight || leading || o.sniper || raiseTimer !== undefined) return;
    const amount = nextAmount();
    if (amount > o.ceilingMinor || (standing !== null && amount <= standing)) return;
    raiseTimer = s.after(random() * o.thinkMs, () => {
      raiseTimer = undefined;
      if (!over && !inFlight && !leading) place(nextAmount());
    });
  };

  /** One bid under a new key: sent, and sent again with the same key while its ack is lost. */
  const place = (maxMinor: number) => {
    if (over || maxMinor > o.ceilingMinor) return;
    const key = s.nextId();
    bids += 1;
    s.count("bids", 1);
    inFlight = true;
    let first: BidResult | undefined;
    const dropOnPurpose = random() < o.lostAckRate;
    let early = 0;
    const send = (resends: number) => {
      s.request(f.bid(s.nextId(), o.dropId, maxMinor, key), BID_ACK_TIMEOUT_MS, (answer, ms) => {
        if (!answer || (answer.t === "ack" && !answer.ok && answer.retryable)) {
          if (s.isClosed) return;
          if (resends < MAX_BID_RESENDS) {
            s.count("bid_retries", 1);
            return send(resends + 1);
          }
          s.rate("bid_answered", false);
          inFlight = false;
          return;
        }
        s.rate("bid_answered", true);
        s.trend("bid_ack_ms", ms);
        if (answer.t === "ack" && answer.ok && answer.result.kind === "bid") {
          const r = answer.result;
          if (first) {
            // The retry of an accepted bid must be its recorded answer.
            if (!r.replayed || r.maxMinor !== first.maxMinor || r.bids !== first.bids)
              s.count("bid_replay_mismatch", 1);
            return;
          }
          first = r;
          accepted += 1;
          s.count("bids_accepted", 1);
          if (r.extended) {
            extensions += 1;
            s.count("auction_extensions", 1);
          }
          standing = Math.max(standing ?? 0, r.maxMinor);
          endsAt = Math.max(endsAt, r.endsAt);
          leading = r.leading;
          priceMinor = Math.max(priceMinor ?? 0, r.priceMinor);
          if (dropOnPurpose) {
            // As if this ack was lost: the same bid again, same key.
            s.count("bid_retries", 1);
            send(resends + 1);
          }
          inFlight = false;
          return maybeRaise();
        }
        const code = answer.t === "ack" && !answer.ok ? answer.code : answer.t === "error" ? answer.code : "";
        if (first) return s.count("bid_replay_mismatch", 1);
        // Too early (clock error, or the auction opens in a moment): refusals are not recorded,
        // so the same key is asked again.
        if (code === "AUCTION_NOT_STARTED" && early < MAX_EARLY_RETRIES) {
          early += 1;
          s.after(NOT_STARTED_RETRY_MS, () => send(resends));
          return;
        }
        inFlight = false;
        s.count("bids_refused", 1);
        if (code === "AUCTION_ENDED") {
          over = true;
          return;
        }
        // BID_TOO_LOW: a newer price than the one seen; ALREADY_LEADING: still ahead.
        if (code === "ALREADY_LEADING") leading = true;
        else if (code === "BID_TOO_LOW") priceMinor = Math.max(priceMinor ?? 0, maxMinor);
        maybeRaise();
      });
    };
    send(0);
  };
}
