import { z } from "zod";
import { validate } from "../../core/index.ts";
import { dropIdSchema, reservationIdSchema, roomIdSchema } from "../../sale-engine/index.ts";
import { type Claims, canHost } from "../auth/index.ts";
import { type ApiDeps, laneFor } from "./api.ts";
import { HttpRefusal } from "./handler.ts";
import { sendJson } from "./respond.ts";
import type { apiRouter } from "./router.ts";

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
 * Operator endpoints (admin tokens only) and the drop order audit:
 * - POST /api/v1/admin/shadow/tokens {role, count, rooms?, ttlSeconds?} → {tokens}: load-test
 *   tokens, every one with the shadow claim (user ids `lt-…`).
 * - GET / PUT /api/v1/admin/shadow {enabled}: the shadow-traffic kill switch.
 * - GET /api/v1/drops/:dropId/orders?after=&limit= (a host of the drop's room, or admin) → a page
 *   of the drop's orders in the caller's lane, in reservation-id order, with `next` (the `after`
 *   of the following page, or null): how a load test checks that every acknowledged hold became
 *   an order, however many there are.
 */
export function registerAdminApi({ route, claimsOf }: ReturnType<typeof apiRouter>, d: ApiDeps): void {
  const mustBeAdmin = (claims: Claims): void => {
    if (claims.role !== "admin") throw new HttpRefusal(403, "FORBIDDEN", "admins only");
  };

  route("post", "/api/v1/admin/shadow/tokens", "admin.shadow.tokens", 0, async (i, g, body) => {
    mustBeAdmin(await claimsOf(i));
    const r = validate(shadowTokensBodySchema, await body(), "shadow token request");
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
  });

  route("get", "/api/v1/admin/shadow", "admin.shadow.get", 0, async (i, g) => {
    mustBeAdmin(await claimsOf(i));
    sendJson(g, 200, { enabled: d.shadowSwitch.enabled(), lane: d.shadow !== undefined });
  });

  route("put", "/api/v1/admin/shadow", "admin.shadow.set", 0, async (i, g, body) => {
    mustBeAdmin(await claimsOf(i));
    const { enabled } = validate(switchBodySchema, await body(), "shadow switch");
    await d.shadowSwitch.set(enabled);
    sendJson(g, 200, { enabled, lane: d.shadow !== undefined });
  });

  route("get", "/api/v1/drops/:dropId/orders", "drop.orders", 1, async (i, g) => {
    const claims = await claimsOf(i);
    const dropId = validate(dropIdSchema, i.params[0], "drop id");
    const lane = laneFor(d, claims);
    const { roomId } = await lane.engine.status(dropId);
    if (!canHost(claims, roomId))
      throw new HttpRefusal(403, "FORBIDDEN", `only a host of room ${roomId} may audit its orders`);
    const { after, limit } = validate(
      auditPageSchema,
      Object.fromEntries(new URLSearchParams(i.query)),
      "audit page",
    );
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
  });
}
