import { describe, expect, it } from "vitest";
import { ratesBetween } from "../../client/src/ops/rates.ts";
import {
  applyAck,
  applyDrawFrame,
  applyMe,
  applyTicket,
  emptyDraws,
  entrySummary,
  waitlistPosition,
} from "../../client/src/shared/draw-state.ts";
import { applyFrame, drawDone, drawOpen, emptyRoom } from "../../client/src/shared/room-state.ts";
import {
  type DropSnapshot,
  decodeServerFrame,
  type RoomInsight,
  roomInsightSchema,
  type ServerFrame,
} from "../../protocol/index.ts";

/** The viewer's fair-drop state: entries, results, the draw's outcome, the waitlist. */

const SEED = "ab".repeat(32);
const HASH = "cd".repeat(32);
const fairDrop = (over: Partial<DropSnapshot> = {}): DropSnapshot => ({
  dropId: "d1",
  roomId: "r1",
  product: { sku: "s", title: "Shoe", priceMinor: 1999, currency: "USD", imageUrl: "https://x.test/a.png" },
  state: "live",
  startsAt: 10_000,
  endsAt: null,
  perUserLimit: 1,
  holdMs: 60_000,
  available: 2,
  held: 0,
  sold: 0,
  v: 3,
  fair: { mode: "window", windowMs: 3_000, closesAt: 13_000, seedHash: HASH, seed: null, allocatedAt: null },
  ...over,
});

/** Frames go through the protocol decoder, as the page's connection does. */
function frame(f: unknown): ServerFrame {
  const r = decodeServerFrame(JSON.stringify(f));
  if (!r.ok) throw new Error(`bad frame ${JSON.stringify(f)}`);
  return r.frame;
}

const joined = (drops: DropSnapshot[]) =>
  frame({ t: "joined", room: "r1", epoch: "e", offset: "1-0", viewers: 1, drops, chat: [] });

describe("viewer state of fair drops", () => {
  it("a drop's entry window is open from T0 until closesAt and before allocation; drawn once the seed is out", () => {
    const d = fairDrop();
    expect(drawOpen(d, 12_999)).toBe(true);
    expect(drawOpen(d, 13_000)).toBe(false);
    expect(drawOpen({ ...d, fair: { ...d.fair!, allocatedAt: 12_000 } }, 12_500)).toBe(false);
    expect(drawOpen({ ...d, fair: undefined }, 11_000)).toBe(false);
    expect(drawDone(d)).toBe(false);
    expect(drawDone({ ...d, fair: { ...d.fair!, seed: SEED, allocatedAt: 13_050 } })).toBe(true);
  });

  it("the draw frame reveals the seed and the outcome, which later drop frames and snapshots keep", () => {
    let s = applyFrame(emptyRoom("r1"), joined([fairDrop()]), 11_000);
    const draw = frame({
      t: "draw",
      room: "r1",
      o: "2-0",
      e: "e",
      dropId: "d1",
      mode: "window",
      seed: SEED,
      stock: 2,
      units: 2,
      winners: 2,
      losers: 5,
      v: 5,
    });
    s = applyFrame(s, draw, 13_100);
    const d = s.drops.get("d1");
    expect(d?.drawn).toEqual({ winners: 2, losers: 5, units: 2, stock: 2 });
    expect(d?.fair?.seed).toBe(SEED);
    expect(d?.fair?.allocatedAt).toBe(13_100);
    expect(d && drawDone(d)).toBe(true);
    // The same draw again (a resume's replay) changes nothing.
    expect(applyFrame(s, draw, 13_200)).toBe(s);
    // A stock frame older than the draw is ignored; a drop frame keeps the outcome.
    const stale = frame({
      t: "stock",
      room: "r1",
      o: "2-1",
      e: "e",
      dropId: "d1",
      available: 2,
      held: 0,
      sold: 0,
      state: "live",
      v: 4,
    });
    expect(applyFrame(s, stale, 13_300)).toBe(s);
    const allocated = fairDrop({
      available: 0,
      held: 2,
      state: "sold_out",
      v: 6,
      fair: { ...fairDrop().fair!, seed: SEED, allocatedAt: 13_050 },
    });
    // A drop frame built from a status read before the draw (seed still null) keeps the seed.
    s = applyFrame(
      s,
      frame({ t: "drop", room: "r1", o: "2-2", e: "e", drop: { ...fairDrop(), v: 5 } }),
      13_350,
    );
    expect(s.drops.get("d1")?.fair?.seed).toBe(SEED);
    s = applyFrame(s, frame({ t: "drop", room: "r1", o: "3-0", e: "e", drop: allocated }), 13_400);
    expect(s.drops.get("d1")?.drawn?.winners).toBe(2);
    s = applyFrame(s, joined([allocated]), 20_000);
    expect(s.drops.get("d1")?.drawn?.losers).toBe(5);
    // A draw of another room or of an unknown drop is ignored.
    expect(applyFrame(s, { ...(draw as object), room: "r2" } as ServerFrame, 1)).toBe(s);
    expect(applyFrame(s, { ...(draw as object), dropId: "d9" } as ServerFrame, 1)).toBe(s);
  });

  it("entered, then won: the result frame replaces the entry and carries the hold; a replayed ack keeps the result", () => {
    const ack = frame({
      t: "ack",
      reqId: "r1",
      ok: true,
      result: { kind: "entered", dropId: "d1", entryId: "e1", qty: 1, closesAt: 13_000, replayed: false },
    });
    if (ack.t !== "ack" || !ack.ok || ack.result.kind !== "entered") throw new Error("not an entered ack");
    let s = applyAck(emptyDraws(), ack.result);
    expect(entrySummary(s, "d1")).toEqual({ status: "entered", qty: 1, granted: 0 });
    expect(entrySummary(s, "d2")).toBeUndefined();
    s = applyDrawFrame(
      s,
      frame({
        t: "entry",
        dropId: "d1",
        entryId: "e1",
        status: "won",
        qty: 1,
        granted: 1,
        reservationId: "d1.1",
        deadline: 73_000,
      }),
    );
    expect(entrySummary(s, "d1")).toEqual({ status: "won", qty: 1, granted: 1 });
    expect(s.entries.get("e1")).toMatchObject({ reservationId: "d1.1", deadline: 73_000 });
    expect(applyAck(s, { ...ack.result, replayed: true })).toBe(s);
  });

  it("lost: not drawn this time; one won entry of several makes the drop won", () => {
    let s = applyAck(emptyDraws(), {
      kind: "entered",
      dropId: "d1",
      entryId: "e1",
      qty: 1,
      closesAt: 13_000,
      replayed: false,
    });
    s = applyAck(s, {
      kind: "entered",
      dropId: "d1",
      entryId: "e2",
      qty: 1,
      closesAt: 13_000,
      replayed: false,
    });
    s = applyDrawFrame(
      s,
      frame({ t: "entry", dropId: "d1", entryId: "e1", status: "lost", qty: 1, granted: 0 }),
    );
    expect(entrySummary(s, "d1")?.status).toBe("entered");
    s = applyDrawFrame(
      s,
      frame({ t: "entry", dropId: "d1", entryId: "e2", status: "lost", qty: 1, granted: 0 }),
    );
    expect(entrySummary(s, "d1")).toEqual({ status: "lost", qty: 2, granted: 0 });
    // A raffle winner did not pay: the unit is handed to this entrant, next in the drawn order.
    s = applyDrawFrame(
      s,
      frame({ t: "offer", dropId: "d1", reservationId: "d1.7", qty: 1, deadline: 99_000, via: "handoff" }),
    );
    expect(entrySummary(s, "d1")).toEqual({ status: "won", qty: 2, granted: 1 });
    expect([...s.entries.values()].find((e) => e.status === "won")).toMatchObject({
      reservationId: "d1.7",
      deadline: 99_000,
    });
    // The server's entry records still say lost: a restore keeps the hand-off this tab saw.
    const handed = [...s.entries.values()].find((e) => e.status === "won")?.entryId ?? "";
    const restored = applyMe(s, {
      dropId: "d1",
      entries: [{ entryId: handed, qty: 1, status: "lost", reservationId: null, granted: 0 }],
      waitlist: null,
      auctionHold: null,
    });
    expect(entrySummary(restored, "d1")?.status).toBe("won");
    // After a reload only the saved hold tells: its units make the lost entry a win.
    const reloaded = applyMe(emptyDraws(), {
      dropId: "d1",
      entries: [{ entryId: "e1", qty: 1, status: "lost", reservationId: null, granted: 0 }],
      waitlist: null,
      auctionHold: null,
    });
    expect(entrySummary(reloaded, "d1")?.status).toBe("lost");
    expect(entrySummary(reloaded, "d1", 1)).toEqual({ status: "won", qty: 1, granted: 1 });
  });

  it("a reconnect restores entries and the waitlist ticket from GET …/me", () => {
    let s = applyMe(emptyDraws(), {
      dropId: "d1",
      entries: [{ entryId: "e1", qty: 1, status: "entered", reservationId: null, granted: 0 }],
      waitlist: null,
      auctionHold: null,
    });
    expect(entrySummary(s, "d1")?.status).toBe("entered");
    const same = applyMe(s, {
      dropId: "d1",
      entries: [{ entryId: "e1", qty: 1, status: "entered", reservationId: null, granted: 0 }],
      waitlist: null,
      auctionHold: null,
    });
    expect(same).toBe(s);
    s = applyMe(s, {
      dropId: "d1",
      entries: [{ entryId: "e1", qty: 1, status: "won", reservationId: "d1.9", granted: 1 }],
      waitlist: null,
      auctionHold: null,
    });
    expect(s.entries.get("e1")).toMatchObject({ status: "won", reservationId: "d1.9" });
    s = applyMe(s, {
      dropId: "d2",
      entries: [],
      waitlist: { ticket: 7, position: 3, status: "waiting" },
      auctionHold: null,
    });
    expect(s.tickets.get("d2")).toEqual({ dropId: "d2", ticket: 7, position: 3, status: "waiting" });
  });

  it("waitlist: position is ticket − served, moving up as drop frames arrive; an offer marks the ticket", () => {
    let s = applyTicket(emptyDraws(), { dropId: "d1", ticket: 5, position: 5 });
    const ticket = () => s.tickets.get("d1");
    expect(applyTicket(s, { dropId: "d1", ticket: 5, position: 5 })).toBe(s);
    expect(waitlistPosition(ticket()!, undefined)).toBe(5);
    expect(waitlistPosition(ticket()!, 0)).toBe(5);
    expect(waitlistPosition(ticket()!, 3)).toBe(2);
    expect(waitlistPosition(ticket()!, 4)).toBe(1);
    // Served past the ticket (its offer is on the way): never below 1.
    expect(waitlistPosition(ticket()!, 9)).toBe(1);
    s = applyDrawFrame(
      s,
      frame({ t: "offer", dropId: "d1", reservationId: "d1.2", qty: 1, deadline: 90_000, via: "waitlist" }),
    );
    expect(ticket()?.status).toBe("offered");
    // A raffle hand-off is not a waitlist ticket.
    const before = s;
    expect(
      applyDrawFrame(
        s,
        frame({ t: "offer", dropId: "d3", reservationId: "d3.2", qty: 1, deadline: 90_000, via: "handoff" }),
      ),
    ).toBe(before);
  });

  it("a drop frame without waitlist counters keeps the snapshot's (they move without events)", () => {
    const fcfs = fairDrop({
      fair: undefined,
      state: "sold_out",
      available: 0,
      held: 1,
      waitlist: { length: 4, served: 1 },
    });
    let s = applyFrame(emptyRoom("r1"), joined([fcfs]), 11_000);
    const { waitlist: _, ...noCounters } = { ...fcfs, v: 4 };
    s = applyFrame(s, frame({ t: "drop", room: "r1", o: "2-0", e: "e", drop: noCounters }), 12_000);
    expect(s.drops.get("d1")?.waitlist).toEqual({ length: 4, served: 1 });
    s = applyFrame(s, joined([{ ...fcfs, v: 5, waitlist: { length: 4, served: 3 } }]), 13_000);
    expect(s.drops.get("d1")?.waitlist).toEqual({ length: 4, served: 3 });
  });

  it("the ops screen's rates: entries per second beside clicks and orders, from two polls", () => {
    const room = (buyClicks: number, entries: number, holds: number): RoomInsight =>
      roomInsightSchema.parse({
        room: "r1",
        serverTime: 1,
        viewers: 3,
        drops: [],
        totals: {
          buyClicks,
          entries,
          holds,
          paidOrders: 0,
          unitsSold: 0,
          expiredUnits: 0,
          gmv: [],
          netGmv: [],
          couponCost: [],
        },
        conversion: null,
      });
    expect(ratesBetween(room(10, 40, 2), room(30, 140, 6), 2)).toEqual({
      orders: 2,
      clicks: 10,
      entries: 50,
    });
    expect(ratesBetween(undefined, room(1, 1, 1), 2)).toEqual({ orders: 0, clicks: 0, entries: 0 });
    // Counters of a restarted gateway start again: never a negative rate.
    expect(ratesBetween(room(30, 140, 6), room(0, 0, 0), 2)).toEqual({ orders: 0, clicks: 0, entries: 0 });
  });
});
