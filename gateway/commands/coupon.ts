import { ErrorCode, LivedropError } from "../../core/index.ts";
import {
  type CouponClaim,
  type CouponStatus,
  couponClaimInputSchema,
  couponListInputSchema,
  couponPinSchema,
  couponRefSchema,
} from "../../protocol/index.ts";
import { Coupons, type SaleEngine } from "../../sale-engine/index.ts";
import type { RoomLog } from "../rooms/room-log.ts";
import { command } from "./command.ts";

/** One Coupons per engine (lane): its connection and key namespace. */
const couponsByEngine = new WeakMap<SaleEngine, Coupons>();

/** The lane's coupons. */
export function couponsOf(engine: SaleEngine): Coupons {
  let coupons = couponsByEngine.get(engine);
  if (!coupons) {
    coupons = new Coupons({ redis: engine.connection, prefix: engine.keys.prefix });
    couponsByEngine.set(engine, coupons);
  }
  return coupons;
}

/**
 * The room log of each lane in this process, by the lane's engine: HTTP commands reach a lane
 * through its engine only, and a pin must reach the room's sockets whichever transport made it.
 * The lane's socket server registers it when it starts (the newest one stands).
 */
const roomLogs = new WeakMap<SaleEngine, Pick<RoomLog, "append">>();

export function registerCouponRoomLog(engine: SaleEngine, roomLog: Pick<RoomLog, "append">): void {
  roomLogs.set(engine, roomLog);
}

function roomLogOf(engine: SaleEngine): Pick<RoomLog, "append"> {
  const log = roomLogs.get(engine);
  // Checked before the pin: a coupon the room is never told about would be pinned unseen.
  if (!log) throw new LivedropError(ErrorCode.INTERNAL, "this lane has no room log for coupon frames");
  return log;
}

/**
 * Whether a room is on air, as the gateway knows it: one of its drops is not ended (the rule
 * the ops overview and the end-of-live summary use). The media tier is another process and the
 * gateway has no feed of its state.
 */
export async function roomIsLive(engine: SaleEngine, roomId: string): Promise<boolean> {
  const ids = await engine.activeDropsInRoom(roomId);
  const statuses = await Promise.all(ids.map((id) => engine.status(id)));
  return statuses.some((s) => s.state !== "ended");
}

/** Pins a coupon (again: new terms, claims kept) in a room the caller hosts; the room hears it. */
export const couponPinCommand = command({
  name: "coupon.pin",
  input: couponPinSchema,
  access: { who: "host", room: ({ input }) => input.roomId },
  lanes: "any",
  run: async ({ lane }, input): Promise<CouponStatus> => {
    const log = roomLogOf(lane.engine);
    const coupon = await couponsOf(lane.engine).pin(input);
    await log.append(input.roomId, { type: "coupon.pinned", coupon });
    return coupon;
  },
});

/** Unpins a coupon: no new claims (claims made stay redeemable); the room hears it. */
export const couponUnpinCommand = command({
  name: "coupon.unpin",
  input: couponRefSchema,
  access: { who: "host", room: ({ input }) => input.roomId },
  lanes: "any",
  run: async ({ lane }, input): Promise<CouponStatus> => {
    const log = roomLogOf(lane.engine);
    const coupon = await couponsOf(lane.engine).unpin(input.roomId, input.code);
    await log.append(input.roomId, { type: "coupon.unpinned", coupon });
    return coupon;
  },
});

/** A viewer claims a pinned coupon while the room is live; a retry with the same key answers it. */
export const couponClaimCommand = command({
  name: "coupon.claim",
  input: couponClaimInputSchema,
  access: { who: "signed-in" },
  lanes: "any",
  run: async ({ claims, lane }, input): Promise<CouponClaim> =>
    couponsOf(lane.engine).claim({
      ...input,
      userId: claims.userId,
      live: await roomIsLive(lane.engine, input.roomId),
    }),
  ack: (c) => ({ kind: "coupon", claimId: c.claimId, couponId: c.couponId, replayed: c.replayed }),
});

/** The room's pinned coupons, sorted by code. */
export const couponListCommand = command({
  name: "coupon.list",
  input: couponListInputSchema,
  access: { who: "signed-in" },
  lanes: "any",
  run: ({ lane }, input): Promise<CouponStatus[]> => couponsOf(lane.engine).list(input.roomId),
});
