import { z } from "zod";

/** The auctions' fields of the configuration (core/config.ts composes them). */
export const auctionsConfigFields = {
  LIVEDROP_AUCTION_HISTORY_LENGTH: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(1_000)
    .describe(
      "Bids kept in each auction's bid history stream (approximate, MAXLEN ~), and the most one history read returns. The leader and price never depend on it. Default 1000.",
    ),
  LIVEDROP_AUCTION_SETTLE_BATCH: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(100)
    .describe(
      "Most auctions one pass of the auction settle loop settles; the rest wait for the next pass. Default 100.",
    ),
  LIVEDROP_AUCTION_PASS_MS: z.coerce
    .number()
    .int()
    .min(10)
    .max(60_000)
    .default(250)
    .describe(
      "Time between two passes of the auction settle loop, ms: an auction's winner gets their hold within about this long after the end. Default 250.",
    ),
};
