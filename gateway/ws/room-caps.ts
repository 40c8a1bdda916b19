/** What a connection needs for the caps: its user and the rooms it is in. */
export interface Member {
  readonly claims: { readonly userId: string };
  readonly rooms: Set<string>;
  /** Per room: the ticket of the membership a pending join serves (a leave or rejoin voids it). */
  readonly tickets: Map<string, number>;
}

/**
 * Room memberships within the caps: rooms per connection and per user on this node (all the
 * user's sockets together). Each membership gets a ticket, so a join still pending when its
 * socket leaves, or leaves and joins again, does not serve the newer membership.
 */
export class RoomCaps {
  private readonly perUser = new Map<string, number>();
  private nextTicket = 0;

  constructor(
    private readonly maxPerSocket: number,
    private readonly maxPerUser: number,
  ) {}

  /** The membership's ticket, or why it is refused (TOO_MANY_ROOMS). */
  add(m: Member, room: string): { ticket: number } | { refused: string } {
    const held = this.perUser.get(m.claims.userId) ?? 0;
    if (m.rooms.size >= this.maxPerSocket)
      return { refused: `at most ${this.maxPerSocket} rooms per connection: leave one first` };
    if (held >= this.maxPerUser)
      return { refused: `at most ${this.maxPerUser} rooms per user: leave one first` };
    m.rooms.add(room);
    this.perUser.set(m.claims.userId, held + 1);
    const ticket = ++this.nextTicket;
    m.tickets.set(room, ticket);
    return { ticket };
  }

  /** Ends a membership; false when there was none. */
  remove(m: Member, room: string): boolean {
    if (!m.rooms.delete(room)) return false;
    m.tickets.delete(room);
    const left = (this.perUser.get(m.claims.userId) ?? 1) - 1;
    if (left > 0) this.perUser.set(m.claims.userId, left);
    else this.perUser.delete(m.claims.userId);
    return true;
  }
}
