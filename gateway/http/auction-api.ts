import { validate } from "../../core/index.ts";
import { auctionViewQuerySchema, auctionViewResponseSchema, dropIdSchema } from "../../protocol/index.ts";
import { auctionHistoryLengthOf, auctionsOf } from "../commands/index.ts";
import { parseQuery } from "./query.ts";
import { sendJson } from "./respond.ts";
import type { ApiRouter } from "./router.ts";

/**
 * GET /api/v1/drops/:dropId/auction?limit= → `{auction, history}`: what a viewer sees of an auction,
 * its status and newest bids first, every user masked (the bidders' maxima are never shown here).
 */
export function registerAuctionApi(router: ApiRouter): void {
  router.route({
    method: "get",
    pattern: "/api/v1/drops/:dropId/auction",
    name: "auction.get",
    access: { who: "anyone" },
    lanes: "any",
    response: auctionViewResponseSchema,
    handler: async ({ params, query, lane, g }) => {
      const dropId = validate(dropIdSchema, params[0], "auction id");
      const { limit } = parseQuery(auctionViewQuerySchema, query, "auction history");
      const auctions = await auctionsOf(lane.engine);
      // A history configured shorter than the page holds no more than that.
      const count = Math.min(limit, auctionHistoryLengthOf(lane.engine));
      const [auction, history] = await Promise.all([
        auctions.status(dropId),
        auctions.history(dropId, count),
      ]);
      sendJson(g, 200, { auction, history });
    },
  });
}
