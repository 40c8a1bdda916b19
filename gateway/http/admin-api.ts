import { z } from "zod";
import { validate } from "../../core/index.ts";
import { dropIdSchema, reservationIdSchema, roomIdSchema } from "../../sale-engine/index.ts";
import type { ApiDeps } from "./api-deps.ts";
import { parseQuery } from "./query.ts";
import { sendJson } from "./respond.ts";
import { hostOfDropParam } from "./route-access.ts";
import type { ApiRouter } from "./router.ts";

/** Most shadow tokens one request mints, and their longest life (a load test, not a login). */
export const SHADOW_TOKEN_LIMITS = {
  maxCount: 5_000,
  defaultTtlSeconds: 3_600,
  maxTtlSeconds: 86_400,
} as const;
/** Orders one audit page lists at most, and by default. */
const AUDIT_PAGE_MAX = 500;

/** `?after=<reservationId>&limit=N` of the order audit (query values arrive as text). */
const auditPageSchema = z.strictObject({
  after: reservationIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).default(AUDIT_PAGE_MAX),
});

const shadowTokensBodySchema = z.strictObject({
  role: z.enum(["viewer", "host"]),
  count: z.number().int().min(1).max(SHADOW_TOKEN_LIMITS.maxCount),
  rooms: z.array(roomIdSchema).max(32).default([]),
  ttlSeconds: z
    .number()
    .int()
    .min(60)
    .max(SHADOW_TOKEN_LIMITS.maxTtlSeconds)
    .default(SHADOW_TOKEN_LIMITS.defaultTtlSeconds),
});
const switchBodySchema = z.strictObject({ enabled: z.boolean() });

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
 */
export function registerAdminApi(router: ApiRouter, d: ApiDeps): void {
  router.route({
    method: "post",
    pattern: "/api/v1/admin/shadow/tokens",
    name: "admin.shadow.tokens",
    access: { who: "admin" },
    lanes: "live",
    body: shadowTokensBodySchema,
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
    body: switchBodySchema,
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
    handler: async ({ params, query, lane, g }) => {
      const dropId = validate(dropIdSchema, params[0], "drop id");
      const { after, limit } = parseQuery(auditPageSchema, query, "audit page");
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
