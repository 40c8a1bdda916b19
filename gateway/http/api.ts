import { canHost } from "../../auth/index.ts";
import { validate } from "../../core/index.ts";
import {
  dropIdSchema,
  dropStatusSchema,
  guestTokenResponseSchema,
  orderDetailsResponseSchema,
  reservationIdSchema,
} from "../../protocol/index.ts";
import { registerAdminApi } from "./admin-api.ts";
import type { ApiDeps } from "./api-deps.ts";
import { registerAuctionApi } from "./auction-api.ts";
import { registerCommandRoutes } from "./command-routes.ts";
import { registerCouponApi } from "./coupon-api.ts";
import { registerDelayApi } from "./delay-api.ts";
import { registerDrawApi } from "./draw-api.ts";
import { HttpRefusal } from "./handler.ts";
import { registerReportsApi } from "./reports-api.ts";
import { sendJson } from "./respond.ts";
import { registerRoomDropsRoute } from "./room-drops.ts";
import { type ApiRouter, callerOf } from "./router.ts";

export type { ApiDeps } from "./api-deps.ts";

/** The JSON API under /api/v1: guest tokens, reads, the commands, and the operator routes. */
export function registerApi(router: ApiRouter, d: ApiDeps): void {
  registerCommandRoutes(router);
  registerAdminApi(router, d);
  registerRoomDropsRoute(router);
  registerDelayApi(router);
  registerDrawApi(router, d.drawCacheMs);
  registerAuctionApi(router);
  registerCouponApi(router);
  registerReportsApi(router, d.reportLimits);

  router.route({
    method: "post",
    pattern: "/api/v1/tokens/guest",
    name: "token.guest",
    access: { who: "anyone" },
    lanes: "any",
    perAddress: d.guestTokenLimiter,
    response: guestTokenResponseSchema,
    handler: async ({ g }) => {
      const { token, userId } = await d.tokens.issueGuest(d.guestTokenTtlS);
      sendJson(g, 201, { token, userId, role: "viewer", expiresAt: Date.now() + d.guestTokenTtlS * 1000 });
    },
  });

  router.route({
    method: "get",
    pattern: "/api/v1/drops/:dropId",
    name: "drop.get",
    access: { who: "anyone" },
    lanes: "any",
    response: dropStatusSchema,
    handler: async ({ params, lane, g }) => {
      sendJson(g, 200, await lane.engine.status(validate(dropIdSchema, params[0], "drop id")));
    },
  });

  router.route({
    method: "get",
    pattern: "/api/v1/orders/:reservationId",
    name: "order.get",
    access: { who: "signed-in" },
    lanes: "any",
    response: orderDetailsResponseSchema,
    handler: async (c) => {
      const claims = callerOf(c);
      const reservationId = validate(reservationIdSchema, c.params[0], "reservation id");
      const order = await c.lane.store.get(reservationId);
      // Someone else's order is "not found": no hint that it exists.
      if (!order || (order.userId !== claims.userId && !canHost(claims, order.roomId)))
        throw new HttpRefusal(404, "ORDER_NOT_FOUND", "no such order");
      sendJson(c.g, 200, { order, events: await c.lane.store.events(reservationId) });
    },
  });
}
