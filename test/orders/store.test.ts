import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCode, isLivedropError, ValidationError } from "../../core/index.ts";
import {
  loadMigrations,
  migrate,
  type NewOrder,
  OrderStore,
  PgClient,
  PgliteClient,
  type SqlClient,
  type StoreTarget,
} from "../../orders/store/index.ts";
import { type PrivatePostgres, startPrivatePostgres } from "../harness/postgres.ts";

/**
 * One suite, run against both back ends: embedded PGlite in a temporary folder and a private
 * PostgreSQL server. Each test uses its own drop / room ids, so tests share one database.
 */
interface Backend {
  readonly name: string;
  setUp(): Promise<void>;
  /** A database nobody has migrated yet. */
  freshTarget(): Promise<StoreTarget>;
  /** `n` clients as `n` processes would hold them (PGlite: one process per folder, so one client). */
  clients(target: StoreTarget, n: number): Promise<SqlClient[]>;
  tearDown(): Promise<void>;
}

function pgliteBackend(): Backend {
  const dirs: string[] = [];
  return {
    name: "PGlite",
    async setUp() {},
    async freshTarget() {
      const dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-pglite-"));
      dirs.push(dir);
      return { kind: "pglite", dataDir: path.join(dir, "orders") };
    },
    async clients(target, n) {
      if (target.kind !== "pglite") throw new Error("expected a PGlite target");
      const client = await PgliteClient.open(target.dataDir);
      return Array.from({ length: n }, () => client);
    },
    async tearDown() {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresBackend(): Backend {
  let server: PrivatePostgres | undefined;
  let databases = 0;
  return {
    name: "PostgreSQL",
    async setUp() {
      server = await startPrivatePostgres();
    },
    async freshTarget() {
      if (!server) throw new Error("server not started");
      return { kind: "pg", url: await server.createDatabase(`orders_${++databases}`) };
    },
    async clients(target, n) {
      if (target.kind !== "pg") throw new Error("expected a PostgreSQL target");
      return Promise.all(Array.from({ length: n }, () => PgClient.open(target.url)));
    },
    async tearDown() {
      await server?.stop();
    },
  };
}

function newOrder(dropId: string, seq: number, over: Partial<NewOrder> = {}): NewOrder {
  return {
    reservationId: `${dropId}.${seq}`,
    dropId,
    roomId: "room-default",
    userId: `user-${seq}`,
    sku: "SKU-1",
    title: "Limited sneaker",
    qty: 1,
    unitPriceMinor: 2_500,
    currency: "USD",
    holdDeadline: Date.now() + 120_000,
    ...over,
  };
}

/** A drop id no other test uses. */
function uniqueDrop(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}`;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (isLivedropError(err)) return err.code;
    throw err;
  }
  throw new Error("expected a rejection");
}

describe.each([pgliteBackend(), postgresBackend()])("order store on $name", (backend) => {
  let store: OrderStore;

  beforeAll(async () => {
    await backend.setUp();
    store = await OrderStore.open(await backend.freshTarget());
  }, 180_000);

  afterAll(async () => {
    await store?.close();
    await backend.tearDown();
  });

  it("applies each migration exactly once, even when processes start together; data survives reopen", async () => {
    const target = await backend.freshTarget();
    const names = loadMigrations().map((m) => m.name);
    expect(names[0]).toBe("001_orders.sql");

    const clients = await backend.clients(target, 4);
    const runs = await Promise.all(clients.map((c) => migrate(c)));
    expect(runs.filter((applied) => applied.length > 0)).toEqual([names]);
    const [client] = clients;
    const recorded = await client!.query<{ name: string }>(
      "SELECT name FROM schema_migrations ORDER BY name",
    );
    expect(recorded.map((r) => r.name)).toEqual(names);
    for (const c of new Set(clients)) await c.close();

    const first = await OrderStore.open(target);
    expect(first.appliedMigrations).toEqual([]);
    const dropId = uniqueDrop("reopen");
    await first.createOrder(newOrder(dropId, 1));
    await first.transition(`${dropId}.1`, "paid", { reason: "payment_succeeded", paymentRef: "pay_1" });
    const before = await first.get(`${dropId}.1`);
    await first.close();
    await first.close();

    const second = await OrderStore.open(target);
    try {
      expect(second.appliedMigrations).toEqual([]);
      expect(await second.get(`${dropId}.1`)).toEqual(before);
      expect((await second.events(`${dropId}.1`)).map((e) => e.toStatus)).toEqual([
        "pending_payment",
        "paid",
      ]);
      expect(await second.count()).toBe(1);
    } finally {
      await second.close();
    }
    // PGlite opens three times here (WASM start-up, initdb); next to the browser tests on two
    // cores that measured 51 s against 5.5 s alone, so this is a hang guard, not a speed check.
  }, 180_000);

  it("createOrder writes one order and one created event; a retry returns it unchanged", async () => {
    const dropId = uniqueDrop("create");
    const input = newOrder(dropId, 7, { qty: 3, unitPriceMinor: 1_999, holdDeadline: 1_900_000_000_123 });
    const countBefore = await store.count();

    const first = await store.createOrder(input);
    expect(first.created).toBe(true);
    expect(first.order).toMatchObject({
      reservationId: `${dropId}.7`,
      dropId,
      userId: "user-7",
      qty: 3,
      unitPriceMinor: 1_999,
      totalMinor: 5_997,
      currency: "USD",
      status: "pending_payment",
      holdDeadline: 1_900_000_000_123,
      paymentRef: null,
      paidAt: null,
    });
    expect(first.order.createdAt).toBeGreaterThan(Date.now() - 60_000);
    expect(first.order.updatedAt).toBe(first.order.createdAt);

    const retry = await store.createOrder({ ...input, qty: 5, userId: "someone-else" });
    expect(retry).toEqual({ created: false, order: first.order });
    expect(await store.get(input.reservationId)).toEqual(first.order);
    expect(await store.count()).toBe(countBefore + 1);

    const events = await store.events(input.reservationId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ fromStatus: null, toStatus: "pending_payment", reason: "created" });
  });

  it("200 concurrent creates of one reservation make one order and one created event", async () => {
    const dropId = uniqueDrop("dup");
    const input = newOrder(dropId, 1);
    const results = await Promise.all(Array.from({ length: 200 }, () => store.createOrder(input)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const stored = await store.get(input.reservationId);
    for (const r of results) expect(r.order).toEqual(stored);
    expect(await store.list({ dropId })).toHaveLength(1);
    expect(await store.events(input.reservationId)).toHaveLength(1);
  });

  it("transitions move the order, set paid fields, and leave an audit event each", async () => {
    const dropId = uniqueDrop("flow");
    const { order } = await store.createOrder(newOrder(dropId, 1));
    await new Promise((r) => setTimeout(r, 5));

    const paid = await store.transition(order.reservationId, "paid", {
      reason: "payment_succeeded",
      paymentRef: "pay_abc",
      details: { provider: "sandbox", attempt: 1 },
    });
    expect(paid.changed).toBe(true);
    expect(paid.order).toMatchObject({ status: "paid", paymentRef: "pay_abc" });
    expect(paid.order.paidAt).toBeGreaterThan(order.createdAt);
    expect(paid.order.updatedAt).toBe(paid.order.paidAt);

    const again = await store.transition(order.reservationId, "paid", {
      reason: "duplicate webhook",
      paymentRef: "x",
    });
    expect(again).toEqual({ changed: false, order: paid.order });

    const refunded = await store.transition(order.reservationId, "refunded", {
      reason: "host_refund",
      details: { refundRef: "rf_1" },
    });
    expect(refunded.order).toMatchObject({
      status: "refunded",
      paymentRef: "pay_abc",
      paidAt: paid.order.paidAt,
    });

    const events = await store.events(order.reservationId);
    expect(events.map((e) => [e.fromStatus, e.toStatus, e.reason, e.details])).toEqual([
      [null, "pending_payment", "created", null],
      ["pending_payment", "paid", "payment_succeeded", { provider: "sandbox", attempt: 1 }],
      ["paid", "refunded", "host_refund", { refundRef: "rf_1" }],
    ]);
    expect(events[1]!.at).toBe(paid.order.paidAt);
    expect(events[0]!.id).toBeLessThan(events[1]!.id);

    for (const to of ["expired", "cancelled"] as const) {
      const { order: o } = await store.createOrder(newOrder(dropId, to === "expired" ? 2 : 3));
      const r = await store.transition(o.reservationId, to, { reason: `hold_${to}` });
      expect(r.order).toMatchObject({ status: to, paidAt: null, paymentRef: null });
    }
  });

  it("refuses transitions the state machine does not allow, writing nothing", async () => {
    const dropId = uniqueDrop("refuse");
    const { order } = await store.createOrder(newOrder(dropId, 1));
    await store.transition(order.reservationId, "expired", { reason: "hold_expired" });

    for (const to of ["paid", "cancelled", "refunded", "pending_payment"] as const) {
      let caught: unknown;
      await store.transition(order.reservationId, to, { reason: "late" }).catch((e) => {
        caught = e;
      });
      expect(isLivedropError(caught) && caught.code).toBe(ErrorCode.ORDER_STATE_CONFLICT);
      expect(isLivedropError(caught) && caught.details).toMatchObject({ from: "expired", to });
    }
    const { order: pending } = await store.createOrder(newOrder(dropId, 2));
    expect(await codeOf(store.transition(pending.reservationId, "refunded", { reason: "no" }))).toBe(
      ErrorCode.ORDER_STATE_CONFLICT,
    );
    expect(await codeOf(store.transition(`${dropId}.99`, "paid", { reason: "ghost" }))).toBe(
      ErrorCode.ORDER_NOT_FOUND,
    );
    expect((await store.get(order.reservationId))?.status).toBe("expired");
    expect(await store.events(order.reservationId)).toHaveLength(2);
    expect(await store.events(pending.reservationId)).toHaveLength(1);
  });

  it("paid and expired racing on the same orders: exactly one wins each time", async () => {
    const dropId = uniqueDrop("race");
    const ids: string[] = [];
    for (let i = 1; i <= 20; i++)
      ids.push((await store.createOrder(newOrder(dropId, i))).order.reservationId);

    await Promise.all(
      ids.map(async (id) => {
        const outcomes = await Promise.allSettled([
          store.transition(id, "paid", { reason: "payment_succeeded", paymentRef: `pay-${id}` }),
          store.transition(id, "expired", { reason: "hold_expired" }),
        ]);
        const won = outcomes.filter((o) => o.status === "fulfilled" && o.value.changed);
        const lost = outcomes.filter((o) => o.status === "rejected");
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        const reason = (lost[0] as PromiseRejectedResult).reason;
        expect(isLivedropError(reason) && reason.code).toBe(ErrorCode.ORDER_STATE_CONFLICT);
        const final = (await store.get(id))!;
        const winner = (won[0] as PromiseFulfilledResult<{ order: { status: string } }>).value.order.status;
        expect(final.status).toBe(winner);
        expect((await store.events(id)).map((e) => e.toStatus)).toEqual(["pending_payment", winner]);
      }),
    );

    // Twenty concurrent "paid" for one order: one change, the rest see it already paid.
    const { order: extra } = await store.createOrder(newOrder(dropId, 21));
    const same = await Promise.all(
      Array.from({ length: 20 }, () => store.transition(extra.reservationId, "paid", { reason: "webhook" })),
    );
    expect(same.filter((r) => r.changed)).toHaveLength(1);
    expect(await store.events(extra.reservationId)).toHaveLength(2);
  });

  it("payment attempts are recorded once per idempotency key", async () => {
    const dropId = uniqueDrop("pay");
    const { order } = await store.createOrder(newOrder(dropId, 1, { unitPriceMinor: 4_200 }));
    const declined = {
      reservationId: order.reservationId,
      idempotencyKey: `${order.reservationId}:capture:1`,
      status: "declined" as const,
      amountMinor: 4_200,
      currency: "USD",
      errorCode: "card_declined",
    };
    const first = await store.recordPaymentAttempt(declined);
    expect(first.created).toBe(true);
    expect(first.attempt).toMatchObject({ ...declined, providerRef: null });

    const concurrent = await Promise.all(
      Array.from({ length: 20 }, () => store.recordPaymentAttempt({ ...declined, status: "succeeded" })),
    );
    for (const r of concurrent) expect(r).toEqual({ created: false, attempt: first.attempt });

    const ok = await store.recordPaymentAttempt({
      reservationId: order.reservationId,
      idempotencyKey: `${order.reservationId}:capture:2`,
      status: "succeeded",
      providerRef: "pi_123",
      amountMinor: 4_200,
      currency: "USD",
    });
    expect(ok.attempt).toMatchObject({ status: "succeeded", providerRef: "pi_123", errorCode: null });
    expect(await store.paymentAttempt(order.userId, declined.idempotencyKey)).toEqual(first.attempt);
    expect(await store.paymentAttempt(order.userId, "never-used")).toBeUndefined();
    expect((await store.paymentAttempts(order.reservationId)).map((a) => a.idempotencyKey)).toEqual([
      declined.idempotencyKey,
      `${order.reservationId}:capture:2`,
    ]);

    // Keys are the payer's own: the same buyer's key on another order is a conflict.
    const { order: other } = await store.createOrder(newOrder(dropId, 2, { userId: order.userId }));
    expect(
      await codeOf(store.recordPaymentAttempt({ ...declined, reservationId: other.reservationId })),
    ).toBe(ErrorCode.IDEMPOTENCY_KEY_REUSED);
    expect(
      await codeOf(
        store.recordPaymentAttempt({ ...declined, reservationId: `${dropId}.404`, idempotencyKey: "k-404" }),
      ),
    ).toBe(ErrorCode.ORDER_NOT_FOUND);
    expect(await store.paymentAttempts(other.reservationId)).toEqual([]);
  });

  it("migration 003 carries earlier payment rows over: each capture ends succeeded, refunded, or captured for the reconciler", async () => {
    const target = await backend.freshTarget();
    const [client] = await backend.clients(target, 1);
    const db = client!;
    const all = loadMigrations();
    await migrate(db, all.slice(0, 2));
    const order = (id: string, user: string, status: string, paymentRef: string | null) =>
      db.query(
        `INSERT INTO orders (reservation_id, drop_id, room_id, user_id, sku, title, qty, unit_price_minor,
           total_minor, currency, status, hold_deadline, payment_ref, paid_at)
         VALUES ($1, 'd', 'r', $2, 'S', 'T', 1, 100, 100, 'USD', $3, now(), $4,
           CASE WHEN $3 IN ('paid', 'refunded') THEN now() END)`,
        [id, user, status, paymentRef],
      );
    const attempt = (rid: string, key: string, status: string, ref: string | null) =>
      db.query(
        `INSERT INTO payment_attempts (reservation_id, idempotency_key, status, provider_ref, amount_minor, currency)
         VALUES ($1, $2, $3, $4, 100, 'USD')`,
        [rid, key, status, ref],
      );
    await order("d.1", "u1", "expired", null);
    await attempt("d.1", "k1", "succeeded", "ch_1");
    await attempt("d.1", "refund-k1", "refunded", "ch_1");
    await order("d.2", "u2", "pending_payment", null);
    await attempt("d.2", "k2", "succeeded", "ch_2");
    await order("d.3", "u3", "paid", "ch_3b");
    await attempt("d.3", "k3a", "succeeded", "ch_3a");
    await attempt("d.3", "k3b", "succeeded", "ch_3b");
    await order("d.4", "u4", "paid", null);
    await attempt("d.4", "k4", "succeeded", "ch_4");
    await attempt("d.4", "k4-declined", "declined", null);

    expect(await migrate(db, all)).toEqual(all.slice(2).map((m) => m.name));
    const rows = await db.query<{ idempotency_key: string; status: string; refund_ref: string | null }>(
      "SELECT idempotency_key, status, refund_ref FROM payment_attempts ORDER BY id",
    );
    expect(rows.map((r) => [r.idempotency_key, r.status, r.refund_ref])).toEqual([
      ["k1", "refunded", "ch_1"],
      ["refund-k1", "refunded", null],
      ["k2", "captured", null],
      ["k3a", "captured", null],
      ["k3b", "succeeded", null],
      ["k4", "succeeded", null],
      ["k4-declined", "declined", null],
    ]);
    // Earlier rows keep the key they sent the provider; keys are now unique per payer only.
    const [kept] = await db.query<{ user_id: string; provider_key: string }>(
      "SELECT user_id, provider_key FROM payment_attempts WHERE idempotency_key = 'k2'",
    );
    expect(kept).toEqual({ user_id: "u2", provider_key: "k2" });
    await db.close();
  });

  it("idempotency keys are per payer: another buyer's same key records its own attempt", async () => {
    const dropId = uniqueDrop("paykey");
    const { order: mine } = await store.createOrder(newOrder(dropId, 1));
    const { order: theirs } = await store.createOrder(newOrder(dropId, 2));
    const attempt = (reservationId: string) => ({
      reservationId,
      idempotencyKey: "checkout-1",
      status: "started" as const,
      amountMinor: 2_500,
      currency: "USD",
    });
    const a = await store.recordPaymentAttempt(attempt(mine.reservationId));
    const b = await store.recordPaymentAttempt(attempt(theirs.reservationId));
    expect([a.created, b.created]).toEqual([true, true]);
    expect(a.attempt.userId).toBe(mine.userId);
    expect(b.attempt.userId).toBe(theirs.userId);
    // The provider gets a key of its own per payer.
    expect(a.attempt.providerKey).not.toBe(b.attempt.providerKey);
    expect((await store.paymentAttempt(theirs.userId, "checkout-1"))?.reservationId).toBe(
      theirs.reservationId,
    );
  });

  it("a payment attempt moves only forward, compare-and-set; one capture pays an order, another is refunded", async () => {
    const dropId = uniqueDrop("settle");
    const { order } = await store.createOrder(newOrder(dropId, 1));
    const record = async (key: string) =>
      (
        await store.recordPaymentAttempt({
          reservationId: order.reservationId,
          idempotencyKey: key,
          status: "started",
          amountMinor: 2_500,
          currency: "USD",
        })
      ).attempt;
    const first = await record("k1");
    const second = await record("k2");
    for (const [a, ref] of [
      [first, "ch_1"],
      [second, "ch_2"],
    ] as const) {
      const moves = await Promise.all(
        Array.from({ length: 5 }, () =>
          store.advancePaymentAttempt({ id: a.id, from: ["started"], to: "captured", providerRef: ref }),
        ),
      );
      expect(moves.filter((m) => m.changed)).toHaveLength(1);
    }
    expect(
      await codeOf(store.advancePaymentAttempt({ id: first.id, from: ["captured"], to: "started" })),
    ).toBe(ErrorCode.ORDER_STATE_CONFLICT);

    // Both captures settle at once: exactly one pays the order, the other must be refunded.
    const outcomes = await Promise.all([
      store.settlePaymentAttempt(first.id),
      store.settlePaymentAttempt(second.id),
      store.settlePaymentAttempt(first.id),
      store.settlePaymentAttempt(second.id),
    ]);
    const paidBy = new Set(outcomes.filter((o) => o.outcome === "paid").map((o) => o.attempt.id));
    expect(paidBy.size).toBe(1);
    expect(outcomes.filter((o) => o.outcome === "paid" && o.changed)).toHaveLength(1);
    const paid = await store.get(order.reservationId);
    expect(paid?.status).toBe("paid");
    const winner = (await store.paymentAttempts(order.reservationId)).find((a) => a.status === "succeeded");
    expect(paid?.paymentRef).toBe(winner?.providerRef);
    expect((await store.events(order.reservationId)).map((e) => e.toStatus)).toEqual([
      "pending_payment",
      "paid",
    ]);

    const loser = [first, second].find((a) => !paidBy.has(a.id));
    expect(await store.unfinishedPaymentAttempts({ olderThanMs: 0, limit: 10 })).toContainEqual(
      expect.objectContaining({ id: loser?.id, status: "captured" }),
    );
    await store.advancePaymentAttempt({
      id: loser?.id ?? 0,
      from: ["captured"],
      to: "refunded",
      refundRef: "re_1",
    });
    expect(
      (await store.unfinishedPaymentAttempts({ olderThanMs: 0, limit: 1_000 })).filter(
        (a) => a.reservationId === order.reservationId,
      ),
    ).toEqual([]);
    // Young attempts are left alone: they may still be in flight.
    await record("k3");
    expect(
      (await store.unfinishedPaymentAttempts({ olderThanMs: 600_000, limit: 1_000 })).filter(
        (a) => a.reservationId === order.reservationId,
      ),
    ).toEqual([]);
  });

  it("list filters by drop, room, user and status, newest first, with a limit; existing() finds ids", async () => {
    const dropA = uniqueDrop("listA");
    const dropB = uniqueDrop("listB");
    const room = uniqueDrop("room");
    const created: string[] = [];
    for (let i = 1; i <= 4; i++) {
      const { order } = await store.createOrder(
        newOrder(i <= 3 ? dropA : dropB, i, { roomId: room, userId: i % 2 ? `odd-${room}` : `even-${room}` }),
      );
      created.push(order.reservationId);
      await new Promise((r) => setTimeout(r, 3));
    }
    await store.transition(created[0]!, "paid", { reason: "payment_succeeded" });

    const ids = (orders: { reservationId: string }[]) => orders.map((o) => o.reservationId);
    expect(ids(await store.list({ dropId: dropA }))).toEqual([created[2], created[1], created[0]]);
    expect(ids(await store.list({ roomId: room }))).toEqual([...created].reverse());
    expect(ids(await store.list({ roomId: room, limit: 2 }))).toEqual([created[3], created[2]]);
    expect(ids(await store.list({ userId: `odd-${room}` }))).toEqual([created[2], created[0]]);
    expect(ids(await store.list({ dropId: dropA, status: "paid" }))).toEqual([created[0]]);
    expect(
      ids(await store.list({ dropId: dropA, status: "pending_payment", userId: `even-${room}` })),
    ).toEqual([created[1]]);
    expect(await store.list({ dropId: uniqueDrop("empty") })).toEqual([]);
    expect((await store.list({ limit: 3 })).length).toBe(3);

    const missing = Array.from({ length: 4_996 }, (_, i) => `${dropA}.${1_000 + i}`);
    const found = await store.existing([...missing, ...created]);
    expect([...found].sort()).toEqual([...created].sort());
    expect(await store.existing([])).toEqual(new Set());
  });

  it("dropSummary and roomTotals add up a small fixture in SQL", async () => {
    const room = uniqueDrop("sumroom");
    const drop1 = uniqueDrop("sum1");
    const drop2 = uniqueDrop("sum2");
    const fixture: [
      string,
      number,
      number,
      number,
      string,
      "paid" | "expired" | "cancelled" | "refunded" | null,
    ][] = [
      // drop, seq, qty, unit price, currency, final status (null: still pending)
      [drop1, 1, 2, 1_000, "USD", "paid"],
      [drop1, 2, 1, 1_000, "USD", "paid"],
      [drop1, 3, 3, 1_000, "USD", "expired"],
      [drop1, 4, 1, 1_000, "USD", "cancelled"],
      [drop1, 5, 2, 1_000, "USD", "refunded"],
      [drop1, 6, 4, 1_000, "USD", null],
      [drop2, 1, 5, 700, "EUR", "paid"],
      [drop2, 2, 1, 700, "EUR", null],
    ];
    for (const [dropId, seq, qty, unitPriceMinor, currency, status] of fixture) {
      const { order } = await store.createOrder(
        newOrder(dropId, seq, { roomId: room, qty, unitPriceMinor, currency }),
      );
      if (status === "paid" || status === "refunded")
        await store.transition(order.reservationId, "paid", { reason: "payment_succeeded" });
      if (status === "refunded")
        await store.transition(order.reservationId, "refunded", { reason: "refund" });
      if (status === "expired" || status === "cancelled")
        await store.transition(order.reservationId, status, { reason: status });
    }

    expect(await store.dropSummary(drop1)).toEqual({
      dropId: drop1,
      orders: 6,
      paidOrders: 2,
      unitsSold: 3,
      gmvMinor: 3_000,
      netGmvMinor: 3_000,
      couponCostMinor: 0,
      currency: "USD",
      heldUnits: 4,
      expiredUnits: 3,
      cancelledUnits: 1,
      refundedUnits: 2,
      conversion: 2 / 5,
    });
    expect(await store.dropSummary(drop2)).toMatchObject({
      orders: 2,
      paidOrders: 1,
      gmvMinor: 3_500,
      conversion: 1,
    });
    const empty = uniqueDrop("nosales");
    expect(await store.dropSummary(empty)).toEqual({
      dropId: empty,
      orders: 0,
      paidOrders: 0,
      unitsSold: 0,
      gmvMinor: 0,
      netGmvMinor: 0,
      couponCostMinor: 0,
      currency: null,
      heldUnits: 0,
      expiredUnits: 0,
      cancelledUnits: 0,
      refundedUnits: 0,
      conversion: null,
    });

    expect(await store.roomTotals(room)).toEqual({
      roomId: room,
      drops: 2,
      orders: 8,
      paidOrders: 3,
      unitsSold: 8,
      gmv: [
        { currency: "EUR", minor: 3_500 },
        { currency: "USD", minor: 3_000 },
      ],
      netGmv: [
        { currency: "EUR", minor: 3_500 },
        { currency: "USD", minor: 3_000 },
      ],
      couponCost: [
        { currency: "EUR", minor: 0 },
        { currency: "USD", minor: 0 },
      ],
    });
    expect(await store.roomTotals(uniqueDrop("noroom"))).toMatchObject({ drops: 0, orders: 0, gmv: [] });
  });

  it("keeps money exact up to the largest order (1,000 x 1e12 minor units)", async () => {
    const dropId = uniqueDrop("big");
    const { order } = await store.createOrder(
      newOrder(dropId, 1, { qty: 1_000, unitPriceMinor: 1_000_000_000_000 }),
    );
    expect(order.totalMinor).toBe(1_000_000_000_000_000);
    await store.transition(order.reservationId, "paid", { reason: "payment_succeeded" });
    expect((await store.dropSummary(dropId)).gmvMinor).toBe(1_000_000_000_000_000);
  });

  it("rejects bad input with ValidationError and writes nothing", async () => {
    const dropId = uniqueDrop("bad");
    const good = newOrder(dropId, 1);
    const countBefore = await store.count();
    const bad: Partial<Record<keyof NewOrder, unknown>>[] = [
      { reservationId: "no-sequence" },
      { reservationId: `${dropId}.0` },
      { userId: "has space" },
      { dropId: "x".repeat(65) },
      { roomId: "room/1" },
      { qty: 0 },
      { qty: 1_001 },
      { qty: 1.5 },
      { unitPriceMinor: -1 },
      { unitPriceMinor: 10.5 },
      { currency: "usd" },
      { title: "" },
      { title: "t".repeat(201) },
      { holdDeadline: -1 },
    ];
    for (const patch of bad) {
      const err = await store.createOrder({ ...good, ...patch } as NewOrder).catch((e: unknown) => e);
      expect(err, JSON.stringify(patch)).toBeInstanceOf(ValidationError);
    }
    await expect(store.createOrder({ ...good, extra: 1 } as NewOrder)).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(await store.count()).toBe(countBefore);
    expect(await store.get(good.reservationId)).toBeUndefined();

    const { order } = await store.createOrder(good);
    const badTransitions = [
      () => store.transition(order.reservationId, "shipped" as "paid", { reason: "x" }),
      () => store.transition(order.reservationId, "paid", { reason: "" }),
      () => store.transition(order.reservationId, "expired", { reason: "x", paymentRef: "only-for-paid" }),
      () => store.transition("bad id", "paid", { reason: "x" }),
    ];
    for (const call of badTransitions) await expect(call()).rejects.toBeInstanceOf(ValidationError);
    expect(await store.events(order.reservationId)).toHaveLength(1);
    expect((await store.get(order.reservationId))?.status).toBe("pending_payment");

    await expect(store.list({ limit: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(store.list({ limit: 501 })).rejects.toBeInstanceOf(ValidationError);
    await expect(store.list({ status: "gone" as "paid" })).rejects.toBeInstanceOf(ValidationError);
    await expect(store.existing(["ok.1", "not ok"])).rejects.toBeInstanceOf(ValidationError);
    await expect(store.dropSummary("a b")).rejects.toBeInstanceOf(ValidationError);
    await expect(
      store.recordPaymentAttempt({
        reservationId: order.reservationId,
        idempotencyKey: "k bad",
        status: "succeeded",
        amountMinor: 1,
        currency: "USD",
      }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      store.recordPaymentAttempt({
        reservationId: order.reservationId,
        idempotencyKey: "k-ok",
        status: "pending" as "succeeded",
        amountMinor: 1,
        currency: "USD",
      }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(await store.paymentAttempts(order.reservationId)).toEqual([]);
  });
});
