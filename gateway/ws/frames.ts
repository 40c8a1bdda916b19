import { isLivedropError, redisUnavailable } from "../../core/index.ts";
import type {
  DropRoomEntry,
  DropSnapshot,
  RoomLogEntry,
  RoomMessage,
  ServerFrame,
} from "../../protocol/index.ts";
import { WireErrorCode } from "../../protocol/index.ts";
import type { DropStatus } from "../../sale-engine/index.ts";

export function dropSnapshot(s: DropStatus): DropSnapshot {
  return {
    dropId: s.dropId,
    roomId: s.roomId,
    product: s.product,
    state: s.state,
    startsAt: s.startsAt,
    endsAt: s.endsAt,
    perUserLimit: s.perUserLimit,
    holdMs: s.holdMs,
    available: s.available,
    held: s.held,
    sold: s.sold,
    v: s.version,
    ...(s.fair ? { fair: s.fair } : {}),
    ...(s.waitlist ? { waitlist: s.waitlist } : {}),
    // A timed drop's frames stay as they were: only the other formats say theirs.
    ...(s.format && s.format !== "drop" ? { format: s.format } : {}),
    ...(s.pinned !== undefined ? { pinned: s.pinned } : {}),
  };
}

/** Drop-level changes travel as full snapshots; holds and payments as (small) stock frames. */
export function isDropLevel(ev: RoomLogEntry): ev is Extract<DropRoomEntry, { type: DropLevelType }> {
  return DROP_LEVEL.has(ev.type);
}

type DropLevelType =
  | "drop.created"
  | "drop.state"
  | "drop.snapshot"
  | "stock.restocked"
  | "drop.pinned"
  | "drop.unpinned";
const DROP_LEVEL = new Set<string>([
  "drop.created",
  "drop.state",
  "drop.snapshot",
  "stock.restocked",
  "drop.pinned",
  "drop.unpinned",
]);

/**
 * The frame for one room message. Drop-level events need the drop's product and window, which
 * the caller passes (fetched once per such event); stock changes need nothing more.
 */
export function frameOf(room: string, m: RoomMessage, status?: DropStatus): ServerFrame | undefined {
  const ev = m.ev;
  // Chat in the log (a resume replays it): the frames live chat goes out as.
  if (ev.type === "chat.message") return { t: "chat", room, messages: [ev.message] };
  if (ev.type === "chat.moderation")
    return { t: "moderation", room, action: ev.action, by: ev.by, at: ev.at };
  if (ev.type === "coupon.pinned" || ev.type === "coupon.unpinned")
    return { t: "coupon", room, coupon: ev.coupon };
  if (isDropLevel(ev)) {
    if (!status) return undefined;
    // The event's counters and version are the truth at this offset; the status adds the rest,
    // but not the waitlist's counters: they move without events, so a cached status has stale ones
    // (joins and resyncs read them fresh).
    const { waitlist: _, ...snapshot } = dropSnapshot(status);
    const drop = {
      ...snapshot,
      state: ev.state,
      available: ev.available,
      held: ev.held,
      sold: ev.sold,
      v: ev.v,
    };
    return { t: "drop", room, o: m.o, e: m.e, drop };
  }
  if (ev.type === "fair.allocated")
    return {
      t: "draw",
      room,
      o: m.o,
      e: m.e,
      dropId: ev.drop,
      mode: ev.mode ?? "window",
      seed: ev.seed,
      stock: ev.stock,
      units: ev.units,
      winners: ev.winners,
      losers: ev.losers,
      v: ev.v,
    };
  if (ev.type === "auction.bid")
    return {
      t: "auction",
      room,
      o: m.o,
      e: m.e,
      dropId: ev.dropId,
      leader: ev.leader,
      priceMinor: ev.priceMinor,
      endsAt: ev.endsAt,
      bids: ev.bids,
      extended: ev.extended,
      v: ev.v,
    };
  if (ev.type === "auction.ended")
    return {
      t: "auctionEnded",
      room,
      o: m.o,
      e: m.e,
      dropId: ev.dropId,
      ...(ev.winner !== undefined ? { winner: ev.winner } : {}),
      ...(ev.priceMinor !== undefined ? { priceMinor: ev.priceMinor } : {}),
      reserveMet: ev.reserveMet,
      v: ev.v,
    };
  // Only a hold's events move the counters alone; a drop event this build has no frame for is
  // not shown as one.
  if (!ev.type.startsWith("reservation.")) return undefined;
  return {
    t: "stock",
    room,
    o: m.o,
    e: m.e,
    dropId: ev.drop,
    available: ev.available,
    held: ev.held,
    sold: ev.sold,
    state: ev.state,
    v: ev.v,
  };
}

const FORWARDED = new Set<string>(Object.values(WireErrorCode));

/** A typed error as a wire code (codes the protocol does not know become INTERNAL). */
export function wireError(err: unknown): {
  code: (typeof WireErrorCode)[keyof typeof WireErrorCode];
  message: string;
} {
  const e = redisUnavailable(err) ?? err;
  if (isLivedropError(e)) {
    if (e.code === "INVALID_INPUT") return { code: WireErrorCode.INVALID_FRAME, message: e.message };
    if (FORWARDED.has(e.code))
      return { code: e.code as (typeof WireErrorCode)[keyof typeof WireErrorCode], message: e.message };
  }
  return { code: WireErrorCode.INTERNAL, message: "internal error" };
}
