import { validate } from "../../core/index.ts";
import {
  auditPageQuerySchema,
  dropIdSchema,
  dropOrdersPageSchema,
  shadowSwitchBodySchema,
  shadowSwitchResponseSchema,
  shadowTokensBodySchema,
  shadowTokensResponseSchema,
} from "../../protocol/index.ts";
import type { ApiDeps } from "./api-deps.ts";
import { registerPrivacyApi } from "./privacy-api.ts";
import { parseQuery } from "./query.ts";
import { sendJson } from "./respond.ts";
import { hostOfDropParam } from "./route-access.ts";
import type { ApiRouter } from "./router.ts";

/**
 * Operator endpoints (live admin tokens only: a shadow token never reaches them) and the drop
 * order audit:
 * - POST /api/v1/admin/shadow/tokens {role, count, rooms?, ttlSeconds?} → {tokens}: load-test
 *   tokens, every one with the shadow claim (user ids `lt-…`).
 * - GET / PUT /api/v1/admin/shadow {enabled}: the shadow-traffic kill switch.
 * - GET /api/v1/drops/:dropId/orders?after=&limit= (a host of the drop's room, or admin) → a page
 *   of the drop's orders in the caller's lane, in reservation-id order, with `next` (the `after`
 *   of the following page, or null): how a load test checks that every acknowledged hold became
 *   an order, however many there are.
 * - The audit log and one user's export and erasure (privacy-api.ts).
 * Host and admin routes that change something are written to the audit log (router-audit.ts).
 */
export function registerAdminApi(router: ApiRouter, d: ApiDeps): void {
  registerPrivacyApi(router, d);
  router.route({
    method: "post",
    pattern: "/api/v1/admin/shadow/tokens",
    name: "admin.shadow.tokens",
    access: { who: "admin" },
    lanes: "live",
    body: shadowTokensBodySchema,
    response: shadowTokensResponseSchema,
    handler: async ({ body: r, g }) => {
      const run = Math.random().toString(36).slice(2, 8);
      const tokens = await Promise.all(
        Array.from({ length: r.count }, (_, n) =>
          d.tokens.issue({
            userId: `lt-${run}-${n}`,
            role: r.role,
            rooms: r.role === "host" ? r.rooms : [],
            ttlSeconds: r.ttlSeconds,
            shadow: true,
          }),
        ),
      );
      sendJson(g, 201, { tokens, expiresAt: Date.now() + r.ttlSeconds * 1000 });
    },
  });

  router.route({
    method: "get",
    pattern: "/api/v1/admin/shadow",
    name: "admin.shadow.get",
    access: { who: "admin" },
    lanes: "live",
    response: shadowSwitchResponseSchema,
    handler: async ({ g }) => {
      sendJson(g, 200, { enabled: d.shadowSwitch.enabled(), lane: d.hasShadowLane });
    },
  });

  router.route({
    method: "put",
    pattern: "/api/v1/admin/shadow",
    name: "admin.shadow.set",
    access: { who: "admin" },
    lanes: "live",
    body: shadowSwitchBodySchema,
    response: shadowSwitchResponseSchema,
    handler: async ({ body, g }) => {
      await d.shadowSwitch.set(body.enabled);
      sendJson(g, 200, { enabled: body.enabled, lane: d.hasShadowLane });
    },
  });

  router.route({
    method: "get",
    pattern: "/api/v1/drops/:dropId/orders",
    name: "drop.orders",
    access: hostOfDropParam,
    lanes: "any",
    response: dropOrdersPageSchema,
    handler: async ({ params, query, lane, g }) => {
      const dropId = validate(dropIdSchema, params[0], "drop id");
      const { after, limit } = parseQuery(auditPageQuerySchema, query, "audit page");
      // One more than asked tells whether another page follows.
      const rows = await lane.store.dropPage({ dropId, after, limit: limit + 1 });
      const orders = rows.slice(0, limit);
      const next = rows.length > limit ? (orders.at(-1)?.reservationId ?? null) : null;
      sendJson(g, 200, {
        dropId,
        orders: orders.map((o) => ({ reservationId: o.reservationId, status: o.status, qty: o.qty })),
        next,
        truncated: next !== null,
      });
    },
  });
}
