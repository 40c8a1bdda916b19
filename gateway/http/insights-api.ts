import { validate } from "../../core/index.ts";
import {
  type ClientConfigResponse,
  clientConfigResponseSchema,
  opsOverviewSchema,
  PROTOCOL_VERSION,
  roomIdSchema,
  roomInsightSchema,
} from "../../protocol/index.ts";
import type { Insights } from "./insights.ts";
import { sendJson } from "./respond.ts";
import { hostOfRoomParam } from "./route-access.ts";
import type { ApiRouter } from "./router.ts";

export interface InsightsApiDeps {
  readonly insights: Insights;
  /** Public base URL of the media tier, handed to browsers. */
  readonly mediaUrl: string;
}

/**
 * What the browser pages need besides the core API:
 * - GET /api/v1/config: public; the media tier's URL and the protocol version.
 * - GET /api/v1/rooms/:room/stats: the host console's live figures; a host of the room or admin,
 *   live traffic only (the figures are the live lane's).
 * - GET /api/v1/ops/overview: every live room and the health of gateway, Redis, queues and
 *   order store, for the ops wall screen; live admins only (there is no separate read-only role:
 *   the four roles are part of the signed-token contract, and admin is the operator's).
 */
export function registerInsightsApi(router: ApiRouter, d: InsightsApiDeps): void {
  router.route({
    method: "get",
    pattern: "/api/v1/config",
    name: "config",
    access: { who: "anyone" },
    lanes: "any",
    response: clientConfigResponseSchema,
    handler: async ({ g }) => {
      const body: ClientConfigResponse = { mediaUrl: d.mediaUrl, protocolVersion: PROTOCOL_VERSION };
      sendJson(g, 200, body);
    },
  });

  router.route({
    method: "get",
    pattern: "/api/v1/rooms/:room/stats",
    name: "insights.room",
    access: hostOfRoomParam,
    lanes: "live",
    response: roomInsightSchema,
    handler: async ({ params, g }) => {
      sendJson(g, 200, await d.insights.room(validate(roomIdSchema, params[0], "room id")));
    },
  });

  router.route({
    method: "get",
    pattern: "/api/v1/ops/overview",
    name: "insights.ops",
    access: { who: "admin" },
    lanes: "live",
    response: opsOverviewSchema,
    handler: async ({ g }) => {
      sendJson(g, 200, await d.insights.overview());
    },
  });
}
