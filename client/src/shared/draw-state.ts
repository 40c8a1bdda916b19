import type { AckResult, DropMeResponse, ServerFrame } from "../../../protocol/index.ts";

/**
 * What this buyer has in the room's draws and waitlists, built from acks ("entered",
 * "waitlist"), the per-user frames ("entry", "offer") and GET /api/v1/drops/:dropId/me after a
 * (re)connect. Pure, like room-state.ts: every function returns the same object when nothing
 * changed.
 */
export interface MyEntry {
  readonly dropId: string;
  readonly entryId: string;
  readonly qty: number;
  readonly status: "entered" | "won" | "lost";
  readonly granted: number;
  readonly reservationId?: string;
  readonly deadline?: number;
}

export interface MyTicket {
  readonly dropId: string;
  readonly ticket: number;
  /** The position the server gave last (the drop's `waitlist.served` refines it). */
  readonly position: number;
  readonly status: "waiting" | "offered" | "skipped";
}

export interface DrawState {
  /** By entry id. */
  readonly entries: ReadonlyMap<string, MyEntry>;
  /** By drop id: one ticket per drop. */
  readonly tickets: ReadonlyMap<string, MyTicket>;
}

/** One drop's entries as the card shows them. */
export interface EntrySummary {
  /** entered: a result is still to come; won: at least one entry won; lost: every entry lost. */
  readonly status: "entered" | "won" | "lost";
  readonly qty: number;
  readonly granted: number;
}

export function emptyDraws(): DrawState {
  return { entries: new Map(), tickets: new Map() };
}

function withEntry(s: DrawState, e: MyEntry): DrawState {
  const entries = new Map(s.entries);
  entries.set(e.entryId, e);
  return { ...s, entries };
}

function withTicket(s: DrawState, t: MyTicket): DrawState {
  const tickets = new Map(s.tickets);
  tickets.set(t.dropId, t);
  return { ...s, tickets };
}

/** The ack of an entry of a draw. A result already known stands. */
export function applyAck(s: DrawState, r: AckResult): DrawState {
  if (r.kind === "entered") {
    if (s.entries.has(r.entryId)) return s; // a replay, or the result came first
    return withEntry(s, {
      dropId: r.dropId,
      entryId: r.entryId,
      qty: r.qty,
      status: "entered",
      granted: 0,
    });
  }
  return s;
}

/** A waitlist ticket of ours (the "waitlist" ack); the same ticket again changes nothing. */
export function applyTicket(
  s: DrawState,
  r: { readonly dropId: string; readonly ticket: number; readonly position: number },
): DrawState {
  const prev = s.tickets.get(r.dropId);
  if (prev && prev.ticket === r.ticket) return s;
  return withTicket(s, { dropId: r.dropId, ticket: r.ticket, position: r.position, status: "waiting" });
}

/** This user's per-user frames: a draw result, or a hold handed over (raffle order, waitlist). */
export function applyDrawFrame(s: DrawState, f: ServerFrame): DrawState {
  if (f.t === "entry") {
    const prev = s.entries.get(f.entryId);
    if (prev && prev.status === f.status && prev.granted === f.granted) return s;
    return withEntry(s, {
      dropId: f.dropId,
      entryId: f.entryId,
      qty: f.qty,
      status: f.status,
      granted: f.granted,
      ...(f.reservationId ? { reservationId: f.reservationId } : {}),
      ...(f.deadline !== undefined ? { deadline: f.deadline } : {}),
    });
  }
  if (f.t === "offer" && f.via === "handoff") {
    // Next in the drawn order: the entry that lost now holds the unit a winner left.
    const lost = [...s.entries.values()].find((e) => e.dropId === f.dropId && e.status === "lost");
    if (!lost) return s;
    return withEntry(s, {
      ...lost,
      status: "won",
      granted: f.qty,
      reservationId: f.reservationId,
      deadline: f.deadline,
    });
  }
  if (f.t === "offer" && f.via === "waitlist") {
    const prev = s.tickets.get(f.dropId);
    if (!prev || prev.status === "offered") return s;
    return withTicket(s, { ...prev, status: "offered" });
  }
  return s;
}

/** The server's view after a reconnect: its entries and ticket replace what this tab had. */
export function applyMe(s: DrawState, me: DropMeResponse): DrawState {
  let next = s;
  for (const e of me.entries) {
    const prev = next.entries.get(e.entryId);
    if (prev && prev.status === e.status && prev.granted === e.granted) continue;
    // The entry record says lost, but a unit was handed to it later (an offer this tab saw).
    if (prev?.status === "won" && prev.reservationId && e.status === "lost") continue;
    next = withEntry(next, {
      dropId: me.dropId,
      entryId: e.entryId,
      qty: e.qty,
      status: e.status,
      granted: e.granted,
      ...(e.reservationId ? { reservationId: e.reservationId } : {}),
      ...(prev?.deadline !== undefined ? { deadline: prev.deadline } : {}),
    });
  }
  const w = me.waitlist;
  const prev = next.tickets.get(me.dropId);
  if (w && (prev?.ticket !== w.ticket || prev.status !== w.status || prev.position !== w.position))
    next = withTicket(next, { dropId: me.dropId, ticket: w.ticket, position: w.position, status: w.status });
  return next;
}

/**
 * The buyer's entries in one drop, summed up; undefined when they did not enter. `handedOver`:
 * units of holds handed to the buyer from the drawn order (kept across reloads with the holds),
 * which make a lost entry a win.
 */
export function entrySummary(s: DrawState, dropId: string, handedOver = 0): EntrySummary | undefined {
  let qty = 0;
  let granted = 0;
  let open = false;
  let any = false;
  for (const e of s.entries.values()) {
    if (e.dropId !== dropId) continue;
    any = true;
    qty += e.qty;
    granted += e.granted;
    if (e.status === "entered") open = true;
  }
  if (!any) return undefined;
  if (granted === 0 && handedOver > 0) granted = handedOver;
  return { status: granted > 0 ? "won" : open ? "entered" : "lost", qty, granted };
}

/**
 * Place in line: ticket − tickets served (or skipped), from the drop's latest counters; the
 * server's last answer when the drop carries none. Never below 1 while waiting.
 */
export function waitlistPosition(t: MyTicket, served: number | undefined): number {
  return Math.max(1, served === undefined ? t.position : Math.min(t.position, t.ticket - served));
}
