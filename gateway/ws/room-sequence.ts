import { compareIds } from "../rooms/room-log.ts";

/** What to do with a room message, given what this node delivered before it. */
export type SequenceVerdict =
  /** The next one (or the first seen, or a new epoch): deliver it. */
  | { readonly kind: "next" }
  /** At or before what the room's sockets were last served (a snapshot read after it was logged): deliver, as before. */
  | { readonly kind: "old" }
  /** Entries were logged between the last one delivered and this one: read them from `after`. */
  | { readonly kind: "gap"; readonly epoch: string; readonly after: string };

/**
 * Per room, the offset this node delivered last. Each room message names the offset logged just
 * before it (`p`), so a message lost on the way (a subscriber that reconnected) shows as a break
 * in the chain, and the delivery reads the missing entries from the log instead of skipping them.
 */
export class RoomSequence {
  private readonly last = new Map<string, { epoch: string; offset: string }>();

  judge(room: string, m: { e: string; o: string; p?: string | undefined }): SequenceVerdict {
    const known = this.last.get(room);
    if (!known || known.epoch !== m.e || m.p === undefined) return { kind: "next" };
    if (compareIds(m.o, known.offset) <= 0) return { kind: "old" };
    if (m.p === known.offset) return { kind: "next" };
    return { kind: "gap", epoch: known.epoch, after: known.offset };
  }

  /** `offset` of `epoch` was delivered (or served in a snapshot) to the room's sockets. */
  note(room: string, epoch: string, offset: string): void {
    const known = this.last.get(room);
    if (known && known.epoch === epoch && compareIds(offset, known.offset) <= 0) return;
    this.last.set(room, { epoch, offset });
  }

  /** Notes `offset` unless the room has a position already (a join's snapshot, the first one). */
  start(room: string, epoch: string, offset: string): void {
    if (!this.last.has(room)) this.last.set(room, { epoch, offset });
  }

  /** The offset delivered last in the room, if any. */
  position(room: string): { readonly epoch: string; readonly offset: string } | undefined {
    return this.last.get(room);
  }

  /** The room has no local socket any more. */
  forget(room: string): void {
    this.last.delete(room);
  }
}
