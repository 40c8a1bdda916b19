import { z } from "zod";

/** Defaults of the auction options (the same as their LIVEDROP_AUCTION_* settings, core/config-auctions.ts). */
export const AUCTION_DEFAULTS = {
  /** Bids kept in each auction's history stream (MAXLEN ~). */
  historyLength: 1_000,
  /** Most auctions one settleDue call settles. */
  settleBatch: 100,
  /** Time between two passes of the auction settle loop, ms. */
  passIntervalMs: 250,
  /** Auctions whose mask seed one Auctions object keeps in memory before starting over. */
  seedCacheSize: 10_000,
} as const;

export const auctionHistoryLengthSchema = z.number().int().min(1).max(100_000);
export const auctionSettleBatchSchema = z.number().int().min(1).max(10_000);
export const auctionPassIntervalMsSchema = z.number().int().min(10).max(60_000);
