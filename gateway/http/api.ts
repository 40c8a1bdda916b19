import { z } from "zod";
import type { ShadowSwitch } from "../../auth/index.ts";
import { canHost, type TokenService } from "../../auth/index.ts";
import type { RateLimiter } from "../../core/index.ts";
import { validate } from "../../core/index.ts";
import {
  dropFieldsSchema,
  dropIdSchema,
  idempotencyKeySchema,
  reservationIdSchema,
  roomIdSchema,
} from "../../sale-engine/index.ts";
import type { Access, RoomLookup } from "./access.ts";
import { registerAdminApi } from "./admin-api.ts";
import { HttpRefusal } from "./handler.ts";
import { sendJson } from "./respond.ts";
import { registerRoomDropsRoute } from "./room-drops.ts";
import { type ApiRouter, callerOf } from "./router.ts";

export interface ApiDeps {
  readonly tokens: TokenService;
  readonly guestTokenTtlS: number;
  /** Per client address, for guest tokens (cheap to ask for, so stricter). */
  readonly guestTokenLimiter: RateLimiter;
  /** Counts a live buy click (the ops funnel); shadow buys are not counted. */
  readonly countBuy?: (dropId: string) => void;
  readonly shadowSwitch: ShadowSwitch;
  /** Whether this deployment runs a shadow lane at all. */
  readonly hasShadowLane: boolean;
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
/** Host controls that take no body; restock takes its quantity. */
const BODYLESS_HOST_ACTIONS = ["launch", "pause", "resume", "end"] as const;

/** Host access to the room named in the path. */
export const hostOfRoomParam: Access = {
  who: "host",
  room: (r: RoomLookup) => validate(roomIdSchema, r.params[0], "room id"),
};
/** Host access to the room of the drop named in the path (read from the caller's lane). */
export const hostOfDropParam: Access = {
  who: "host",
  room: async (r: RoomLookup) =>
    (await r.lane.engine.status(validate(dropIdSchema, r.params[0], "drop id"))).roomId,
};

/** The JSON API under /api/v1: guest tokens, drops for hosts, buy, order status, sandbox pay. */
export function registerApi(router: ApiRouter, d: ApiDeps): void {
  registerAdminApi(router, d);
  registerRoomDropsRoute(router);

  router.route({
    method: "post",
    pattern: "/api/v1/tokens/guest",
    name: "token.guest",
    access: { who: "anyone" },
    lanes: "any",
    perAddress: d.guestTokenLimiter,
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
    handler: async ({ params, lane, g }) => {
      sendJson(g, 200, await lane.engine.status(validate(dropIdSchema, params[0], "drop id")));
    },
  });

  router.route({
    method: "post",
    pattern: "/api/v1/rooms/:room/drops",
    name: "drop.create",
    access: hostOfRoomParam,
    lanes: "any",
    body: createDropBodySchema,
    handler: async ({ params, lane, body, g }) => {
      const room = validate(roomIdSchema, params[0], "room id");
      const { created, status } = await lane.engine.createDrop({ ...body, roomId: room });
      sendJson(g, created ? 201 : 200, { created, drop: status });
    },
  });

  for (const action of BODYLESS_HOST_ACTIONS) {
    router.route({
      method: "post",
      pattern: `/api/v1/drops/:dropId/${action}`,
      name: `drop.${action}`,
      access: hostOfDropParam,
      lanes: "any",
      handler: async ({ params, lane, g }) => {
        sendJson(g, 200, await lane.engine[action](validate(dropIdSchema, params[0], "drop id")));
      },
    });
  }

  router.route({
    method: "post",
    pattern: "/api/v1/drops/:dropId/restock",
    name: "drop.restock",
    access: hostOfDropParam,
    lanes: "any",
    body: restockBodySchema,
    handler: async ({ params, lane, body, g }) => {
      sendJson(g, 200, await lane.engine.restock(validate(dropIdSchema, params[0], "drop id"), body.qty));
    },
  });

  router.route({
    method: "post",
    pattern: "/api/v1/drops/:dropId/buy",
    name: "buy",
    access: { who: "signed-in" },
    lanes: "any",
    body: buyBodySchema,
    handler: async (c) => {
      const claims = callerOf(c);
      const dropId = validate(dropIdSchema, c.params[0], "drop id");
      if (!claims.shadow) d.countBuy?.(dropId);
      const reservation = await c.lane.engine.reserve({
        dropId,
        userId: claims.userId,
        qty: c.body.qty,
        idempotencyKey: c.body.idempotencyKey,
      });
      sendJson(c.g, reservation.replayed ? 200 : 201, reservation);
    },
  });

  router.route({
    method: "get",
    pattern: "/api/v1/orders/:reservationId",
    name: "order.get",
    access: { who: "signed-in" },
    lanes: "any",
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

  router.route({
    method: "post",
    pattern: "/api/v1/orders/:reservationId/pay",
    name: "order.pay",
    access: { who: "signed-in" },
    lanes: "any",
    body: payBodySchema,
    handler: async (c) => {
      const claims = callerOf(c);
      const reservationId = validate(reservationIdSchema, c.params[0], "reservation id");
      const { token, idempotencyKey } = c.body;
      sendJson(
        c.g,
        200,
        await c.lane.checkout.pay({ reservationId, userId: claims.userId, token, idempotencyKey }),
      );
    },
  });
}
