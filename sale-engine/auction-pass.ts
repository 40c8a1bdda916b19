import { type Logger, type PeriodicPass, repeatPass, validate } from "../core/index.ts";
import type { Auctions } from "./auction.ts";
import { AUCTION_DEFAULTS, auctionPassIntervalMsSchema } from "./auction-schema.ts";

/**
 * Settles auctions whose end has passed, every `intervalMs` (default 250 ms; the worker passes
 * LIVEDROP_AUCTION_PASS_MS): the winner's hold
 * is placed within about one interval of the end. Errors (Redis restarting) are logged, not
 * thrown; an auction that failed is retried on the next pass.
 */
export function startAuctionPass(
  auctions: Auctions,
  log: Logger,
  intervalMs: number = AUCTION_DEFAULTS.passIntervalMs,
): PeriodicPass {
  const every = validate(auctionPassIntervalMsSchema, intervalMs, "auction pass interval");
  return repeatPass(
    every,
    async () => {
      const settled = (await auctions.settleDue()).filter((r) => r.settled && !r.replayed);
      if (settled.length > 0) log.info({ auctions: settled.map((r) => r.dropId) }, "settled auctions");
    },
    (err) => log.warn({ err }, "auction pass failed; retrying next interval"),
  );
}
