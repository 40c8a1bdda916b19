/**
 * Every Redis key and channel the sale engine uses is built here. All keys of one drop share
 * the hash tag `{dropId}`, so each Lua script touches a single Redis Cluster slot.
 */
export interface DropKeys {
  /**
   * Hash: the drop's parameters and counters, plus per-reservation (`r:<rid>`), per-attempt
   * (`i:<user>|<key>`) and per-user (`u:<user>`) fields; layout in lua/_prelude.lua.
   */
  readonly state: string;
  /** Sorted set: reservation id -> payment deadline (ms). */
  readonly holds: string;
  /** Stream: reservation lifecycle events for the order relay. */
  readonly outbox: string;
  /** Shard channel (SPUBLISH): every change of the drop, as JSON. */
  readonly events: string;
  /**
   * Stream: the same messages as the channel, kept (about `eventLogLength` entries, MAXLEN ~) so
   * a reader that was not subscribed can catch up from a stream id.
   */
  readonly log: string;
  /**
   * Hash of a fair window's entries: entry id -> `user|qty|idemKey`, then after the allocation
   * `user|qty|idemKey|W|rid|granted|position` or `user|qty|idemKey|L||0|position` (lua/allocate.lua).
   */
  readonly entries: string;
  /** Hash: an auction's parameters, leader, price and recorded bids (lua/auction-open.lua). */
  readonly auction: string;
  /** Hash: an auction's bidders, user -> `max|seq|mask` (their standing maximum). */
  readonly bidders: string;
  /** Stream: an auction's accepted bids, oldest first (about the history length, MAXLEN ~). */
  readonly bids: string;
}

export interface KeySpace {
  readonly prefix: string;
  drop(dropId: string): DropKeys;
  /** Sorted set of every drop id (score: start time), for listings. */
  readonly dropRegistry: string;
  /**
   * Sorted set of the drops the background loops visit (score: when added, ms): every drop but
   * those that ended with nothing pending. Written by the engine (plain commands and the
   * `index-*` scripts), never by a drop's scripts: on Redis Cluster a script may only touch one
   * slot, and the index has its own hash tag `{drops}`, shared with `retiredDrops`.
   */
  readonly activeDrops: string;
  /** Set of the drops that left `activeDrops` for good (ended, nothing pending). */
  readonly retiredDrops: string;
  /**
   * Sorted set of the fair-window drops not allocated yet (score: when added, ms), visited by the
   * fair pass of the sweeper. Written by the engine around the scripts, like `activeDrops`.
   */
  readonly fairPending: string;
  /** Set of the drop ids of a room (the gateway follows a room's drops). */
  roomDrops(roomId: string): string;
  /**
   * Sorted set of the auctions not settled yet (score: their end, ms, as last seen), visited by
   * the auction pass. Written by Auctions around the scripts, like `activeDrops`.
   */
  readonly auctionsPending: string;
  /** Hash of one coupon of a room (lua/coupon-pin.lua); a room's coupons share hash tag `{coupons:<room>}`. */
  coupon(roomId: string, code: string): string;
  /** Set of the codes pinned in a room now (lua/coupon-pin.lua, coupon-unpin.lua), in its coupon hash tag. */
  couponCodes(roomId: string): string;
}

export function keySpace(prefix: string): KeySpace {
  // Built once per drop: reserve is the hot path and runs for the same few drops.
  const cache = new Map<string, DropKeys>();
  return {
    prefix,
    dropRegistry: `${prefix}:drops`,
    activeDrops: `${prefix}:{drops}:active`,
    retiredDrops: `${prefix}:{drops}:retired`,
    fairPending: `${prefix}:{drops}:fair`,
    auctionsPending: `${prefix}:{drops}:auctions`,
    roomDrops: (roomId) => `${prefix}:room:{${roomId}}:drops`,
    coupon: (roomId, code) => `${prefix}:{coupons:${roomId}}:c:${code}`,
    couponCodes: (roomId) => `${prefix}:{coupons:${roomId}}:codes`,
    drop(dropId) {
      let keys = cache.get(dropId);
      if (!keys) {
        const base = `${prefix}:drop:{${dropId}}`;
        keys = {
          state: base,
          holds: `${base}:holds`,
          outbox: `${base}:outbox`,
          events: `${base}:events`,
          log: `${base}:log`,
          entries: `${base}:entries`,
          auction: `${base}:auction`,
          bidders: `${base}:bidders`,
          bids: `${base}:bids`,
        };
        if (cache.size >= 10_000) cache.clear();
        cache.set(dropId, keys);
      }
      return keys;
    },
  };
}

/** Field names inside the drop state hash, for direct reads. */
export const stateField = {
  reservation: (reservationId: string) => `r:${reservationId}`,
  units: (userId: string) => `u:${userId}`,
} as const;

/** Reservation ids are `<dropId>.<sequence>`: the drop (and so the slot) is readable from the id. */
export function dropIdOfReservation(reservationId: string): string {
  return reservationId.slice(0, reservationId.lastIndexOf("."));
}
