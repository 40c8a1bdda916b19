/**
 * Every Redis key and channel of the gateway (the sale engine's, the order side's and the shadow
 * switch's are built in their own modules).
 */

/** String: buy clicks of a drop over every node (the ops funnel); the drop's hash tag. */
export function buyClicksKey(prefix: string, dropId: string): string {
  return `${prefix}:insights:{${dropId}}:clicks`;
}

/** String: buys of a drop that were entries of its draw (fair window, raffle), over every node. */
export function buyEntriesKey(prefix: string, dropId: string): string {
  return `${prefix}:insights:{${dropId}}:entries`;
}

/**
 * A room's keys and channel. A room's keys share the hash tag `{room}`, so
 * room-append.lua touches one Redis Cluster slot and the room's channel is a shard channel there.
 */
export function roomKeys(prefix: string, room: string) {
  const base = `${prefix}:room:{${room}}`;
  return {
    /** Stream: the room log; entry ids are the room offsets. */
    log: `${base}:log`,
    /** Hash: `epoch`, `last` (newest offset) and `v:<dropId>` (newest drop version logged). */
    meta: `${base}:meta`,
    /** Shard channel: every logged room message, published by room-append.lua. */
    channel: `${base}:events`,
    /** Hash: the room's chat moderation (`ban:<user>`, `mute:<user>`, `slow`). */
    moderation: `${base}:meta:mod`,
    /** String (PX): a user's slow-mode turn in the room. */
    slowTurn: (userId: string) => `${base}:meta:mod:slow:${userId}`,
  };
}

/** String (PX): the lane's room-appender lease; its value is the holder's node id. */
/** The lease of the gateway node that runs the reports pass's timed rounds. */
export function reportsLeaseKey(prefix: string): string {
  return `${prefix}:reports:lease`;
}

export function appenderLeaseKey(prefix: string): string {
  return `${prefix}:rooms:appender-lease`;
}

/** Sorted set of the gateway nodes reporting viewers (score: time of the last report, ms). */
export function viewerNodesKey(prefix: string): string {
  return `${prefix}:viewers:nodes`;
}

/** One node's viewer report: hash of room -> its local viewers there. */
export function viewerNodeKey(prefix: string, nodeId: string): string {
  return `${prefix}:viewers:node:{${nodeId}}`;
}

/** Set: the users with a socket in `room` on one gateway node (room presence, e.g. giveaway draws). */
export function presenceNodeKey(prefix: string, nodeId: string, room: string): string {
  return `${prefix}:presence:node:{${nodeId}}:${room}`;
}
