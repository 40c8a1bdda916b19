import type { RoomInsight } from "../../../protocol/index.ts";

/** Per-second rates of one room between two polls of the cumulative counters. */
export interface RoomRates {
  /** Holds placed per second (each one an order). */
  readonly orders: number;
  readonly clicks: number;
  /** Presses in a fair window or raffle: entries of its draw. */
  readonly entries: number;
}

/** The rates from `before` to `now`, `dt` seconds apart; 0 without a previous poll. */
export function ratesBetween(before: RoomInsight | undefined, now: RoomInsight, dt: number): RoomRates {
  if (!before || dt <= 0) return { orders: 0, clicks: 0, entries: 0 };
  const rate = (a: number, b: number) => Math.max(0, (b - a) / dt);
  return {
    orders: rate(before.totals.holds, now.totals.holds),
    clicks: rate(before.totals.buyClicks, now.totals.buyClicks),
    entries: rate(before.totals.entries, now.totals.entries),
  };
}
