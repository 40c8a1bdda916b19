import type { TemplatedApp } from "uWebSockets.js";
import { z } from "zod";
import type { RateLimiter } from "../../core/index.ts";
import { validate } from "../../core/index.ts";
import type { Checkout, OrderStore } from "../../orders/index.ts";
import {
  dropFieldsSchema,
  dropIdSchema,
  idempotencyKeySchema,
  reservationIdSchema,
  roomIdSchema,
  type SaleEngine,
} from "../../sale-engine/index.ts";
import { type Claims, canHost } from "../auth/index.ts";
import type { ShadowLane } from "../lane.ts";
import type { ShadowSwitch } from "../shadow-switch.ts";
import { registerAdminApi } from "./admin-api.ts";
import { HttpRefusal } from "./handler.ts";
import { sendJson } from "./respond.ts";
import { type ApiRouterDeps, apiRouter, type RequestInfo } from "./router.ts";

export interface ApiDeps extends ApiRouterDeps {
  readonly engine: SaleEngine;
  readonly store: OrderStore;
  readonly checkout: Checkout;
  readonly guestTokenTtlS: number;
  /** Per client IP, for guest tokens (cheap to ask for, so stricter). */
  readonly tokenLimiter: RateLimiter;
  /** The shadow (load-test) lane, for tokens with the shadow claim. */
  readonly shadow?: ShadowLane | undefined;
  readonly shadowSwitch: ShadowSwitch;
  /** Counts a live buy click (the ops funnel); shadow buys are not counted. */
  readonly countBuy?: (dropId: string) => void;
}

/** The engine, store and checkout a caller's requests go to. */
type LaneDeps = Pick<ApiDeps, "engine" | "store" | "checkout">;

/**
 * Shadow-claim tokens get the shadow lane, or SHADOW_DISABLED when it is off; everyone else the
 * live one. The claim is signed: a request cannot pick its lane.
 */
export function laneFor(d: ApiDeps, claims: Claims | undefined): LaneDeps {
  if (!claims?.shadow) return d;
  if (!d.shadow || !d.shadowSwitch.enabled())
    throw new HttpRefusal(403, "SHADOW_DISABLED", "shadow (load-test) traffic is switched off");
  return d.shadow;
}

const buyBodySchema = z.strictObject({
  qty: z.number().int().min(1).max(1_000),
  idempotencyKey: idempotencyKeySchema,
});
const payBodySchema = z.strictObject({
  token: z.string().min(1).max(64),
  idempotencyKey: idempotencyKeySchema,
});
const restockBodySchema = z.strictObject({ qty: z.number().int().min(1).max(10_000_000) });
const createDropBodySchema = dropFieldsSchema.omit({ roomId: true });
const HOST_ACTIONS = ["launch", "pause", "resume", "end", "restock"] as const;

/** The JSON API under /api/v1: guest tokens, drops for hosts, buy, order status, sandbox pay. */
export function registerApi(app: TemplatedApp, d: ApiDeps): void {
  const router = apiRouter(app, d);
  const { route, claimsOf } = router;
  registerAdminApi(router, d);
  /** Refuses (403) unless `claims` may host `room`. */
  const mustHost = (claims: Claims, room: string): void => {
    if (!canHost(claims, room))
      throw new HttpRefusal(403, "FORBIDDEN", `only a host of room ${room} may do this`);
  };
  /** Public reads take an optional token: a shadow token reads the shadow lane. */
  const optionalClaims = (i: RequestInfo) => (i.authorization ? claimsOf(i) : Promise.resolve(undefined));
  route("post", "/api/v1/tokens/guest", "token.guest", 0, async (i, g) => {
    if (!d.tokenLimiter.take(i.ip))
      throw new HttpRefusal(429, "RATE_LIMITED", "too many guest tokens from this address");
    const { token, userId } = await d.tokens.issueGuest(d.guestTokenTtlS);
    sendJson(g, 201, { token, userId, role: "viewer", expiresAt: Date.now() + d.guestTokenTtlS * 1000 });
  });

  route("get", "/api/v1/drops/:dropId", "drop.get", 1, async (i, g) => {
    const lane = laneFor(d, await optionalClaims(i));
    sendJson(g, 200, await lane.engine.status(validate(dropIdSchema, i.params[0], "drop id")));
  });

  route("post", "/api/v1/rooms/:room/drops", "drop.create", 1, async (i, g, body) => {
    const room = validate(roomIdSchema, i.params[0], "room id");
    const claims = await claimsOf(i);
    mustHost(claims, room);
    const definition = validate(createDropBodySchema, await body(), "drop");
    const { created, status } = await laneFor(d, claims).engine.createDrop({ ...definition, roomId: room });
    sendJson(g, created ? 201 : 200, { created, drop: status });
  });

  route("post", "/api/v1/drops/:dropId/:action", "drop.host", 2, async (i, g, body) => {
    const dropId = validate(dropIdSchema, i.params[0], "drop id");
    const action = validate(z.enum(HOST_ACTIONS), i.params[1], "drop action");
    const claims = await claimsOf(i);
    const { engine } = laneFor(d, claims);
    if (action === "restock") {
      const { qty } = validate(restockBodySchema, await body(), "restock");
      mustHost(claims, (await engine.status(dropId)).roomId);
      sendJson(g, 200, await engine.restock(dropId, qty));
      return;
    }
    mustHost(claims, (await engine.status(dropId)).roomId);
    sendJson(g, 200, await engine[action](dropId));
  });

  route("post", "/api/v1/drops/:dropId/buy", "buy", 1, async (i, g, body) => {
    const claims = await claimsOf(i);
    const { qty, idempotencyKey } = validate(buyBodySchema, await body(), "buy");
    const dropId = validate(dropIdSchema, i.params[0], "drop id");
    const lane = laneFor(d, claims);
    if (lane === d) d.countBuy?.(dropId);
    const reservation = await lane.engine.reserve({
      dropId,
      userId: claims.userId,
      qty,
      idempotencyKey,
    });
    sendJson(g, reservation.replayed ? 200 : 201, reservation);
  });

  route("get", "/api/v1/orders/:reservationId", "order.get", 1, async (i, g) => {
    const claims = await claimsOf(i);
    const reservationId = validate(reservationIdSchema, i.params[0], "reservation id");
    const { store } = laneFor(d, claims);
    const order = await store.get(reservationId);
    // Someone else's order is "not found": no hint that it exists.
    if (!order || (order.userId !== claims.userId && !canHost(claims, order.roomId))) {
      throw new HttpRefusal(404, "ORDER_NOT_FOUND", "no such order");
    }
    sendJson(g, 200, { order, events: await store.events(reservationId) });
  });

  route("post", "/api/v1/orders/:reservationId/pay", "order.pay", 1, async (i, g, body) => {
    const claims = await claimsOf(i);
    const { token, idempotencyKey } = validate(payBodySchema, await body(), "payment");
    const reservationId = validate(reservationIdSchema, i.params[0], "reservation id");
    const { checkout } = laneFor(d, claims);
    sendJson(g, 200, await checkout.pay({ reservationId, userId: claims.userId, token, idempotencyKey }));
  });
}
