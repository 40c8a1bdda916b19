import type {
  AuctionStatus,
  BidAnswer,
  ChatMessage,
  DropSnapshot,
  ServerFrame,
  ServerFrameOf,
} from "../../../protocol/index.ts";

/**
 * What a page knows about its room, built from server frames only (no DOM, so it is testable in
 * Node): drops by id, chat (bounded, deduplicated, tombstones applied), viewers. `apply` returns
 * a new object when something changed, the same one otherwise, so Preact re-renders only then.
 */
export interface RoomState {
  readonly room: string;
  readonly drops: ReadonlyMap<string, DropView>;
  readonly chat: readonly ChatMessage[];
  readonly viewers: number;
  /** Server time of the (last) join. */
  readonly joinedAt: number;
}

export interface DropView extends DropSnapshot {
  /** Server time this client learned of the drop's latest announcement (0: known at join). */
  readonly announcedAt: number;
  /** The draw's outcome, from the room's "draw" frame (a snapshot after it has the seed only). */
  readonly drawn?: DrawOutcome;
}

export interface DrawOutcome {
  readonly winners: number;
  readonly losers: number;
  readonly units: number;
  readonly stock: number;
}

/** Chat kept in memory; the list renders only the visible rows of it. */
export const MAX_CHAT = 1_000;

export function emptyRoom(room: string): RoomState {
  return { room, drops: new Map(), chat: [], viewers: 0, joinedAt: 0 };
}

export function applyFrame(s: RoomState, f: ServerFrame, serverNow: number): RoomState {
  switch (f.t) {
    case "joined":
      if (f.room !== s.room) return s;
      return {
        ...s,
        drops: snapshotDrops(s, f.drops),
        chat: mergeChat([], f.chat),
        viewers: f.viewers,
        joinedAt: serverNow,
      };
    case "resync":
      if (f.room !== s.room) return s;
      return { ...s, drops: snapshotDrops(s, f.drops) };
    case "drop": {
      if (f.room !== s.room) return s;
      const prev = s.drops.get(f.drop.dropId);
      if (prev && prev.v > f.drop.v) return s;
      // A new drop, or one that (re)opened, is an announcement an HLS viewer sees when their
      // video reaches it; other changes (pause, end, restock) apply at once.
      const announced =
        !prev || (f.drop.state !== prev.state && (f.drop.state === "live" || f.drop.state === "scheduled"));
      const drops = new Map(s.drops);
      // Drop frames carry no waitlist counters (they move without events): the last snapshot's stay.
      const waitlist = f.drop.waitlist ?? prev?.waitlist;
      // A revealed seed stays revealed: a snapshot read before the draw must not hide it again.
      const fair =
        f.drop.fair && f.drop.fair.seed === null && prev?.fair?.seed
          ? { ...f.drop.fair, seed: prev.fair.seed, allocatedAt: prev.fair.allocatedAt }
          : f.drop.fair;
      drops.set(f.drop.dropId, {
        ...f.drop,
        ...(fair ? { fair } : {}),
        announcedAt: announced ? serverNow : (prev?.announcedAt ?? 0),
        ...(prev?.drawn ? { drawn: prev.drawn } : {}),
        ...(waitlist ? { waitlist } : {}),
      });
      return { ...s, drops };
    }
    case "stock": {
      if (f.room !== s.room) return s;
      const prev = s.drops.get(f.dropId);
      if (!prev || prev.v > f.v) return s;
      const drops = new Map(s.drops);
      drops.set(f.dropId, {
        ...prev,
        available: f.available,
        held: f.held,
        sold: f.sold,
        state: f.state,
        v: f.v,
      });
      return { ...s, drops };
    }
    case "draw": {
      if (f.room !== s.room) return s;
      const prev = s.drops.get(f.dropId);
      if (!prev || prev.drawn) return s;
      const drops = new Map(s.drops);
      const fair = prev.fair
        ? { ...prev.fair, seed: f.seed, allocatedAt: prev.fair.allocatedAt ?? serverNow }
        : undefined;
      drops.set(f.dropId, {
        ...prev,
        ...(fair ? { fair } : {}),
        drawn: { winners: f.winners, losers: f.losers, units: f.units, stock: f.stock },
        v: Math.max(prev.v, f.v),
      });
      return { ...s, drops };
    }
    case "chat":
      if (f.room !== s.room) return s;
      return { ...s, chat: mergeChat(s.chat, f.messages) };
    case "moderation":
      if (f.room !== s.room || f.action.kind !== "delete") return s;
      {
        const id = f.action.messageId;
        if (!s.chat.some((m) => m.id === id)) return s;
        return {
          ...s,
          chat: s.chat.map((m) => (m.id === id ? { ...m, text: "", deleted: true as const } : m)),
        };
      }
    case "viewers":
      return f.room === s.room && f.count !== s.viewers ? { ...s, viewers: f.count } : s;
    default:
      return s;
  }
}

/** Drops of a snapshot; a draw's outcome seen before stays (snapshots carry only the seed). */
function snapshotDrops(s: RoomState, drops: readonly DropSnapshot[]): Map<string, DropView> {
  return new Map(
    drops.map((d) => {
      const drawn = s.drops.get(d.dropId)?.drawn;
      return [d.dropId, { ...d, announcedAt: 0, ...(drawn ? { drawn } : {}) }];
    }),
  );
}

/** Appends messages not seen yet (the sender's echo and the room batch carry the same id). */
export function mergeChat(
  existing: readonly ChatMessage[],
  incoming: readonly ChatMessage[],
): readonly ChatMessage[] {
  if (incoming.length === 0) return existing;
  const seen = new Set(existing.slice(-MAX_CHAT).map((m) => m.id));
  const fresh = incoming.filter((m) => {
    if (seen.has(m.id)) return false;
    seen.add(m.id);
    return true;
  });
  if (fresh.length === 0) return existing;
  const all = existing.concat(fresh);
  return all.length > MAX_CHAT ? all.slice(all.length - MAX_CHAT) : all;
}

/** A drop whose entries are still open: buys are entries of its draw (fair window or raffle). */
export function drawOpen(d: DropSnapshot, serverNow: number): boolean {
  return d.fair !== undefined && d.fair.allocatedAt === null && serverNow < d.fair.closesAt;
}

/** A drop whose draw is done (the seed is revealed). */
export function drawDone(d: DropSnapshot): boolean {
  return d.fair !== undefined && d.fair.seed !== null;
}

/**
 * The state a buyer sees: the server's state, except that a scheduled drop is live from T0 on
 * (the engine judges the window by its clock and sends no event at T0).
 */
export function effectiveState(d: DropSnapshot, serverNow: number): DropSnapshot["state"] {
  if (d.state === "scheduled" && serverNow >= d.startsAt) return d.available > 0 ? "live" : "sold_out";
  if (d.state === "live" && d.endsAt !== null && serverNow >= d.endsAt) return "ended";
  return d.state;
}

const PRIORITY: Record<DropSnapshot["state"], number> = {
  live: 0,
  scheduled: 1,
  paused: 2,
  sold_out: 3,
  ended: 4,
};

/** The drop to pin: live first, then the next scheduled, paused, sold out, ended; newest first within. */
export function pinnedDrop<D extends DropSnapshot>(drops: Iterable<D>, serverNow: number): D | undefined {
  let best: D | undefined;
  let bestKey: [number, number] = [9, 0];
  for (const d of drops) {
    const p = PRIORITY[effectiveState(d, serverNow)];
    const order = p === 1 ? d.startsAt : -d.startsAt;
    if (p < bestKey[0] || (p === bestKey[0] && order < bestKey[1])) {
      best = d;
      bestKey = [p, order];
    }
  }
  return best;
}

/** Hearts travel as chat messages of just a heart; the list shows them as floating hearts. */
export function isHeart(text: string): boolean {
  return /^(❤️|❤|💖|💗)$/u.test(text.trim());
}

/** Drops that sell on the pinned drop card: timed drops and giveaways (auctions and buy-it-now have their own cards). */
export function onDropCard(d: DropSnapshot): boolean {
  return d.format !== "auction" && d.format !== "buy_now";
}

/** Buy-it-now drops the host has pinned: each sells on its own card until unpinned. */
export function pinnedBuyNow<D extends DropSnapshot>(drops: Iterable<D>): D[] {
  return [...drops].filter((d) => d.format === "buy_now" && d.pinned === true && d.state !== "ended");
}

/** The room's newest auction (hosts run one at a time; an ended one stays until the next). */
export function currentAuction<D extends DropSnapshot>(drops: Iterable<D>): D | undefined {
  let best: D | undefined;
  for (const d of drops) if (d.format === "auction" && (!best || d.startsAt > best.startsAt)) best = d;
  return best;
}

/** What a viewer's auction card shows: the standing, and what this viewer knows of their own bids. */
export interface AuctionView {
  readonly dropId: string;
  /** live until the end; ending from the end until settled; ended once settled. */
  readonly phase: "scheduled" | "live" | "ending" | "ended";
  readonly priceMinor: number;
  readonly leader: string | null;
  /** The bid count `leader` was told at (a bid's ack moves `bids` before the room frame tells its leader). */
  readonly leaderAt: number;
  readonly bids: number;
  readonly endsAt: number;
  readonly startsAt: number;
  readonly extended: boolean;
  /** The lowest bid another bidder can place, as last told (a newer price raises the estimate). */
  readonly minNextMinor: number;
  /** The step at the price last told (minNext - price), to estimate minNext after others bid. */
  readonly stepMinor: number | null;
  readonly hasReserve: boolean;
  /** Set once ended: false when the reserve was not met or nobody bid. */
  readonly reserveMet: boolean | null;
  /** This viewer's masked id, learnt from the standing right after one of their leading bids. */
  readonly myMask: string | null;
  /** This viewer's last accepted bid. */
  readonly mine: { readonly bids: number; readonly leading: boolean; readonly maxMinor: number } | null;
}

/** The view from the auction's status (GET /api/v1/drops/:id/auction); what the viewer knew of themselves stays. */
export function auctionFromStatus(a: AuctionStatus, prev?: AuctionView): AuctionView {
  const phase =
    a.state === "settled"
      ? "ended"
      : a.state === "closed"
        ? "ending"
        : a.state === "scheduled"
          ? "scheduled"
          : "live";
  const mine = prev?.dropId === a.dropId ? prev.mine : null;
  const myMask = prev?.dropId === a.dropId ? prev.myMask : null;
  const view: AuctionView = {
    dropId: a.dropId,
    phase,
    priceMinor: a.priceMinor,
    leader: a.leader,
    leaderAt: a.bids,
    bids: a.bids,
    endsAt: a.endsAt,
    startsAt: a.startsAt,
    extended: prev?.dropId === a.dropId ? prev.extended : false,
    minNextMinor: a.minNextMinor,
    stepMinor: a.bids > 0 ? Math.max(0, a.minNextMinor - a.priceMinor) : null,
    hasReserve: a.hasReserve,
    reserveMet: a.reserveMet,
    myMask,
    mine,
  };
  // A status older than what frames showed does not take the card back.
  if (
    prev &&
    prev.dropId === a.dropId &&
    (prev.bids > a.bids || (prev.phase === "ended" && phase !== "ended"))
  )
    return prev;
  return learnMask(view);
}

/** A room frame about this auction: the standing after a bid, or its end. */
export function applyAuctionFrame(
  v: AuctionView,
  f: ServerFrameOf<"auction"> | ServerFrameOf<"auctionEnded">,
): AuctionView {
  if (f.dropId !== v.dropId) return v;
  if (f.t === "auctionEnded")
    return {
      ...v,
      phase: "ended",
      reserveMet: f.reserveMet,
      leader: f.winner ?? (f.reserveMet ? v.leader : null),
      priceMinor: f.priceMinor ?? v.priceMinor,
    };
  if (f.bids < v.bids || v.phase === "ended") return v;
  return learnMask({
    ...v,
    phase: "live",
    priceMinor: f.priceMinor,
    leader: f.leader,
    leaderAt: f.bids,
    bids: f.bids,
    endsAt: Math.max(v.endsAt, f.endsAt),
    extended: v.extended || f.extended,
    minNextMinor: v.stepMinor === null ? Math.max(v.minNextMinor, f.priceMinor) : f.priceMinor + v.stepMinor,
  });
}

/** This viewer's accepted bid (the ack carries the engine's answer). */
export function applyBidAnswer(v: AuctionView, a: BidAnswer): AuctionView {
  if (a.dropId !== v.dropId) return v;
  const newer = a.bids >= v.bids;
  return learnMask({
    ...v,
    mine: { bids: a.bids, leading: a.leading, maxMinor: a.maxMinor },
    ...(newer
      ? {
          priceMinor: a.priceMinor,
          bids: a.bids,
          endsAt: Math.max(v.endsAt, a.endsAt),
          extended: v.extended || a.extended,
          minNextMinor: a.minNextMinor,
          stepMinor: Math.max(0, a.minNextMinor - a.priceMinor),
        }
      : {}),
  });
}

/** After a leading bid, the leader shown at that bid count is this viewer. */
function learnMask(v: AuctionView): AuctionView {
  if (v.mine?.leading && v.mine.bids === v.leaderAt && v.leader && v.leader !== v.myMask)
    return { ...v, myMask: v.leader };
  return v;
}

/** Whether this viewer leads: their mask leads, or their leading bid is the newest one known. */
export function youLead(v: AuctionView): boolean {
  if (v.myMask !== null && v.leader === v.myMask) return true;
  return v.mine?.leading === true && v.mine.bids >= v.bids;
}

/** The auction's phase at a server time: live turns ending at the end (settle follows within a pass). */
export function auctionPhase(v: AuctionView, serverNow: number): AuctionView["phase"] {
  if (v.phase === "scheduled" && serverNow >= v.startsAt) return serverNow >= v.endsAt ? "ending" : "live";
  if (v.phase === "live" && serverNow >= v.endsAt) return "ending";
  return v.phase;
}

/** Whether an auction or a pinned buy-it-now drop has a card of its own. */
export function hasFormatCard(drops: Iterable<DropSnapshot>): boolean {
  return currentAuction(drops) !== undefined || pinnedBuyNow(drops).length > 0;
}
