import type { HttpRequest, HttpResponse, TemplatedApp } from "uWebSockets.js";
import { z } from "zod";
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
import { type Claims, canHost, type TokenService } from "../auth/index.ts";
import type { RateLimiter } from "../rate-limit.ts";
import { type HandlerContext, HttpRefusal, handle } from "./handler.ts";
import { readJsonBody } from "./read-body.ts";
import { type GuardedResponse, guard, sendJson } from "./respond.ts";

export interface ApiDeps extends HandlerContext {
  readonly engine: SaleEngine;
  readonly store: OrderStore;
  readonly checkout: Checkout;
  readonly tokens: TokenService;
  readonly guestTokenTtlS: number;
  /** Per client IP, for every API call. */
  readonly ipLimiter: RateLimiter;
  /** Per client IP, for guest tokens (cheap to ask for, so stricter). */
  readonly tokenLimiter: RateLimiter;
}

/** Largest JSON body the API reads; bigger ones are 413 before parsing. */
const MAX_BODY_BYTES = 16 * 1024;

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

/** What a handler needs from the request, read synchronously (uWS requests die on return). */
interface RequestInfo {
  readonly params: string[];
  readonly authorization: string;
  readonly contentType: string;
  readonly ip: string;
}

function info(req: HttpRequest, res: HttpResponse, paramCount: number): RequestInfo {
  return {
    params: Array.from({ length: paramCount }, (_, i) => req.getParameter(i) ?? ""),
    authorization: req.getHeader("authorization"),
    contentType: req.getHeader("content-type"),
    ip: Buffer.from(res.getRemoteAddressAsText()).toString(),
  };
}

/** The JSON API under /api/v1: guest tokens, drops for hosts, buy, order status, sandbox pay. */
export function registerApi(app: TemplatedApp, d: ApiDeps): void {
  const route = (
    method: "get" | "post",
    pattern: string,
    name: string,
    paramCount: number,
    fn: (i: RequestInfo, g: GuardedResponse, body: () => Promise<unknown>) => Promise<void>,
  ) =>
    app[method](pattern, (res, req) => {
      // Everything uWS hands us is read now: the request, and the body stream (onData must be
      // attached before this callback returns, or the chunks are gone).
      const i = info(req, res, paramCount);
      const g = guard(res);
      const body =
        method === "post" ? readJsonBody(g, i.contentType, MAX_BODY_BYTES) : Promise.resolve(undefined);
      body.catch(() => undefined); // refused bodies surface when (and if) the handler awaits them
      handle(d, name, g, async () => {
        if (!d.ipLimiter.take(i.ip))
          throw new HttpRefusal(429, "RATE_LIMITED", "too many requests; slow down");
        await fn(i, g, () => body);
      });
    });

  const claimsOf = async (i: RequestInfo): Promise<Claims> => {
    const match = /^Bearer (\S+)$/.exec(i.authorization);
    if (!match?.[1]) throw new HttpRefusal(401, "UNAUTHORIZED", "send Authorization: Bearer <token>");
    const verified = await d.tokens.verify(match[1]);
    if (!verified.ok) throw new HttpRefusal(401, "UNAUTHORIZED", `token refused (${verified.reason})`);
    return verified.claims;
  };
  const hostOf = async (i: RequestInfo, room: string): Promise<Claims> => {
    const claims = await claimsOf(i);
    if (!canHost(claims, room))
      throw new HttpRefusal(403, "FORBIDDEN", `only a host of room ${room} may do this`);
    return claims;
  };
  route("post", "/api/v1/tokens/guest", "token.guest", 0, async (i, g) => {
    if (!d.tokenLimiter.take(i.ip))
      throw new HttpRefusal(429, "RATE_LIMITED", "too many guest tokens from this address");
    const { token, userId } = await d.tokens.issueGuest(d.guestTokenTtlS);
    sendJson(g, 201, { token, userId, role: "viewer", expiresAt: Date.now() + d.guestTokenTtlS * 1000 });
  });

  route("get", "/api/v1/drops/:dropId", "drop.get", 1, async (i, g) => {
    sendJson(g, 200, await d.engine.status(validate(dropIdSchema, i.params[0], "drop id")));
  });

  route("post", "/api/v1/rooms/:room/drops", "drop.create", 1, async (i, g, body) => {
    const room = validate(roomIdSchema, i.params[0], "room id");
    await hostOf(i, room);
    const definition = validate(createDropBodySchema, await body(), "drop");
    const { created, status } = await d.engine.createDrop({ ...definition, roomId: room });
    sendJson(g, created ? 201 : 200, { created, drop: status });
  });

  route("post", "/api/v1/drops/:dropId/:action", "drop.host", 2, async (i, g, body) => {
    const dropId = validate(dropIdSchema, i.params[0], "drop id");
    const action = validate(z.enum(HOST_ACTIONS), i.params[1], "drop action");
    if (action === "restock") {
      const { qty } = validate(restockBodySchema, await body(), "restock");
      await hostOf(i, (await d.engine.status(dropId)).roomId);
      sendJson(g, 200, await d.engine.restock(dropId, qty));
      return;
    }
    await hostOf(i, (await d.engine.status(dropId)).roomId);
    sendJson(g, 200, await d.engine[action](dropId));
  });

  route("post", "/api/v1/drops/:dropId/buy", "buy", 1, async (i, g, body) => {
    const claims = await claimsOf(i);
    const { qty, idempotencyKey } = validate(buyBodySchema, await body(), "buy");
    const dropId = validate(dropIdSchema, i.params[0], "drop id");
    const reservation = await d.engine.reserve({ dropId, userId: claims.userId, qty, idempotencyKey });
    sendJson(g, reservation.replayed ? 200 : 201, reservation);
  });

  route("get", "/api/v1/orders/:reservationId", "order.get", 1, async (i, g) => {
    const claims = await claimsOf(i);
    const reservationId = validate(reservationIdSchema, i.params[0], "reservation id");
    const order = await d.store.get(reservationId);
    // Someone else's order is "not found": no hint that it exists.
    if (!order || (order.userId !== claims.userId && !canHost(claims, order.roomId))) {
      throw new HttpRefusal(404, "ORDER_NOT_FOUND", "no such order");
    }
    sendJson(g, 200, { order, events: await d.store.events(reservationId) });
  });

  route("post", "/api/v1/orders/:reservationId/pay", "order.pay", 1, async (i, g, body) => {
    const claims = await claimsOf(i);
    const { token, idempotencyKey } = validate(payBodySchema, await body(), "payment");
    const reservationId = validate(reservationIdSchema, i.params[0], "reservation id");
    sendJson(g, 200, await d.checkout.pay({ reservationId, userId: claims.userId, token, idempotencyKey }));
  });
}
