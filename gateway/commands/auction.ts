import type { z } from "zod";
import {
  type AuctionStatus,
  auctionDefinitionSchema,
  type BidAnswer,
  bidInputSchema,
} from "../../protocol/index.ts";
import { AUCTION_DEFAULTS, Auctions, type SaleEngine } from "../../sale-engine/index.ts";
import type { Access, CommandLane } from "./access.ts";
import { command } from "./command.ts";

/** One Auctions per engine (lane): it caches each auction's mask seed for the bid path. */
const auctionsByEngine = new WeakMap<SaleEngine, { auctions: Promise<Auctions>; historyLength: number }>();

/**
 * Sets up the lane's auctions with the configured history length (the gateway does it when it
 * starts; a lane never set up gets the default). The first setup of an engine stands.
 */
export function configureAuctions(
  engine: SaleEngine,
  historyLength: number = AUCTION_DEFAULTS.historyLength,
): { auctions: Promise<Auctions>; historyLength: number } {
  let entry = auctionsByEngine.get(engine);
  if (!entry) {
    entry = { auctions: Auctions.create({ engine, historyLength }), historyLength };
    auctionsByEngine.set(engine, entry);
  }
  return entry;
}

/** The lane's auctions (its engine's connection and key namespace). */
export function auctionsOf(engine: SaleEngine): Promise<Auctions> {
  return configureAuctions(engine).auctions;
}

/** The most bids one history read of this lane returns. */
export function auctionHistoryLengthOf(engine: SaleEngine): number {
  return configureAuctions(engine).historyLength;
}

/** Opens an auction in a room the caller hosts: its backing drop, stock 1 (docs/auctions.md). */
export const auctionOpenCommand = command({
  name: "auction.open",
  input: auctionDefinitionSchema,
  access: { who: "host", room: ({ input }) => input.roomId },
  lanes: "any",
  run: async ({ lane }, input): Promise<{ opened: boolean; status: AuctionStatus }> =>
    (await auctionsOf(lane.engine)).open(input),
});

/** A bid names its auction, not the bidder: the caller is the bidder. */
const bidCommandInputSchema = bidInputSchema.omit({ userId: true });
type BidCommandInput = z.infer<typeof bidCommandInputSchema>;

const signedIn: Access<BidCommandInput, CommandLane> = { who: "signed-in" };

/**
 * A proxy bid: the most the caller will pay; the engine bids for them up to it. Refusals are
 * typed (BID_TOO_LOW and ALREADY_LEADING carry the lowest bid that would be taken).
 */
export const bidCommand = command({
  name: "bid",
  input: bidCommandInputSchema,
  access: signedIn,
  lanes: "any",
  run: async ({ claims, lane }, input): Promise<BidAnswer> =>
    (await auctionsOf(lane.engine)).bid({ ...input, userId: claims.userId }),
  ack: (r) => ({ kind: "bid", ...r }),
});
