import type { Logger } from "../../core/index.ts";
import type { RoomLogEntry, ServerFrameOf } from "../../protocol/index.ts";
import { maskUser, type SaleEngine } from "../../sale-engine/index.ts";

type Allocated = Extract<RoomLogEntry, { type: "fair.allocated" }>;
type Placed = Extract<RoomLogEntry, { type: "reservation.placed" }>;

export interface DrawResultsDeps {
  readonly engine: SaleEngine;
  /** The users of this node's sockets in the room (each once). */
  readonly localUsers: (room: string) => Iterable<string>;
  /** A frame to every local socket of one user. */
  readonly toUser: (userId: string, frame: ServerFrameOf<"entry"> | ServerFrameOf<"offer">) => void;
  readonly log: Logger;
}

/**
 * The per-user side of a drop's draw on this node: each local entrant's `entry` frame (won, with
 * the hold, or lost) when the allocation arrives, and `offer` frames for holds the server hands to
 * a user later (a raffle's next in drawn order, the waitlist's next). The allocation event lists
 * users masked with the revealed seed, so this node masks its own room users once per draw to find
 * its entrants; the winners' holds are the `reservation.placed` events (`via: "draw"`) logged just
 * before it.
 */
/** A draw winner's hold as its placed event tells it. */
interface Hold {
  readonly reservationId: string;
  readonly deadline: number;
}

export class DrawResults {
  /**
   * Per room and drop, per user, the holds its draw placed, in draw order (the allocation script
   * places them walking that order), kept from their placed events until the draw's own event.
   */
  private readonly winners = new Map<string, Map<string, Hold[]>>();

  constructor(private readonly d: DrawResultsDeps) {}

  /** A hold was placed in the room: remembered (a draw's winner) or offered (hand-off, waitlist). */
  placed(ev: Placed): void {
    if (ev.via === "draw") {
      const key = keyOf(ev.room, ev.drop);
      const drop = this.winners.get(key) ?? new Map<string, Hold[]>();
      const holds = drop.get(ev.user) ?? [];
      holds.push({ reservationId: ev.reservation, deadline: ev.deadline });
      drop.set(ev.user, holds);
      this.winners.set(key, drop);
    } else if ((ev.via === "handoff" && ev.priceMinor === undefined) || ev.via === "waitlist")
      // A hand-off at its own price (an auction's runner-up) is heard as `auctionHold`, with that price.
      this.d.toUser(ev.user, {
        t: "offer",
        dropId: ev.drop,
        reservationId: ev.reservation,
        qty: ev.qty,
        deadline: ev.deadline,
        via: ev.via,
      });
  }

  /** A draw ran: every local entrant hears their result. Errors are logged (GET …/me still answers). */
  allocated(room: string, ev: Allocated): void {
    const key = keyOf(ev.room, ev.drop);
    const winners = this.winners.get(key) ?? new Map<string, Hold[]>();
    this.winners.delete(key);
    this.send(room, ev, winners).catch((err: unknown) =>
      this.d.log.warn({ err: (err as Error).message, room, dropId: ev.drop }, "draw results not sent"),
    );
  }

  /** The node's last viewer of the room left: what it kept for the room's draws goes (a read serves later ones). */
  forget(room: string): void {
    for (const key of this.winners.keys()) if (key.startsWith(keyOf(room, ""))) this.winners.delete(key);
  }

  private async send(room: string, ev: Allocated, winners: Map<string, Hold[]>): Promise<void> {
    // One HMAC per local user of the room, once per draw: about 2 µs each (50,000 users: ~100 ms).
    const byMask = new Map<string, string>();
    for (const userId of this.d.localUsers(room)) byMask.set(maskUser(ev.seed, userId), userId);
    const unknown: { entry: Allocated["entries"][number]; userId: string }[] = [];
    for (const entry of ev.entries) {
      const userId = byMask.get(entry.user);
      if (userId === undefined) continue;
      if (entry.granted === 0) this.result(ev.drop, userId, entry, undefined);
      else {
        // The user's k-th winning entry in draw order holds their k-th placed hold.
        const hold = winners.get(userId)?.shift();
        if (hold) this.result(ev.drop, userId, entry, hold);
        else unknown.push({ entry, userId });
      }
    }
    // Placed events this node did not see (it started delivering the room after them): read.
    const holds = await Promise.all(unknown.map(({ entry }) => this.holdOf(ev.drop, entry.entry)));
    for (const [i, { entry, userId }] of unknown.entries()) this.result(ev.drop, userId, entry, holds[i]);
  }

  private result(
    dropId: string,
    userId: string,
    e: Allocated["entries"][number],
    hold: Hold | undefined,
  ): void {
    this.d.toUser(userId, {
      t: "entry",
      dropId,
      entryId: e.entry,
      status: e.granted > 0 ? "won" : "lost",
      qty: e.qty,
      granted: e.granted,
      ...(hold ? { reservationId: hold.reservationId, deadline: hold.deadline } : {}),
    });
  }

  private async holdOf(dropId: string, entryId: string): Promise<Hold | undefined> {
    const reservationId = (await this.d.engine.fairEntry(dropId, entryId))?.reservationId;
    if (!reservationId) return undefined;
    return { reservationId, deadline: (await this.d.engine.reservation(reservationId)).deadline };
  }
}

function keyOf(room: string, dropId: string): string {
  return `${room}\u0000${dropId}`;
}
