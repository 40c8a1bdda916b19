import {
  couponClaimBodySchema,
  couponClaimResponseSchema,
  couponListResponseSchema,
  couponPinBodySchema,
  couponResponseSchema,
} from "../../protocol/index.ts";
import {
  type Access,
  couponClaimCommand,
  couponListCommand,
  couponPinCommand,
  couponUnpinCommand,
  runCommand,
} from "../commands/index.ts";
import { sendJson } from "./respond.ts";
import type { ApiRouter } from "./router.ts";

/**
 * The coupon routes (docs/coupons.md): hosts pin and unpin, signed-in viewers list and claim.
 * Each is a command (../commands/coupon.ts): its rule and result are the command's own.
 */
export function registerCouponApi(router: ApiRouter): void {
  router.command({
    method: "post",
    pattern: "/api/v1/rooms/:room/coupons",
    command: couponPinCommand,
    body: couponPinBodySchema,
    input: ([room], body) => ({ ...body, roomId: room }),
    response: couponResponseSchema,
    respond: (coupon) => ({ coupon }),
  });
  router.command({
    method: "post",
    pattern: "/api/v1/rooms/:room/coupons/:code/unpin",
    command: couponUnpinCommand,
    input: ([room, code]) => ({ roomId: room, code }),
    response: couponResponseSchema,
    respond: (coupon) => ({ coupon }),
  });
  router.command({
    method: "post",
    pattern: "/api/v1/rooms/:room/coupons/:code/claim",
    command: couponClaimCommand,
    body: couponClaimBodySchema,
    input: ([room, code], body) => ({ ...body, roomId: room, code }),
    response: couponClaimResponseSchema,
    respond: (claim) => ({ claim }),
  });
  // A read: router.command serves POST and PUT only, so the route runs the command itself.
  router.route({
    method: "get",
    pattern: "/api/v1/rooms/:room/coupons",
    name: couponListCommand.name,
    access: couponListCommand.access as Access,
    lanes: couponListCommand.lanes,
    response: couponListResponseSchema,
    handler: async ({ params, claims, lane, g }) => {
      const ctx = { claims, lane, serving: true };
      const coupons = await runCommand(couponListCommand, ctx, { roomId: params[0] });
      sendJson(g, 200, { coupons });
    },
  });
}
