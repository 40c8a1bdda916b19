import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLivedropError } from "../../core/index.ts";
import { SaleEngine, type SaleEvent } from "../../sale-engine/index.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, key } from "./fixtures.ts";

/**
 * Property test of the hand-off queue on a real Redis: random sequences of buys (with retries of
 * the same key), releases (and their retries), confirms, waitlist joins and expiries (real time:
 * 1 s holds) run against the engine and against a plain model of holds, units and tickets. After
 * every step: available + held + sold = initial + restocked and the counters equal the model's;
 * no user holds more than the limit (hand-offs included); no unit is on sale while a ticket
 * waits; each release or expiry handed its units to exactly the tickets the model expects, in
 * ticket order, skipping users at the limit. Raffles run the same steps after a real draw, their
 * queue the drawn order of the entrants who won nothing.
 */
const USERS = ["ann", "bob", "cy", "dee", "eve"];
const HOLD_MS = 1_000;

type Op =
  | { kind: "buy"; user: number; keyIndex: number }
  | { kind: "join"; user: number; qty: number }
  | { kind: "release"; hold: number }
  | { kind: "confirm"; hold: number }
  | { kind: "restock"; qty: number }
  | { kind: "expire" };

interface Hold {
  rid: string;
  user: string;
  qty: number;
  deadline: number;
  status: "held" | "confirmed" | "released" | "expired";
}
interface Ticket {
  user: string;
  qty: number;
}
interface Model {
  dropId: string;
  limit: number;
  total: number;
  available: number;
  held: number;
  sold: number;
  holds: Hold[];
  units: Map<string, number>;
  tickets: Ticket[];
  served: number;
  /** Buy keys answered with a hold: key -> rid (a retry must get it back). */
  keys: Map<string, string>;
  via: "waitlist" | "handoff";
  lastLogId: string;
}

let redis: PrivateRedis;
let engine: SaleEngine;
/** What the scenarios exercised, so a passing run is known not to be vacuous. */
const seen = { handedOff: 0, skipped: 0, expired: 0, joined: 0 };

beforeAll(async () => {
  redis = await startPrivateRedis({ appendfsync: "no" });
  engine = await SaleEngine.create({ redis: redis.client(), prefix: uniquePrefix("handoff") });
});
afterAll(async () => {
  await engine?.close();
  await redis?.stop();
});

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (!isLivedropError(err)) throw err;
    return err.code;
  }
}

/** The events logged since the last call (the log keeps far more than one step writes). */
async function newEvents(m: Model): Promise<SaleEvent[]> {
  const entries = await engine.readEvents(m.dropId, m.lastLogId, 1_000);
  const last = entries.at(-1);
  if (last) m.lastLogId = last.id;
  return entries.flatMap((e) => e.events);
}

/**
 * Units freed by one hold, as the model hands them off: to the next tickets in order, each
 * min(qty, units left, limit - units the user has); a user with no room is skipped.
 */
function expectedHandOff(m: Model, units: number): { user: string; qty: number }[] {
  const out: { user: string; qty: number }[] = [];
  let left = units;
  while (left > 0 && m.served < m.tickets.length) {
    const t = m.tickets[m.served] as Ticket;
    m.served += 1;
    const owned = m.units.get(t.user) ?? 0;
    const granted = Math.min(t.qty, left, m.limit - owned);
    if (granted <= 0) {
      seen.skipped += 1;
      continue;
    }
    seen.handedOff += 1;
    left -= granted;
    out.push({ user: t.user, qty: granted });
    m.units.set(t.user, owned + granted);
    m.available -= granted;
    m.held += granted;
  }
  return out;
}

/** A hold returned (released or expired) in the model, and what its units' hand-off must be. */
function returned(m: Model, h: Hold, status: "released" | "expired"): { user: string; qty: number }[] {
  h.status = status;
  if (status === "expired") seen.expired += 1;
  m.held -= h.qty;
  m.available += h.qty;
  m.units.set(h.user, (m.units.get(h.user) ?? 0) - h.qty);
  return expectedHandOff(m, h.qty);
}

/** The placed events of the server's hand-offs in `events` must be `expected`; they join the model. */
function checkHandOffs(m: Model, events: SaleEvent[], expected: { user: string; qty: number }[]) {
  const placed = events.flatMap((e) => (e.type === "reservation.placed" && e.via === m.via ? [e] : []));
  expect(placed.map((p) => ({ user: p.user, qty: p.qty }))).toEqual(expected);
  for (const p of placed) {
    expect(p.deadline).toBe(p.at + HOLD_MS);
    m.holds.push({ rid: p.reservation, user: p.user, qty: p.qty, deadline: p.deadline, status: "held" });
  }
}

async function step(m: Model, op: Op): Promise<void> {
  const user = USERS[("user" in op ? op.user : 0) % USERS.length] as string;
  switch (op.kind) {
    case "buy": {
      // Two keys per user, each with its own qty: a key used again is a retry.
      const k = `${m.dropId}-${user}-${op.keyIndex % 2}`;
      const qty = 1 + (op.keyIndex % 2);
      const call = engine.buy({ dropId: m.dropId, userId: user, qty, idempotencyKey: k });
      const known = m.keys.get(k);
      if (known) {
        expect(await call).toMatchObject({ kind: "held", reservationId: known, replayed: true });
        return;
      }
      const owned = m.units.get(user) ?? 0;
      const want =
        qty > m.limit
          ? "INVALID_INPUT"
          : m.available === 0
            ? "SOLD_OUT"
            : owned + qty > m.limit
              ? "LIMIT_EXCEEDED"
              : m.available < qty
                ? "INSUFFICIENT_STOCK"
                : undefined;
      if (want) {
        expect(await codeOf(call)).toBe(want);
        return;
      }
      const r = await call;
      if (r.kind !== "held") throw new Error("expected a hold");
      m.available -= qty;
      m.held += qty;
      m.units.set(user, owned + qty);
      m.keys.set(k, r.reservationId);
      m.holds.push({ rid: r.reservationId, user, qty, deadline: r.deadline, status: "held" });
      await newEvents(m);
      return;
    }
    case "join": {
      const call = engine.joinWaitlist({
        dropId: m.dropId,
        userId: user,
        qty: op.qty,
        idempotencyKey: key(),
      });
      const mine = m.tickets.findIndex((t) => t.user === user);
      if (m.via === "handoff") {
        expect(await codeOf(call)).toBe("WAITLIST_CLOSED");
        return;
      }
      if (mine >= 0) {
        expect(await call).toMatchObject({ ticket: mine + 1, replayed: true });
        return;
      }
      const owned = m.units.get(user) ?? 0;
      const want =
        op.qty > m.limit
          ? "INVALID_INPUT"
          : m.available > 0
            ? "WAITLIST_CLOSED"
            : owned + op.qty > m.limit
              ? "LIMIT_EXCEEDED"
              : undefined;
      if (want) {
        expect(await codeOf(call)).toBe(want);
        return;
      }
      m.tickets.push({ user, qty: op.qty });
      seen.joined += 1;
      expect(await call).toMatchObject({
        ticket: m.tickets.length,
        position: m.tickets.length - m.served,
        replayed: false,
      });
      return;
    }
    case "release": {
      const h = m.holds[op.hold % Math.max(1, m.holds.length)];
      if (!h) return;
      const call = engine.release(h.rid);
      if (h.status === "confirmed") {
        expect(await codeOf(call)).toBe("ALREADY_CONFIRMED");
        return;
      }
      if (h.status !== "held") {
        // A retry: answered as it was, nothing changes.
        expect(await call).toMatchObject({ replayed: true });
        return;
      }
      expect(await call).toMatchObject({ status: "released", replayed: false });
      checkHandOffs(m, await newEvents(m), returned(m, h, "released"));
      return;
    }
    case "confirm": {
      const h = m.holds[op.hold % Math.max(1, m.holds.length)];
      if (!h) return;
      const code = await codeOf(engine.confirm(h.rid));
      if (h.status === "confirmed") expect(code).toBeUndefined();
      else if (h.status !== "held") expect(code).toBe("ALREADY_RELEASED");
      else if (code === "HOLD_EXPIRED") {
        // Its deadline passed first (real time): expired right there, handed off like any.
        expect(await engine.serverTime()).toBeGreaterThanOrEqual(h.deadline);
        checkHandOffs(m, await newEvents(m), returned(m, h, "expired"));
      } else {
        expect(code).toBeUndefined();
        h.status = "confirmed";
        m.held -= h.qty;
        m.sold += h.qty;
        await newEvents(m);
      }
      return;
    }
    case "restock": {
      await engine.restock(m.dropId, op.qty);
      m.available += op.qty;
      m.total += op.qty;
      // The line was there first: the new units go to the waiting tickets before they go on sale.
      checkHandOffs(m, await newEvents(m), expectedHandOff(m, op.qty));
      return;
    }
    case "expire": {
      const held = m.holds.filter((h) => h.status === "held");
      if (held.length === 0) return;
      const due = Math.min(...held.map((h) => h.deadline));
      // Real time: wait (bounded) for the earliest deadline, then sweep.
      for (let i = 0; (await engine.serverTime()) <= due; i++) {
        if (i > 400) throw new Error("the server clock did not pass the deadline");
        await new Promise((r) => setTimeout(r, 10));
      }
      const { expired } = await engine.expireDue(m.dropId);
      expect(expired.length).toBeGreaterThan(0);
      const events = await newEvents(m);
      // One hold at a time, in the sweep's order: each hand-off is computed after the previous.
      const expected: { user: string; qty: number }[] = [];
      for (const rid of expired) {
        const h = m.holds.find((x) => x.rid === rid);
        if (h?.status !== "held") throw new Error(`expired ${rid}, not a held hold of the model`);
        expected.push(...returned(m, h, "expired"));
      }
      checkHandOffs(m, events, expected);
      return;
    }
  }
}

/** What holds after every step, read from the engine. */
async function checkInvariants(m: Model): Promise<void> {
  const s = await engine.status(m.dropId);
  expect(s.available + s.held + s.sold).toBe(s.initial + s.restocked);
  expect({ available: s.available, held: s.held, sold: s.sold }).toEqual({
    available: m.available,
    held: m.held,
    sold: m.sold,
  });
  for (const u of USERS) {
    const units = await engine.unitsOfUser(m.dropId, u);
    expect(units, u).toBe(m.units.get(u) ?? 0);
    expect(units, u).toBeLessThanOrEqual(m.limit);
  }
  // Nothing on sale while someone waits: freed and restocked units go to the queue first.
  if (m.available > 0) expect(m.served).toBe(m.tickets.length);
  expect(s.initial + s.restocked).toBe(m.total);
  if (m.via === "waitlist") expect(s.waitlist).toEqual({ length: m.tickets.length, served: m.served });
  for (const [i, t] of m.tickets.entries()) {
    const w = await engine.waitlistOf(m.dropId, t.user);
    expect(w?.ticket).toBe(i + 1);
    if (i >= m.served) expect(w).toEqual({ ticket: i + 1, position: i + 1 - m.served, status: "waiting" });
    else expect(w?.status).not.toBe("waiting");
  }
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("buy" as const), user: fc.nat(9), keyIndex: fc.nat(3) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("join" as const),
      user: fc.nat(9),
      qty: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("release" as const), hold: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("confirm" as const), hold: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("expire" as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("restock" as const), qty: fc.integer({ min: 1, max: 2 }) }),
  },
);

const buyArb = fc.record({ kind: fc.constant("buy" as const), user: fc.nat(9), keyIndex: fc.nat(3) });
const joinArb = fc.record({
  kind: fc.constant("join" as const),
  user: fc.nat(9),
  qty: fc.integer({ min: 1, max: 3 }),
});
const restockArb = fc.record({ kind: fc.constant("restock" as const), qty: fc.integer({ min: 1, max: 2 }) });

/**
 * Phases make the interesting states likely: buys sell the drop out, viewers join, a restock
 * serves the line first (buys after it find what the tickets left), then anything goes. A user at
 * the limit when their turn comes cannot arise from these steps (no unit is on sale while a ticket
 * waits); waitlist.test.ts covers the skip with a paused drop and an erased user.
 */
const scenarioArb = fc.record({
  stock: fc.integer({ min: 1, max: 4 }),
  limit: fc.integer({ min: 1, max: 3 }),
  sellOut: fc.array(buyArb, { minLength: 3, maxLength: 8 }),
  join: fc.array(joinArb, { minLength: 2, maxLength: 5 }),
  restock: fc.tuple(restockArb, fc.array(buyArb, { minLength: 1, maxLength: 4 })),
  ops: fc.array(opArb, { minLength: 10, maxLength: 25 }),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;
const opsOf = (sc: Scenario): Op[] => [...sc.sellOut, ...sc.join, sc.restock[0], ...sc.restock[1], ...sc.ops];

function emptyModel(dropId: string, stock: number, limit: number, via: Model["via"]): Model {
  return {
    dropId,
    limit,
    total: stock,
    available: stock,
    held: 0,
    sold: 0,
    holds: [],
    units: new Map(),
    tickets: [],
    served: 0,
    keys: new Map(),
    via,
    lastLogId: "0",
  };
}

/** At most this many expiry steps per scenario (each waits up to a hold's second). */
const MAX_EXPIRES = 2;
function capExpiries(ops: Op[]): Op[] {
  let n = 0;
  return ops.filter((o) => o.kind !== "expire" || ++n <= MAX_EXPIRES);
}

describe("hand-off queue (property, real Redis)", () => {
  it("waitlist: the invariant, the limit and the ticket order hold at every step", async () => {
    const scenarios = fc.sample(scenarioArb, { numRuns: 16, seed: 1515 });
    Object.assign(seen, { handedOff: 0, skipped: 0, expired: 0, joined: 0 });
    for (const [n, sc] of scenarios.entries()) {
      const def = dropDefinition({ initialStock: sc.stock, perUserLimit: sc.limit, holdMs: HOLD_MS });
      await engine.createDrop(def);
      const m = emptyModel(def.dropId, sc.stock, sc.limit, "waitlist");
      for (const op of capExpiries(opsOf(sc))) {
        try {
          await step(m, op);
          await checkInvariants(m);
        } catch (err) {
          throw new Error(`scenario ${n} (${JSON.stringify(sc)}), step ${JSON.stringify(op)}: ${err}`);
        }
      }
    }
    console.log("waitlist scenarios exercised", seen);
    expect(seen.joined).toBeGreaterThan(0);
    expect(seen.handedOff).toBeGreaterThan(0);
    expect(seen.expired).toBeGreaterThan(0);
  }, 180_000);

  it("raffle: unpaid and expired winners' units follow the drawn order of the non-winners", async () => {
    const raffleArb = fc.record({
      stock: fc.integer({ min: 1, max: 2 }),
      limit: fc.integer({ min: 1, max: 2 }),
      // Oversubscribed mostly: non-winners to hand off to.
      entrants: fc.uniqueArray(fc.nat(USERS.length - 1), { minLength: 2, maxLength: USERS.length }),
      ops: fc.array(
        fc.oneof(
          { weight: 3, arbitrary: fc.record({ kind: fc.constant("release" as const), hold: fc.nat(20) }) },
          { weight: 2, arbitrary: fc.record({ kind: fc.constant("confirm" as const), hold: fc.nat(20) }) },
          { weight: 1, arbitrary: fc.record({ kind: fc.constant("expire" as const) }) },
          {
            weight: 1,
            arbitrary: fc.record({
              kind: fc.constant("join" as const),
              user: fc.nat(9),
              qty: fc.constant(1),
            }),
          },
          {
            weight: 1,
            arbitrary: fc.record({ kind: fc.constant("buy" as const), user: fc.nat(9), keyIndex: fc.nat(3) }),
          },
        ),
        { minLength: 5, maxLength: 15 },
      ),
    });
    const scenarios = fc.sample(raffleArb, { numRuns: 4, seed: 1516 });
    Object.assign(seen, { handedOff: 0, skipped: 0, expired: 0, joined: 0 });
    const windowMs = 60_000;
    const drops = [];
    // Every raffle's entry window (the shortest, a minute) closes 3 s after its creation: it
    // started in the past. All enter first, so the test waits for about one close only.
    for (const sc of scenarios) {
      const startsAt = (await engine.serverTime()) - windowMs + 3_000;
      const def = dropDefinition({
        initialStock: sc.stock,
        perUserLimit: sc.limit,
        holdMs: HOLD_MS,
        raffleWindowMs: windowMs,
        startsAt,
      });
      await engine.createDrop(def);
      const qtys = new Map<string, number>();
      for (const u of sc.entrants) {
        const userId = USERS[u] as string;
        const qty = 1 + (u % sc.limit);
        qtys.set(userId, qty);
        const entry = await engine.buy({ dropId: def.dropId, userId, qty, idempotencyKey: key() });
        expect(entry.kind).toBe("entered");
      }
      drops.push({ def, sc, qtys });
    }
    for (const [n, { def, sc, qtys }] of drops.entries()) {
      for (let i = 0; !(await engine.allocateFairWindow(def.dropId)).allocated; i++) {
        if (i > 1_000) throw new Error("the raffle did not close");
        await new Promise((r) => setTimeout(r, 10));
      }
      const m = emptyModel(def.dropId, sc.stock, sc.limit, "handoff");
      const draw = await engine.fairDraw(def.dropId);
      if (!draw) throw new Error("no draw");
      // The model's view of the draw: winners hold, the rest queue in drawn order.
      const byEntry = new Map<string, string>();
      for (const u of qtys.keys())
        for (const e of await engine.fairEntriesOf(def.dropId, u)) byEntry.set(e.entryId, u);
      for (const r of draw.results) {
        const user = byEntry.get(r.entryId) ?? "";
        if (r.granted === 0) m.tickets.push({ user, qty: qtys.get(user) ?? 0 });
        else {
          const entry = (await engine.fairEntriesOf(def.dropId, user))[0];
          const rec = await engine.reservation(entry?.reservationId ?? "");
          m.holds.push({
            rid: rec.reservationId,
            user,
            qty: rec.qty,
            deadline: rec.deadline,
            status: "held",
          });
          m.units.set(user, rec.qty);
          m.available -= rec.qty;
          m.held += rec.qty;
        }
      }
      await newEvents(m);
      await checkInvariants(m);
      for (const op of capExpiries(sc.ops)) {
        try {
          await step(m, op);
          await checkInvariants(m);
        } catch (err) {
          throw new Error(`raffle ${n} (${JSON.stringify(sc)}), step ${JSON.stringify(op)}: ${err}`);
        }
      }
    }
    console.log("raffle scenarios exercised", seen);
    expect(seen.handedOff).toBeGreaterThan(0);
  }, 180_000);
});
