/**
 * The auction a load-test run opens, the same for k6 and the Node driver, and the end-of-run
 * verdict: did the highest proxy maximum win, at the price the proxy rule gives
 * (docs/auctions.md: second-highest maximum plus the step at it, capped at the winner's maximum;
 * with one bidder, the starting price). No imports: k6 loads this file too.
 */

export interface IncrementRow {
  fromMinor: number;
  stepMinor: number;
}

/** Starting price and increments of every load-test auction (a sandbox product). */
export const AUCTION_RUN = {
  startPriceMinor: 100,
  increments: [
    { fromMinor: 0, stepMinor: 10 },
    { fromMinor: 1_000, stepMinor: 50 },
  ] as readonly IncrementRow[],
  /** Bidders' ceilings: the starting price plus up to this much (random per bidder). */
  spreadMinor: 5_000,
  /** Share of bidders that snipe: open, hold back, bid their ceiling just before the end. */
  sniperShare: 0.25,
  /** Long enough that the winner's hold is still there at the end check. */
  holdMs: 600_000,
} as const;

export interface AuctionDefinitionBody {
  dropId: string;
  product: { sku: string; title: string; priceMinor: number; currency: string; imageUrl: string };
  startsAt: number;
  durationMs: number;
  increments: IncrementRow[];
  antiSnipeMs: number;
  suddenDeath: false;
  holdMs: number;
}

/** POST /api/v1/rooms/:room/auctions body (the room comes from the path). */
export function loadTestAuction(
  dropId: string,
  o: { startsAt: number; durationMs: number; antiSnipeMs: number },
): AuctionDefinitionBody {
  return {
    dropId,
    product: {
      sku: "LOADTEST-AUCTION-1",
      title: "Load test auction item",
      priceMinor: AUCTION_RUN.startPriceMinor,
      currency: "USD",
      imageUrl: "https://example.com/loadtest.png",
    },
    startsAt: o.startsAt,
    durationMs: o.durationMs,
    increments: AUCTION_RUN.increments.map((r) => ({ ...r })),
    antiSnipeMs: o.antiSnipeMs,
    suddenDeath: false,
    holdMs: AUCTION_RUN.holdMs,
  };
}

/**
 * A bidder's ceiling (its proxy maximum at most): the starting price plus a random share of the
 * spread; a sniper's from 90 % to 110 % of it (the keen ones wait), so its last-second bid
 * can still beat the price the others bid up meanwhile.
 */
export function ceilingFor(sniper: boolean, random: () => number = Math.random): number {
  const share = sniper ? 0.9 + 0.2 * random() : random();
  return AUCTION_RUN.startPriceMinor + Math.floor(share * AUCTION_RUN.spreadMinor);
}

/**
 * How long before the end a sniper bids: at a random point inside the anti-snipe window (20-80 %
 * of it, so snipes come one after another and each can move the end), or 500 ms without one.
 */
export function snipeLeadMs(antiSnipeMs: number, random: () => number = Math.random): number {
  return antiSnipeMs > 0 ? Math.floor(antiSnipeMs * (0.2 + 0.6 * random())) : 500;
}

/** The step at `price`: the last row whose `fromMinor` is at most it (same as auction-bid.lua). */
export function stepAt(increments: readonly IncrementRow[], price: number): number {
  let step = increments[0]?.stepMinor ?? 1;
  for (const r of increments) {
    if (r.fromMinor <= price) step = r.stepMinor;
    else break;
  }
  return step;
}

/** The winning price the proxy rule gives for these standing maxima (one per bidder). */
export function expectedPrice(
  maxima: readonly number[],
  startPriceMinor: number,
  increments: readonly IncrementRow[],
): number | undefined {
  const sorted = [...maxima].sort((a, b) => b - a);
  const [first, second] = sorted;
  if (first === undefined) return undefined;
  if (second === undefined) return startPriceMinor;
  return Math.min(first, second + stepAt(increments, second));
}

export interface AuctionVerdictInput {
  /** The winner's standing maximum (its highest accepted bid), undefined: nobody was told it won. */
  readonly winnerMaxMinor: number | undefined;
  /** What the winner's hold costs (its auctionHold frame). */
  readonly winnerPriceMinor: number | undefined;
  /** Every other bidder's standing maximum (only the highest matters). */
  readonly otherMaxima: readonly number[];
  readonly startPriceMinor: number;
  readonly increments: readonly IncrementRow[];
}

/** True when the winner holds the highest accepted maximum and pays the proxy rule's price. */
export function winnerIsHighest(v: AuctionVerdictInput): boolean {
  if (v.winnerMaxMinor === undefined || v.winnerPriceMinor === undefined) return false;
  const highestOther = v.otherMaxima.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
  if (v.winnerMaxMinor < highestOther) return false;
  const price = expectedPrice([v.winnerMaxMinor, ...v.otherMaxima], v.startPriceMinor, v.increments);
  return price === v.winnerPriceMinor;
}
