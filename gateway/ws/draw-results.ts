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
export class DrawResults {
  /** Per drop, its winners' hold deadlines between their placed events and the draw's event. */
  private readonly deadlines = new Map<string, Map<string, number>>();

  constructor(private readonly d: DrawResultsDeps) {}

  /** A hold was placed in the room: remembered (a draw's winner) or offered (hand-off, waitlist). */
  placed(ev: Placed): void {
    if (ev.via === "draw") {
      const drop = this.deadlines.get(ev.drop) ?? new Map<string, number>();
      drop.set(ev.reservation, ev.deadline);
      this.deadlines.set(ev.drop, drop);
    } else if (ev.via === "handoff" || ev.via === "waitlist")
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
    const deadlines = this.deadlines.get(ev.drop) ?? new Map<string, number>();
    this.deadlines.delete(ev.drop);
    this.send(room, ev, deadlines).catch((err: unknown) =>
      this.d.log.warn({ err: (err as Error).message, room, dropId: ev.drop }, "draw results not sent"),
    );
  }

  private async send(room: string, ev: Allocated, deadlines: Map<string, number>): Promise<void> {
    const byMask = new Map<string, string>();
    for (const userId of this.d.localUsers(room)) byMask.set(maskUser(ev.seed, userId), userId);
    const mine = ev.entries.flatMap((e) => {
      const userId = byMask.get(e.user);
      return userId === undefined ? [] : [{ ...e, userId }];
    });
    // The winners' hold ids are in the entries hash: one concurrent read per local winner.
    const holds = await Promise.all(
      mine.map(async (e) => (e.granted > 0 ? this.holdOf(ev.drop, e.entry, deadlines) : undefined)),
    );
    for (const [i, e] of mine.entries()) {
      const hold = holds[i];
      this.d.toUser(e.userId, {
        t: "entry",
        dropId: ev.drop,
        entryId: e.entry,
        status: e.granted > 0 ? "won" : "lost",
        qty: e.qty,
        granted: e.granted,
        ...(hold ? { reservationId: hold.reservationId, deadline: hold.deadline } : {}),
      });
    }
  }

  private async holdOf(
    dropId: string,
    entryId: string,
    deadlines: Map<string, number>,
  ): Promise<{ reservationId: string; deadline: number } | undefined> {
    const entry = await this.d.engine.fairEntry(dropId, entryId);
    const reservationId = entry?.reservationId;
    if (!reservationId) return undefined;
    // Its placed event came first in the room log; a node that joined late reads the hold.
    const deadline =
      deadlines.get(reservationId) ?? (await this.d.engine.reservation(reservationId)).deadline;
    return { reservationId, deadline };
  }
}
