import { MediaErrorCode, RejectedError } from "../core/index.ts";

export interface TransportLimitOptions {
  /** Transports one user id may hold on this node, all rooms together. */
  readonly perUser: number;
  /** Viewers' receive transports one room may hold. */
  readonly perRoom: number;
}

/**
 * Transport slots of one media node, per user and per room. A slot is taken before mediasoup is
 * asked for the transport (so concurrent requests cannot overshoot) and given back when the
 * transport closes or its creation fails. Hosts' transports count per user only, so a room full
 * of viewers never keeps its host from going live.
 */
export class TransportLimits {
  private readonly users = new Map<string, number>();
  private readonly rooms = new Map<string, number>();

  constructor(private readonly o: TransportLimitOptions) {}

  /** Takes a slot or throws MEDIA_TRANSPORT_LIMIT; the returned release is safe to call twice. */
  take(owner: string, room: string, viewer: boolean): () => void {
    const held = this.users.get(owner) ?? 0;
    if (held >= this.o.perUser) {
      throw new RejectedError(
        MediaErrorCode.MEDIA_TRANSPORT_LIMIT,
        `you hold ${held} transports on this media node, the most allowed: close one first`,
      );
    }
    const viewers = this.rooms.get(room) ?? 0;
    if (viewer && viewers >= this.o.perRoom) {
      throw new RejectedError(
        MediaErrorCode.MEDIA_TRANSPORT_LIMIT,
        `room ${room} has ${viewers} WebRTC viewers on this media node, the most allowed: watch over HLS`,
      );
    }
    this.users.set(owner, held + 1);
    if (viewer) this.rooms.set(room, viewers + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      decrement(this.users, owner);
      if (viewer) decrement(this.rooms, room);
    };
  }

  /** Slots held by a user (tests, ops). */
  heldBy(owner: string): number {
    return this.users.get(owner) ?? 0;
  }
}

function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 1) - 1;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}
