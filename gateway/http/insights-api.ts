import type { TemplatedApp } from "uWebSockets.js";
import type { RateLimiter } from "../../core/index.ts";
import { validate } from "../../core/index.ts";
import { PROTOCOL_VERSION } from "../../protocol/index.ts";
import { roomIdSchema } from "../../sale-engine/index.ts";
import { type Claims, canHost, type TokenService } from "../auth/index.ts";
import { type HandlerContext, HttpRefusal, handle } from "./handler.ts";
import type { Insights } from "./insights.ts";
import type { ClientConfigResponse } from "./insights-types.ts";
import { guard, sendJson } from "./respond.ts";

export interface InsightsApiDeps extends HandlerContext {
  readonly insights: Insights;
  readonly tokens: TokenService;
  /** Public base URL of the media tier, handed to browsers. */
  readonly mediaUrl: string;
  readonly ipLimiter: RateLimiter;
}

/**
 * What the browser pages need besides the core API:
 * - GET /api/v1/config: public; the media tier's URL and the protocol version.
 * - GET /api/v1/rooms/:room/stats: the host console's live figures; a host of the room or admin.
 * - GET /api/v1/ops/overview: every live room and the health of gateway, Redis, queues and
 *   order store, for the ops wall screen; admin only (there is no separate read-only role: the
 *   four roles are part of the signed-token contract, and admin is the operator's).
 */
export function registerInsightsApi(app: TemplatedApp, d: InsightsApiDeps): void {
  const route = (
    pattern: string,
    name: string,
    fn: (auth: () => Promise<Claims>, param: string) => Promise<unknown>,
  ) =>
    app.get(pattern, (res, req) => {
      // Read before anything async: uWS request objects die when this callback returns.
      const authorization = req.getHeader("authorization");
      const param = req.getParameter(0) ?? "";
      const ip = Buffer.from(res.getRemoteAddressAsText()).toString();
      const g = guard(res);
      handle(d, name, g, async () => {
        if (!d.ipLimiter.take(ip)) throw new HttpRefusal(429, "RATE_LIMITED", "too many requests; slow down");
        sendJson(g, 200, await fn(() => claimsOf(d.tokens, authorization), param));
      });
    });

  route("/api/v1/config", "config", async () => {
    const body: ClientConfigResponse = { mediaUrl: d.mediaUrl, protocolVersion: PROTOCOL_VERSION };
    return body;
  });

  route("/api/v1/rooms/:room/stats", "insights.room", async (auth, param) => {
    const room = validate(roomIdSchema, param, "room id");
    if (!canHost(await auth(), room))
      throw new HttpRefusal(403, "FORBIDDEN", `only a host of room ${room} may see its figures`);
    return d.insights.room(room);
  });

  route("/api/v1/ops/overview", "insights.ops", async (auth) => {
    if ((await auth()).role !== "admin")
      throw new HttpRefusal(403, "FORBIDDEN", "the ops overview is for admins");
    return d.insights.overview();
  });
}

async function claimsOf(tokens: TokenService, authorization: string): Promise<Claims> {
  const match = /^Bearer (\S+)$/.exec(authorization);
  if (!match?.[1]) throw new HttpRefusal(401, "UNAUTHORIZED", "send Authorization: Bearer <token>");
  const verified = await tokens.verify(match[1]);
  if (!verified.ok) throw new HttpRefusal(401, "UNAUTHORIZED", `token refused (${verified.reason})`);
  return verified.claims;
}
