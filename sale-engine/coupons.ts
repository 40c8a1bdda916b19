import { z } from "zod";
import { type RedisClient, ValidationError, validate } from "../core/index.ts";
import {
  COUPON_LIMITS,
  type CouponApplied,
  type CouponClaim,
  type CouponClaimRequest,
  type CouponDiscount,
  type CouponPin,
  type CouponStatus,
  couponClaimIdSchema,
  couponClaimRequestSchema,
  couponCodeSchema,
  couponIdSchema,
  couponPinSchema,
  productSchema,
  reservationIdSchema,
  roomIdSchema,
  userIdSchema,
} from "../protocol/index.ts";
import { scriptError } from "./errors.ts";
import { type KeySpace, keySpace } from "./keys.ts";
import { registerScripts, type ScriptCommands, type ScriptReply } from "./scripts.ts";

export interface CouponsOptions {
  readonly redis: RedisClient;
  /** The sale engine's key prefix (SaleEngineOptions.prefix). */
  readonly prefix?: string;
}

/** What became of an order a claim was applied to. */
export type CouponOutcome = "paid" | "back";

/**
 * Coupons pinned in a room. Each call is one Lua script on one coupon's hash (a room's coupons
 * share a hash tag), so it is atomic and Redis-Cluster-safe. Guarantees: claims never pass the
 * total or per-buyer quota; a claim retried with the same user and idempotency key answers the
 * same claim; a claim applies to one order at a time, is redeemed at most once, and a payment
 * that fails or a hold that ends unpaid gives it back to its buyer.
 */
export class Coupons {
  private readonly cmd: ScriptCommands;
  private readonly keys: KeySpace;

  constructor(private readonly o: CouponsOptions) {
    this.cmd = registerScripts(o.redis);
    this.keys = keySpace(o.prefix ?? "ld");
  }

  /**
   * Pins a coupon in a room, or pins it again with new terms (claims made so far still count).
   * A room holds at most COUPON_LIMITS.maxPinnedPerRoom pinned at once: past it INVALID_INPUT
   * (reason TOO_MANY_PINNED).
   */
  async pin(pin: CouponPin): Promise<CouponStatus> {
    const p = validate(couponPinSchema, pin, "coupon");
    const d = p.discount;
    await this.run(
      this.cmd.ldCouponPin(
        this.keys.coupon(p.roomId, p.code),
        this.keys.couponCodes(p.roomId),
        p.code,
        d.kind,
        d.kind === "amount" ? d.amountMinor : 0,
        d.kind === "amount" ? d.currency : "",
        d.kind === "percent" ? d.percent : 0,
        p.minOrderMinor,
        p.quota,
        p.perBuyer,
        p.validUntil ?? 0,
        COUPON_LIMITS.maxPinnedPerRoom,
      ),
      { roomId: p.roomId, code: p.code, maxPinnedPerRoom: COUPON_LIMITS.maxPinnedPerRoom },
    );
    return this.mustStatus(p.roomId, p.code);
  }

  /** Unpins a coupon: no new claims; claims already made stay redeemable. */
  async unpin(roomId: string, code: string): Promise<CouponStatus> {
    const room = validate(roomIdSchema, roomId, "room id");
    const c = validate(couponCodeSchema, code, "coupon code");
    await this.run(this.cmd.ldCouponUnpin(this.keys.coupon(room, c), this.keys.couponCodes(room), c), {
      roomId: room,
      code: c,
    });
    return this.mustStatus(room, c);
  }

  /** A viewer's claim: refused unless pinned, not past valid-until, the room live and quota left. */
  async claim(request: CouponClaimRequest): Promise<CouponClaim> {
    const r = validate(couponClaimRequestSchema, request, "coupon claim");
    const reply = await this.run(
      this.cmd.ldCouponClaim(this.keys.coupon(r.roomId, r.code), r.userId, r.idempotencyKey, r.live ? 1 : 0),
      { roomId: r.roomId, code: r.code },
    );
    const couponId = `${r.roomId}.${r.code}`;
    return { claimId: `${couponId}.${reply[1]}`, couponId, userId: r.userId, replayed: reply[2] === 1 };
  }

  /**
   * Ties a buyer's claim to their unpaid order and computes the discount from its list total
   * (never above it). Again for the same order: the same answer.
   */
  async apply(
    claimId: string,
    userId: string,
    reservationId: string,
    totalMinor: number,
    currency: string,
  ): Promise<CouponApplied> {
    const claim = parseClaim(claimId);
    const user = validate(userIdSchema, userId, "user id");
    const rid = validate(reservationIdSchema, reservationId, "reservation id");
    const total = validate(listTotalSchema, totalMinor, "list total");
    const cur = validate(productSchema.shape.currency, currency, "currency");
    const reply = await this.run(
      this.cmd.ldCouponApply(this.keys.coupon(claim.roomId, claim.code), claim.n, user, rid, total, cur),
      { claimId },
    );
    return { claimId, couponId: claim.couponId, discountMinor: Number(reply[1]) };
  }

  /** Redeems (`paid`) or gives back (`back`) the claim applied to an order; idempotent. */
  async settle(couponId: string, reservationId: string, outcome: CouponOutcome): Promise<"R" | "C" | "none"> {
    const id = validate(couponIdSchema, couponId, "coupon id");
    const rid = validate(reservationIdSchema, reservationId, "reservation id");
    const [roomId = "", code = ""] = id.split(".");
    const reply = await this.run(this.cmd.ldCouponSettle(this.keys.coupon(roomId, code), rid, outcome), {
      couponId: id,
      reservationId: rid,
    });
    return reply[1] as "R" | "C" | "none";
  }

  /** A coupon's terms and counts; null when the room never had it. */
  async status(roomId: string, code: string): Promise<CouponStatus | null> {
    const room = validate(roomIdSchema, roomId, "room id");
    const c = validate(couponCodeSchema, code, "coupon code");
    const [kind, amt, cur, pct, min, quota, per, until, pinned, claimed, redeemed] = await this.o.redis.hmget(
      this.keys.coupon(room, c),
      "kind",
      "amt",
      "cur",
      "pct",
      "min",
      "quota",
      "per",
      "until",
      "pinned",
      "claimed",
      "redeemed",
    );
    if (!kind) return null;
    const discount: CouponDiscount =
      kind === "amount"
        ? { kind: "amount", amountMinor: Number(amt), currency: cur ?? "" }
        : { kind: "percent", percent: Number(pct) };
    return {
      couponId: `${room}.${c}`,
      roomId: room,
      code: c,
      discount,
      minOrderMinor: Number(min ?? 0),
      quota: Number(quota),
      perBuyer: Number(per),
      validUntil: Number(until ?? 0) > 0 ? Number(until) : null,
      pinned: pinned === "1",
      claimed: Number(claimed ?? 0),
      redeemed: Number(redeemed ?? 0),
    };
  }

  /** The coupons pinned in a room now, sorted by code (from the room's index of pinned codes). */
  async list(roomId: string): Promise<CouponStatus[]> {
    const room = validate(roomIdSchema, roomId, "room id");
    const codes = (await this.o.redis.smembers(this.keys.couponCodes(room))).sort();
    const all = await Promise.all(codes.map((c) => this.status(room, c)));
    return all.filter((s): s is CouponStatus => s?.pinned === true);
  }

  private async mustStatus(roomId: string, code: string): Promise<CouponStatus> {
    const status = await this.status(roomId, code);
    if (!status) throw scriptError("COUPON_NOT_FOUND", { roomId, code });
    return status;
  }

  /** A script's answer, or its refusal as the typed error. */
  private async run(call: Promise<ScriptReply>, details: Record<string, unknown>): Promise<unknown[]> {
    const reply = await call;
    if (!Array.isArray(reply)) throw scriptError("MALFORMED_REPLY", details);
    if (reply[0] === 0)
      throw scriptError(
        String(reply[1]),
        reply[2] === undefined ? details : { ...details, reason: reply[2] },
      );
    return reply;
  }
}

/** An order's list total: qty × unit price, a safe integer. */
const listTotalSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** A claim id names its room, code and number: `<room>.<code>.<n>`. */
function parseClaim(claimId: string): { roomId: string; code: string; n: string; couponId: string } {
  const id = validate(couponClaimIdSchema, claimId, "coupon claim id");
  const [roomId, code, n] = id.split(".");
  if (!roomId || !code || !n) throw new ValidationError("malformed coupon claim id", { claimId });
  return { roomId, code, n, couponId: `${roomId}.${code}` };
}
