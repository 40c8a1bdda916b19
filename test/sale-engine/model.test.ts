import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLivedropError } from "../../core/index.ts";
import type { SaleEngine } from "../../sale-engine/index.ts";
import { SaleEngine as Engine } from "../../sale-engine/index.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, key } from "./fixtures.ts";

/**
 * Model-based property test: random sequences of operations run against the real engine on a
 * real Redis and against a plain in-test model. After every step the real counters must equal
 * the model's, available + held + sold = initial + restocked, and no user is above the limit.
 * Time is real (Redis TIME): the model learns it from the engine's answers and checks that
 * every expiry decision agrees with the deadlines it was given.
 */
const USERS = ["ann", "bob", "cy", "dee"];
const LIMIT = 3;
const HOLD_MS = 1_000;

type Hold = {
  rid: string;
  user: string;
  qty: number;
  deadline: number;
  status: "held" | "confirmed" | "released" | "expired";
};
type Recorded = {
  user: string;
  key: string;
  qty: number;
  answer: { rid: string; deadline: number; available: number } | { code: string };
};

interface Model {
  dropId: string;
  initial: number;
  restocked: number;
  available: number;
  held: number;
  sold: number;
  mode: "active" | "paused" | "ended";
  seq: number;
  holds: Hold[];
  attempts: Recorded[];
  units: Map<string, number>;
}
interface Real {
  engine: SaleEngine;
}

function returnUnits(m: Model, h: Hold, status: "released" | "expired") {
  h.status = status;
  m.held -= h.qty;
  m.available += h.qty;
  m.units.set(h.user, (m.units.get(h.user) ?? 0) - h.qty);
}

async function codeOf(
  p: Promise<unknown>,
): Promise<{ code: string; details: Record<string, unknown> } | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (!isLivedropError(err)) throw err;
    return { code: err.code, details: { ...err.details } };
  }
}

class Reserve implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly userIndex: number,
    readonly qty: number,
    readonly reuse: number | null,
    readonly sameQty: boolean,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const prior =
      this.reuse !== null && m.attempts.length > 0 ? m.attempts[this.reuse % m.attempts.length]! : undefined;
    const user = prior?.user ?? USERS[this.userIndex]!;
    const idempotencyKey = prior?.key ?? key();
    const qty = prior ? (this.sameQty ? prior.qty : (prior.qty % LIMIT) + 1) : this.qty;
    const call = r.engine.reserve({ dropId: m.dropId, userId: user, qty, idempotencyKey });
    if (prior && "rid" in prior.answer) {
      // A hold is recorded: the same key gets it back, whatever happened since.
      if (qty !== prior.qty) {
        expect((await codeOf(call))?.code).toBe("IDEMPOTENCY_KEY_REUSED");
      } else {
        expect(await call).toMatchObject({
          ...{
            reservationId: prior.answer.rid,
            deadline: prior.answer.deadline,
            available: prior.answer.available,
          },
          replayed: true,
        });
      }
      return;
    }
    // A new key, or one whose earlier answer was a refusal (not recorded): evaluated afresh.
    const owned = m.units.get(user) ?? 0;
    const expected =
      qty > LIMIT
        ? "INVALID_INPUT"
        : m.mode === "ended"
          ? "ENDED"
          : m.mode === "paused"
            ? "PAUSED"
            : m.available === 0
              ? "SOLD_OUT"
              : owned + qty > LIMIT
                ? "LIMIT_EXCEEDED"
                : m.available < qty
                  ? "INSUFFICIENT_STOCK"
                  : undefined;
    if (expected) {
      expect(await codeOf(call)).toMatchObject({ code: expected, details: { replayed: false } });
      if (expected !== "INVALID_INPUT" && !prior)
        m.attempts.push({ user, key: idempotencyKey, qty, answer: { code: expected } });
      return;
    }
    const res = await call;
    m.seq += 1;
    m.available -= qty;
    m.held += qty;
    m.units.set(user, owned + qty);
    expect(res).toMatchObject({
      reservationId: `${m.dropId}.${m.seq}`,
      available: m.available,
      replayed: false,
    });
    m.holds.push({ rid: res.reservationId, user, qty, deadline: res.deadline, status: "held" });
    const answer = { rid: res.reservationId, deadline: res.deadline, available: res.available };
    if (prior) Object.assign(prior, { qty, answer });
    else m.attempts.push({ user, key: idempotencyKey, qty, answer });
  }
  toString = () =>
    `reserve(${USERS[this.userIndex]}, ${this.qty}, reuse=${this.reuse}, same=${this.sameQty})`;
}

class Confirm implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.holds.length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const h = m.holds[this.pick % m.holds.length]!;
    const before = await r.engine.serverTime();
    const outcome = await codeOf(r.engine.confirm(h.rid));
    if (h.status === "confirmed") expect(outcome).toBeUndefined();
    else if (h.status !== "held")
      expect(outcome).toMatchObject({ code: "ALREADY_RELEASED", details: { status: h.status } });
    else if (outcome === undefined) {
      expect(h.deadline).toBeGreaterThan(before); // paid in time
      h.status = "confirmed";
      m.held -= h.qty;
      m.sold += h.qty;
    } else {
      expect(outcome.code).toBe("HOLD_EXPIRED");
      expect(h.deadline).toBeLessThanOrEqual(await r.engine.serverTime());
      returnUnits(m, h, "expired");
    }
  }
  toString = () => `confirm(#${this.pick})`;
}

class Release implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.holds.length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const h = m.holds[this.pick % m.holds.length]!;
    if (h.status === "confirmed") {
      expect((await codeOf(r.engine.release(h.rid)))?.code).toBe("ALREADY_CONFIRMED");
      return;
    }
    const res = await r.engine.release(h.rid);
    if (h.status === "held") {
      expect(res).toMatchObject({ status: "released", replayed: false });
      returnUnits(m, h, "released");
    } else {
      expect(res).toMatchObject({ status: h.status, replayed: true });
    }
  }
  toString = () => `release(#${this.pick})`;
}

class Expire implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const res = await r.engine.expireDue(m.dropId);
    const due = m.holds.filter((h) => h.status === "held" && h.deadline <= res.serverTime).map((h) => h.rid);
    expect([...res.expired].sort()).toEqual(due.sort());
    for (const h of m.holds) if (res.expired.includes(h.rid)) returnUnits(m, h, "expired");
  }
  toString = () => "expireDue()";
}

class Restock implements fc.AsyncCommand<Model, Real> {
  constructor(readonly qty: number) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const outcome = await codeOf(r.engine.restock(m.dropId, this.qty));
    if (m.mode === "ended") {
      expect(outcome?.code).toBe("ENDED");
      return;
    }
    expect(outcome).toBeUndefined();
    m.available += this.qty;
    m.restocked += this.qty;
  }
  toString = () => `restock(${this.qty})`;
}

class Transition implements fc.AsyncCommand<Model, Real> {
  constructor(readonly action: "pause" | "resume" | "end") {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const outcome = await codeOf(r.engine[this.action](m.dropId));
    if (m.mode === "ended" && this.action !== "end") {
      expect(outcome?.code).toBe("ENDED");
      return;
    }
    expect(outcome).toBeUndefined();
    m.mode = this.action === "pause" ? "paused" : this.action === "resume" ? "active" : "ended";
  }
  toString = () => `${this.action}()`;
}

class Wait implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.ms));
  }
  toString = () => `wait(${this.ms})`;
}

const commands = [
  fc
    .tuple(
      fc.nat(USERS.length - 1),
      fc.integer({ min: 1, max: LIMIT + 1 }),
      fc.option(fc.nat(), { freq: 3 }),
      fc.boolean(),
    )
    .map(([u, q, reuse, same]) => new Reserve(u, q, reuse, same)),
  fc
    .tuple(fc.nat(USERS.length - 1), fc.integer({ min: 1, max: 2 }))
    .map(([u, q]) => new Reserve(u, q, null, true)),
  fc.nat().map((i) => new Confirm(i)),
  fc.nat().map((i) => new Release(i)),
  fc.constant(new Expire()),
  fc.integer({ min: 1, max: 4 }).map((q) => new Restock(q)),
  fc
    .constantFrom("pause", "resume", "resume", "end")
    .map((a) => new Transition(a as "pause" | "resume" | "end")),
];

let redis: PrivateRedis;
let engine: SaleEngine;

beforeAll(async () => {
  redis = await startPrivateRedis({ appendfsync: "everysec" });
  engine = await Engine.create({ redis: redis.client(), prefix: uniquePrefix("model") });
});
afterAll(async () => {
  await engine?.close();
  await redis?.stop();
});

describe("sale engine against a model", () => {
  it("random operation sequences keep available + held + sold = initial + restocked and every user within the limit", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.commands(
          [
            ...commands,
            // Rare waits let real deadlines pass mid-sequence.
            fc.integer({ min: 200, max: 1_200 }).map((ms) => new Wait(ms)),
          ],
          { maxCommands: 40 },
        ),
        fc.integer({ min: 0, max: 8 }),
        async (cmds, initial) => {
          const def = dropDefinition({ initialStock: initial, perUserLimit: LIMIT, holdMs: HOLD_MS });
          await engine.createDrop(def);
          const model: Model = {
            dropId: def.dropId,
            initial,
            restocked: 0,
            available: initial,
            held: 0,
            sold: 0,
            mode: "active",
            seq: 0,
            holds: [],
            attempts: [],
            units: new Map(),
          };
          const real: Real = { engine };
          for (const cmd of cmds) {
            if (!cmd.check(model)) continue;
            await cmd.run(model, real);
            const s = await engine.status(def.dropId);
            expect({
              available: s.available,
              held: s.held,
              sold: s.sold,
              initial: s.initial,
              restocked: s.restocked,
            }).toEqual({
              available: model.available,
              held: model.held,
              sold: model.sold,
              initial: model.initial,
              restocked: model.restocked,
            });
            expect(s.available + s.held + s.sold).toBe(s.initial + s.restocked);
            for (const user of USERS) {
              const units = await engine.unitsOfUser(def.dropId, user);
              expect(units).toBe(model.units.get(user) ?? 0);
              expect(units).toBeLessThanOrEqual(LIMIT);
            }
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
