/**
 * Every Redis key and channel the sale engine uses is built here. All keys of one drop share
 * the hash tag `{dropId}`, so each Lua script touches a single Redis Cluster slot.
 */
export interface DropKeys {
  /** Hash: parameters, mode, counters (available, held, sold, initial, restocked), seq, ver. */
  readonly meta: string;
  /** Sorted set: reservation id -> payment deadline (ms). */
  readonly holds: string;
  /** Hash: reservation id -> `user|qty|deadline|status|idempotencyKey`. */
  readonly reservations: string;
  /** Hash: `user|idempotencyKey` -> recorded answer. */
  readonly idempotency: string;
  /** Hash: user id -> units held + sold. */
  readonly users: string;
  /** Stream: reservation lifecycle events for the order relay. */
  readonly outbox: string;
  /** Shard channel (SPUBLISH): every change of the drop, as JSON. */
  readonly events: string;
}

export interface KeySpace {
  readonly prefix: string;
  drop(dropId: string): DropKeys;
  /** Sorted set of every drop id (score: creation time), for sweeps and listings. */
  readonly dropRegistry: string;
}

export function keySpace(prefix: string): KeySpace {
  return {
    prefix,
    dropRegistry: `${prefix}:drops`,
    drop(dropId) {
      const base = `${prefix}:drop:{${dropId}}`;
      return {
        meta: `${base}:meta`,
        holds: `${base}:holds`,
        reservations: `${base}:res`,
        idempotency: `${base}:idem`,
        users: `${base}:users`,
        outbox: `${base}:outbox`,
        events: `${base}:events`,
      };
    },
  };
}

/** Reservation ids are `<dropId>.<sequence>`: the drop (and so the slot) is readable from the id. */
export function dropIdOfReservation(reservationId: string): string {
  return reservationId.slice(0, reservationId.lastIndexOf("."));
}
