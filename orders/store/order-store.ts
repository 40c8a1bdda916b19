import { createHash } from "node:crypto";
import { z } from "zod";
import { ConflictError, ErrorCode, NotFoundError, validate } from "../../core/index.ts";
import {
  type AuditEntry,
  type AuditLogQuery,
  couponIdSchema,
  type DropFormat,
  dropIdSchema,
  reservationIdSchema,
  roomIdSchema,
  userIdSchema,
} from "../../protocol/index.ts";
import { appendAudit, listAudit, type NewAuditEntry } from "./audit-log.ts";
import { migrate } from "./migrate.ts";
import { PgClient } from "./pg-client.ts";
import { PgliteClient } from "./pglite-client.ts";
import type { SqlClient } from "./sql-client.ts";
import {
  type AttemptAdvance,
  attemptAdvanceSchema,
  type DropPage,
  type DropSummary,
  dropPageSchema,
  idempotencyKeySchema,
  type NewOrder,
  type NewPaymentAttempt,
  newOrderSchema,
  newPaymentAttemptSchema,
  ORDER_TRANSITIONS,
  type Order,
  type OrderCoupon,
  type OrderEvent,
  type OrderFilter,
  type OrderStatus,
  orderCouponSchema,
  orderFilterSchema,
  PAYMENT_ATTEMPT_MOVES,
  type PaymentAttempt,
  type PaymentAttemptStatus,
  type RoomTotals,
  reservationIdListSchema,
  type SettleOutcome,
  type StoreTarget,
  type TransitionOptions,
  transitionSchema,
  type UnfinishedScan,
  unfinishedScanSchema,
} from "./types.ts";

/** Drivers return int8/numeric as string (pg), number (PGlite) or bigint; the store converts. */
type Num = number | string | bigint;

/** Timestamps leave SQL as whole ms since the epoch, the same on both drivers. */
const ms = (column: string) => `floor(extract(epoch FROM ${column}) * 1000)::int8`;

const ORDER_COLUMNS = `reservation_id, drop_id, room_id, user_id, sku, title, qty, unit_price_minor,
  total_minor, currency, status, format, coupon_id, discount_minor, paid_minor,
  ${ms("hold_deadline")} AS hold_deadline_ms, payment_ref,
  ${ms("created_at")} AS created_at_ms, ${ms("updated_at")} AS updated_at_ms, ${ms("paid_at")} AS paid_at_ms`;

const EVENT_COLUMNS = `id, reservation_id, from_status, to_status, reason, details, ${ms("at")} AS at_ms`;

const ATTEMPT_COLUMNS = `id, reservation_id, user_id, idempotency_key, provider_key, status, provider_ref,
  refund_ref, amount_minor, currency, error_code, ${ms("created_at")} AS created_at_ms,
  ${ms("updated_at")} AS updated_at_ms, ${ms("checked_at")} AS checked_at_ms`;

interface OrderRow {
  reservation_id: string;
  drop_id: string;
  room_id: string;
  user_id: string;
  sku: string;
  title: string;
  qty: Num;
  unit_price_minor: Num;
  total_minor: Num;
  currency: string;
  status: OrderStatus;
  format: DropFormat;
  coupon_id: string | null;
  discount_minor: Num;
  paid_minor: Num;
  hold_deadline_ms: Num;
  payment_ref: string | null;
  created_at_ms: Num;
  updated_at_ms: Num;
  paid_at_ms: Num | null;
}

interface EventRow {
  id: Num;
  reservation_id: string;
  from_status: OrderStatus | null;
  to_status: OrderStatus;
  reason: string;
  details: Record<string, unknown> | null;
  at_ms: Num;
}

interface AttemptRow {
  id: Num;
  reservation_id: string;
  user_id: string;
  idempotency_key: string;
  provider_key: string;
  status: PaymentAttemptStatus;
  provider_ref: string | null;
  refund_ref: string | null;
  amount_minor: Num;
  currency: string;
  error_code: string | null;
  created_at_ms: Num;
  updated_at_ms: Num;
  checked_at_ms: Num | null;
}

const targetSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("pg"),
    url: z.string().regex(/^postgres(ql)?:\/\//, "postgres://..."),
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, "lower-case SQL identifier")
      .optional(),
  }),
  z.strictObject({
    kind: z.literal("pglite"),
    dataDir: z.string().min(1),
    sharedBuffersMB: z.number().int().min(1).max(1024).optional(),
  }),
]);

/**
 * The order store. Guarantees:
 * - exactly once: one order per reservation id (primary key), whatever retries or races;
 * - every status change, the creation included, is written with its order_events row in one
 *   transaction, and changes are race-safe (the row is locked with SELECT ... FOR UPDATE);
 * - payment attempts are recorded once per payer and idempotency key, and move only forward
 *   (PAYMENT_ATTEMPT_MOVES, compare-and-set); at most one capture pays an order;
 * - every input is validated first: a ValidationError means nothing was written.
 */
export class OrderStore {
  readonly kind: StoreTarget["kind"];
  /** Migrations this open applied (empty when the schema was already current). */
  readonly appliedMigrations: readonly string[];
  private readonly db: SqlClient;
  private closing: Promise<void> | undefined;

  /**
   * Runs a read-only report (orders/reports/: queries over the reporting views) on this store's
   * SQL client. A method, not a getter, so stores that forward calls (the lazy shadow store) pass it on.
   */
  report<T>(query: (db: SqlClient) => Promise<T>): Promise<T> {
    return query(this.db);
  }

  private constructor(kind: StoreTarget["kind"], db: SqlClient, appliedMigrations: readonly string[]) {
    this.kind = kind;
    this.db = db;
    this.appliedMigrations = appliedMigrations;
  }

  /** Connects (pg) or opens the data directory (PGlite), then brings the schema up to date. */
  static async open(target: StoreTarget): Promise<OrderStore> {
    const t = validate(targetSchema, target, "order store target");
    const db =
      t.kind === "pg"
        ? await PgClient.open(t.url, { schema: t.schema })
        : await PgliteClient.open(t.dataDir, t.sharedBuffersMB);
    try {
      return new OrderStore(t.kind, db, await migrate(db));
    } catch (err) {
      await db.close().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Writes the order for a reservation, status pending_payment, plus its `created` event.
   * A second call for the same reservation changes nothing and returns the stored order.
   */
  async createOrder(o: NewOrder): Promise<{ created: boolean; order: Order }> {
    const n = validate(newOrderSchema, o, "order");
    // One statement, so one round trip and atomic without an explicit transaction: the order
    // row and its `created` event are written together or not at all.
    const [inserted] = await this.db.query<OrderRow>(
      `WITH inserted AS (
         INSERT INTO orders (reservation_id, drop_id, room_id, user_id, sku, title, qty, unit_price_minor,
           total_minor, currency, status, hold_deadline, format)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending_payment', $11::timestamptz, $12)
         ON CONFLICT (reservation_id) DO NOTHING
         RETURNING *
       ), created_event AS (
         INSERT INTO order_events (reservation_id, from_status, to_status, reason)
         SELECT reservation_id, NULL, 'pending_payment', 'created' FROM inserted
       )
       SELECT ${ORDER_COLUMNS} FROM inserted`,
      [
        n.reservationId,
        n.dropId,
        n.roomId,
        n.userId,
        n.sku,
        n.title,
        n.qty,
        n.unitPriceMinor,
        n.qty * n.unitPriceMinor,
        n.currency,
        new Date(n.holdDeadline).toISOString(),
        n.format,
      ],
    );
    if (inserted) return { created: true, order: toOrder(inserted) };
    // Lost the race or a retry: the winner has committed (ON CONFLICT waited for it).
    return { created: false, order: await mustSelectOrder(this.db, n.reservationId) };
  }

  /**
   * Moves an order to `to` and records the event. Already in `to`: `changed: false`, nothing
   * written. Not an allowed move (see ORDER_TRANSITIONS): ConflictError ORDER_STATE_CONFLICT
   * with details {from, to}. Unknown reservation: NotFoundError ORDER_NOT_FOUND.
   */
  async transition(
    reservationId: string,
    to: OrderStatus,
    opts: TransitionOptions,
  ): Promise<{ changed: boolean; order: Order }> {
    const t = validate(transitionSchema, { ...opts, reservationId, to }, "transition");
    return this.db.transaction(async (tx) => {
      // The row lock makes concurrent transitions of one order queue up; each then sees the
      // status the previous one committed.
      const [row] = await tx.query<{ status: OrderStatus }>(
        "SELECT status FROM orders WHERE reservation_id = $1 FOR UPDATE",
        [t.reservationId],
      );
      if (!row) throw orderNotFound(t.reservationId);
      const from = row.status;
      if (from === t.to) return { changed: false, order: await mustSelectOrder(tx, t.reservationId) };
      if (!ORDER_TRANSITIONS[from].includes(t.to))
        throw new ConflictError(
          ErrorCode.ORDER_STATE_CONFLICT,
          `order ${t.reservationId} is ${from} and cannot become ${t.to}`,
          { reservationId: t.reservationId, from, to: t.to },
        );
      const [updated] = await tx.query<OrderRow>(
        `UPDATE orders SET status = $2, updated_at = now(),
           paid_at = CASE WHEN $2 = 'paid' THEN now() ELSE paid_at END,
           payment_ref = CASE WHEN $2 = 'paid' THEN $3 ELSE payment_ref END
         WHERE reservation_id = $1 AND status = $4
         RETURNING ${ORDER_COLUMNS}`,
        [t.reservationId, t.to, t.paymentRef ?? null, from],
      );
      if (!updated) throw new Error(`order ${t.reservationId} changed under a row lock`);
      await insertEvent(tx, t.reservationId, from, t.to, t.reason, t.details);
      return { changed: true, order: toOrder(updated) };
    });
  }

  /**
   * Records the coupon of an unpaid order and its discount (at most the list total), before its
   * capture: the capture then takes paid_minor. Again with the same coupon: replaces the discount.
   * Refused (COUPON_NOT_APPLICABLE) while the order carries another coupon or a capture of it is
   * taken; ORDER_STATE_CONFLICT when the order is no longer pending payment.
   */
  async applyCoupon(c: OrderCoupon): Promise<Order> {
    const p = validate(orderCouponSchema, c, "order coupon");
    const [row] = await this.db.query<OrderRow>(
      `UPDATE orders SET coupon_id = $2, discount_minor = least($3::int8, total_minor), updated_at = now()
       WHERE reservation_id = $1 AND status = 'pending_payment' AND (coupon_id IS NULL OR coupon_id = $2)
         AND NOT EXISTS (SELECT 1 FROM payment_attempts a WHERE a.reservation_id = $1
                         AND a.status IN ('captured', 'succeeded'))
       RETURNING ${ORDER_COLUMNS}`,
      [p.reservationId, p.couponId, p.discountMinor],
    );
    if (row) return toOrder(row);
    const order = await mustSelectOrder(this.db, p.reservationId);
    if (order.status !== "pending_payment")
      throw new ConflictError(ErrorCode.ORDER_STATE_CONFLICT, `order ${p.reservationId} is ${order.status}`, {
        reservationId: p.reservationId,
        from: order.status,
      });
    throw new ConflictError(
      ErrorCode.COUPON_NOT_APPLICABLE,
      "the order carries another coupon or is being paid already",
      { reservationId: p.reservationId, couponId: order.couponId },
    );
  }

  /** Takes a coupon off an unpaid order (its claim was given back); no-op otherwise. */
  async clearCoupon(reservationId: string, couponId: string): Promise<Order | undefined> {
    const id = validate(reservationIdSchema, reservationId, "reservation id");
    const coupon = validate(couponIdSchema, couponId, "coupon id");
    const [row] = await this.db.query<OrderRow>(
      `UPDATE orders SET coupon_id = NULL, discount_minor = 0, updated_at = now()
       WHERE reservation_id = $1 AND coupon_id = $2 AND status = 'pending_payment'
       RETURNING ${ORDER_COLUMNS}`,
      [id, coupon],
    );
    return row ? toOrder(row) : this.get(id);
  }

  async get(reservationId: string): Promise<Order | undefined> {
    const id = validate(reservationIdSchema, reservationId, "reservation id");
    const [row] = await this.db.query<OrderRow>(
      `SELECT ${ORDER_COLUMNS} FROM orders WHERE reservation_id = $1`,
      [id],
    );
    return row ? toOrder(row) : undefined;
  }

  /** The order's status changes, oldest first (empty for an unknown reservation). */
  async events(reservationId: string): Promise<OrderEvent[]> {
    const id = validate(reservationIdSchema, reservationId, "reservation id");
    const rows = await this.db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM order_events WHERE reservation_id = $1 ORDER BY id`,
      [id],
    );
    return rows.map(toEvent);
  }

  /** Orders matching every given filter, newest first; `limit` 1..500, default 50. */
  async list(filter: OrderFilter = {}): Promise<Order[]> {
    const f = validate(orderFilterSchema, filter, "order filter");
    const where: string[] = [];
    const params: unknown[] = [];
    const columns = [
      ["drop_id", f.dropId],
      ["room_id", f.roomId],
      ["user_id", f.userId],
      ["status", f.status],
    ] as const;
    for (const [column, value] of columns) {
      if (value === undefined) continue;
      params.push(value);
      where.push(`${column} = $${params.length}`);
    }
    params.push(f.limit);
    const rows = await this.db.query<OrderRow>(
      `SELECT ${ORDER_COLUMNS} FROM orders ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY created_at DESC, reservation_id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toOrder);
  }

  /**
   * One page of a drop's orders in reservation-id order, those after `after` (keyset paging: a
   * full audit of a drop reads every order exactly once, however many arrive meanwhile).
   */
  async dropPage(page: DropPage): Promise<Order[]> {
    const p = validate(dropPageSchema, page, "drop page");
    const params: unknown[] = [p.dropId, p.limit];
    if (p.after !== undefined) params.push(p.after);
    const rows = await this.db.query<OrderRow>(
      `SELECT ${ORDER_COLUMNS} FROM orders WHERE drop_id = $1 ${p.after !== undefined ? "AND reservation_id > $3" : ""}
       ORDER BY reservation_id LIMIT $2`,
      params,
    );
    return rows.map(toOrder);
  }

  /** Which of these reservations have an order (for the reconciler; up to 10,000 ids a call). */
  async existing(reservationIds: readonly string[]): Promise<Set<string>> {
    const ids = [...new Set(validate(reservationIdListSchema, reservationIds, "reservation ids"))];
    if (ids.length === 0) return new Set();
    const rows = await this.db.query<{ reservation_id: string }>(
      "SELECT reservation_id FROM orders WHERE reservation_id = ANY($1::text[])",
      [ids],
    );
    return new Set(rows.map((r) => r.reservation_id));
  }

  /** When each order of a drop was written, ms (for hold-to-order latency measurements). */
  async createdAt(dropId: string): Promise<Map<string, number>> {
    const id = validate(dropIdSchema, dropId, "drop id");
    const rows = await this.db.query<{ reservation_id: string; ms: Num }>(
      "SELECT reservation_id, (extract(epoch FROM created_at) * 1000)::bigint AS ms FROM orders WHERE drop_id = $1",
      [id],
    );
    return new Map(rows.map((r) => [r.reservation_id, Number(r.ms)]));
  }

  /** Orders of a drop whose creation was recorded more than once (must stay 0: exactly once). */
  async duplicateCreations(dropId: string): Promise<number> {
    const id = validate(dropIdSchema, dropId, "drop id");
    const [row] = await this.db.query<{ n: Num }>(
      `SELECT count(*) AS n FROM (
         SELECT e.reservation_id FROM order_events e JOIN orders o USING (reservation_id)
         WHERE o.drop_id = $1 AND e.from_status IS NULL GROUP BY e.reservation_id HAVING count(*) > 1
       ) d`,
      [id],
    );
    return Number(row?.n ?? 0);
  }

  /** A trivial query: is the database there and answering (readiness checks). */
  async ping(): Promise<void> {
    await this.db.query("SELECT 1");
  }

  async count(): Promise<number> {
    const [row] = await this.db.query<{ n: Num }>("SELECT count(*) AS n FROM orders");
    return Number(row?.n ?? 0);
  }

  /**
   * Records one payment attempt of the order's buyer. The idempotency key is unique per payer: a
   * retry returns the row stored first (`created: false`). The payer's key reused for another
   * reservation is ConflictError IDEMPOTENCY_KEY_REUSED; an unknown reservation is NotFoundError
   * ORDER_NOT_FOUND.
   */
  async recordPaymentAttempt(a: NewPaymentAttempt): Promise<{ created: boolean; attempt: PaymentAttempt }> {
    const p = validate(newPaymentAttemptSchema, a, "payment attempt");
    const [order] = await this.db.query<{ user_id: string }>(
      "SELECT user_id FROM orders WHERE reservation_id = $1",
      [p.reservationId],
    );
    if (!order) throw orderNotFound(p.reservationId);
    const [inserted] = await this.db.query<AttemptRow>(
      `INSERT INTO payment_attempts (reservation_id, user_id, idempotency_key, provider_key, status, provider_ref,
         amount_minor, currency, error_code)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (user_id, idempotency_key) DO NOTHING
       RETURNING ${ATTEMPT_COLUMNS}`,
      [
        p.reservationId,
        order.user_id,
        p.idempotencyKey,
        providerKeyOf(order.user_id, p.idempotencyKey),
        p.status,
        p.providerRef ?? null,
        p.amountMinor,
        p.currency,
        p.errorCode ?? null,
      ],
    );
    if (inserted) return { created: true, attempt: toAttempt(inserted) };
    const existing = await this.paymentAttempt(order.user_id, p.idempotencyKey);
    if (!existing) throw new Error(`payment attempt ${p.idempotencyKey} vanished after a conflict`);
    if (existing.reservationId !== p.reservationId)
      throw new ConflictError(
        ErrorCode.IDEMPOTENCY_KEY_REUSED,
        `idempotency key ${p.idempotencyKey} was used for reservation ${existing.reservationId}`,
        { idempotencyKey: p.idempotencyKey, reservationId: existing.reservationId },
      );
    return { created: false, attempt: existing };
  }

  /** The payer's attempt under an idempotency key. */
  async paymentAttempt(userId: string, idempotencyKey: string): Promise<PaymentAttempt | undefined> {
    const user = validate(userIdSchema, userId, "user id");
    const key = validate(idempotencyKeySchema, idempotencyKey, "idempotency key");
    const [row] = await this.db.query<AttemptRow>(
      `SELECT ${ATTEMPT_COLUMNS} FROM payment_attempts WHERE user_id = $1 AND idempotency_key = $2`,
      [user, key],
    );
    return row ? toAttempt(row) : undefined;
  }

  /** Attempts for one reservation, oldest first. */
  async paymentAttempts(reservationId: string): Promise<PaymentAttempt[]> {
    const id = validate(reservationIdSchema, reservationId, "reservation id");
    const rows = await this.db.query<AttemptRow>(
      `SELECT ${ATTEMPT_COLUMNS} FROM payment_attempts WHERE reservation_id = $1 ORDER BY id`,
      [id],
    );
    return rows.map(toAttempt);
  }

  /**
   * Moves an attempt to its next step if it is in one of `from` (compare-and-set, so racing
   * checkouts and reconcilers each see the step the other committed). `changed: false` returns
   * the attempt as it is. A move PAYMENT_ATTEMPT_MOVES does not allow is ConflictError
   * ORDER_STATE_CONFLICT; an unknown id is NotFoundError ORDER_NOT_FOUND.
   */
  async advancePaymentAttempt(a: AttemptAdvance): Promise<{ changed: boolean; attempt: PaymentAttempt }> {
    const p = validate(attemptAdvanceSchema, a, "payment attempt step");
    const bad = p.from.find((from) => !PAYMENT_ATTEMPT_MOVES[from].includes(p.to) && from !== p.to);
    if (bad)
      throw new ConflictError(
        ErrorCode.ORDER_STATE_CONFLICT,
        `a ${bad} payment attempt cannot become ${p.to}`,
        {
          from: bad,
          to: p.to,
        },
      );
    const [row] = await this.db.query<AttemptRow>(
      `UPDATE payment_attempts SET status = $2, updated_at = now(),
         provider_ref = coalesce($4, provider_ref), refund_ref = coalesce($5, refund_ref),
         error_code = coalesce($6, error_code), checked_at = CASE WHEN $7 THEN now() ELSE checked_at END
       WHERE id = $1 AND status = ANY($3::text[])
       RETURNING ${ATTEMPT_COLUMNS}`,
      [
        p.id,
        p.to,
        p.from,
        p.providerRef ?? null,
        p.refundRef ?? null,
        p.errorCode ?? null,
        p.checked === true,
      ],
    );
    if (row) return { changed: true, attempt: toAttempt(row) };
    return { changed: false, attempt: await mustSelectAttempt(this.db, p.id) };
  }

  /**
   * Settles a captured attempt whose hold the sale engine confirmed, in one transaction with the
   * order row locked: the attempt becomes `succeeded` and the order `paid` (with the capture's
   * reference) — unless another capture already pays the order or the order is no longer
   * payable, then the outcome is `refund`. Idempotent: a succeeded attempt settles as paid again.
   */
  async settlePaymentAttempt(attemptId: number): Promise<SettleOutcome> {
    const id = validate(attemptAdvanceSchema.shape.id, attemptId, "payment attempt id");
    return this.db.transaction(async (tx) => {
      const first = await mustSelectAttempt(tx, id);
      const [locked] = await tx.query<{ status: OrderStatus }>(
        "SELECT status FROM orders WHERE reservation_id = $1 FOR UPDATE",
        [first.reservationId],
      );
      if (!locked) throw orderNotFound(first.reservationId);
      // Read again under the order lock: every settlement of this order queues on it.
      const attempt = await mustSelectAttempt(tx, id);
      let order = await mustSelectOrder(tx, attempt.reservationId);
      if (attempt.status === "succeeded") return { outcome: "paid", order, changed: false, attempt };
      if (attempt.status !== "captured")
        throw new ConflictError(
          ErrorCode.ORDER_STATE_CONFLICT,
          `only a captured payment attempt settles; this one is ${attempt.status}`,
          { from: attempt.status, to: "succeeded" },
        );
      const [other] = await tx.query<{ id: Num }>(
        "SELECT id FROM payment_attempts WHERE reservation_id = $1 AND status = 'succeeded'",
        [attempt.reservationId],
      );
      if (other || (order.status !== "pending_payment" && order.status !== "paid"))
        return { outcome: "refund", order, attempt };
      const [settled] = await tx.query<AttemptRow>(
        `UPDATE payment_attempts SET status = 'succeeded', updated_at = now() WHERE id = $1
         RETURNING ${ATTEMPT_COLUMNS}`,
        [id],
      );
      if (!settled) throw new Error(`payment attempt ${id} vanished under a row lock`);
      let changed = false;
      if (order.status === "pending_payment") {
        const [paid] = await tx.query<OrderRow>(
          `UPDATE orders SET status = 'paid', updated_at = now(), paid_at = now(), payment_ref = $2
           WHERE reservation_id = $1 RETURNING ${ORDER_COLUMNS}`,
          [order.reservationId, attempt.providerRef],
        );
        if (!paid) throw new Error(`order ${order.reservationId} vanished under a row lock`);
        await insertEvent(tx, order.reservationId, "pending_payment", "paid", "payment captured", {
          paymentAttempt: id,
        });
        order = toOrder(paid);
        changed = true;
      } else if (order.paymentRef === null) {
        // Paid by the pipeline (the sale engine's confirm event) before this settlement ran.
        const [withRef] = await tx.query<OrderRow>(
          `UPDATE orders SET payment_ref = $2 WHERE reservation_id = $1 RETURNING ${ORDER_COLUMNS}`,
          [order.reservationId, attempt.providerRef],
        );
        if (withRef) order = toOrder(withRef);
      }
      return { outcome: "paid", order, changed, attempt: toAttempt(settled) };
    });
  }

  /**
   * Attempts a crash may have left unfinished — `started`, `captured`, or a `timeout` the
   * provider was never asked about — whose last step is at least `olderThanMs` old, oldest first.
   */
  async unfinishedPaymentAttempts(scan: UnfinishedScan): Promise<PaymentAttempt[]> {
    const s = validate(unfinishedScanSchema, scan, "unfinished payment attempt scan");
    const rows = await this.db.query<AttemptRow>(
      `SELECT ${ATTEMPT_COLUMNS} FROM payment_attempts
       WHERE (status IN ('started', 'captured') OR (status = 'timeout' AND checked_at IS NULL))
         AND updated_at <= now() - ($1::float8 * interval '1 millisecond')
       ORDER BY updated_at, id LIMIT $2`,
      [s.olderThanMs, s.limit],
    );
    return rows.map(toAttempt);
  }

  /** Sales figures of one drop, computed by the database in one statement. */
  async dropSummary(dropId: string): Promise<DropSummary> {
    const id = validate(dropIdSchema, dropId, "drop id");
    const units = (status: OrderStatus) => `coalesce(sum(qty) FILTER (WHERE status = '${status}'), 0)`;
    const [r] = await this.db.query<Record<string, Num | string | null>>(
      `SELECT count(*) AS orders,
         count(*) FILTER (WHERE status = 'paid') AS paid_orders,
         count(*) FILTER (WHERE status <> 'pending_payment') AS settled_orders,
         ${units("paid")} AS units_sold,
         coalesce(sum(total_minor) FILTER (WHERE status = 'paid'), 0) AS gmv_minor,
         coalesce(sum(paid_minor) FILTER (WHERE status = 'paid'), 0) AS net_gmv_minor,
         coalesce(sum(discount_minor) FILTER (WHERE status = 'paid'), 0) AS coupon_cost_minor,
         min(currency) AS currency,
         ${units("pending_payment")} AS held_units,
         ${units("expired")} AS expired_units,
         ${units("cancelled")} AS cancelled_units,
         ${units("refunded")} AS refunded_units
       FROM orders WHERE drop_id = $1`,
      [id],
    );
    if (!r) throw new Error("aggregate query returned no row");
    const paidOrders = Number(r.paid_orders);
    const settled = Number(r.settled_orders);
    return {
      dropId: id,
      orders: Number(r.orders),
      paidOrders,
      unitsSold: Number(r.units_sold),
      gmvMinor: Number(r.gmv_minor),
      netGmvMinor: Number(r.net_gmv_minor),
      couponCostMinor: Number(r.coupon_cost_minor),
      currency: r.currency === null ? null : String(r.currency),
      heldUnits: Number(r.held_units),
      expiredUnits: Number(r.expired_units),
      cancelledUnits: Number(r.cancelled_units),
      refundedUnits: Number(r.refunded_units),
      conversion: settled === 0 ? null : paidOrders / settled,
    };
  }

  /** Totals of one room over all its drops; GMV per currency. One statement, one snapshot. */
  async roomTotals(roomId: string): Promise<RoomTotals> {
    const id = validate(roomIdSchema, roomId, "room id");
    const [r] = await this.db.query<{
      drops: Num;
      orders: Num;
      paid_orders: Num;
      units_sold: Num;
      gmv: { currency: string; minor: string; net: string; cost: string }[];
    }>(
      `WITH room AS (SELECT drop_id, qty, total_minor, paid_minor, discount_minor, currency, status
                     FROM orders WHERE room_id = $1)
       SELECT (SELECT count(DISTINCT drop_id) FROM room) AS drops,
         (SELECT count(*) FROM room) AS orders,
         (SELECT count(*) FROM room WHERE status = 'paid') AS paid_orders,
         (SELECT coalesce(sum(qty), 0) FROM room WHERE status = 'paid') AS units_sold,
         (SELECT coalesce(json_agg(json_build_object('currency', currency, 'minor', minor::text,
                   'net', net::text, 'cost', cost::text) ORDER BY currency), '[]'::json)
            FROM (SELECT currency, sum(total_minor) AS minor, sum(paid_minor) AS net,
                    sum(discount_minor) AS cost
                  FROM room WHERE status = 'paid' GROUP BY currency) g) AS gmv`,
      [id],
    );
    if (!r) throw new Error("aggregate query returned no row");
    return {
      roomId: id,
      drops: Number(r.drops),
      orders: Number(r.orders),
      paidOrders: Number(r.paid_orders),
      unitsSold: Number(r.units_sold),
      gmv: r.gmv.map((g) => ({ currency: g.currency, minor: Number(g.minor) })),
      netGmv: r.gmv.map((g) => ({ currency: g.currency, minor: Number(g.net) })),
      couponCost: r.gmv.map((g) => ({ currency: g.currency, minor: Number(g.cost) })),
    };
  }

  /** Appends one audit row; the database refuses any change to it afterwards (migration 004). */
  appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    return appendAudit(this.db, entry);
  }

  /** Audit entries matching every given filter, newest first (see auditLogQuerySchema). */
  audit(query: Partial<AuditLogQuery> = {}): Promise<AuditEntry[]> {
    return listAudit(this.db, query);
  }

  /** Every order and payment attempt of one buyer, oldest first (a privacy export). */
  async userRecords(userId: string): Promise<{ orders: Order[]; paymentAttempts: PaymentAttempt[] }> {
    const id = validate(userIdSchema, userId, "user id");
    const [orders, attempts] = await Promise.all([
      this.db.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE user_id = $1 ORDER BY created_at`, [
        id,
      ]),
      this.db.query<AttemptRow>(
        `SELECT ${ATTEMPT_COLUMNS} FROM payment_attempts WHERE user_id = $1 ORDER BY id`,
        [id],
      ),
    ]);
    return { orders: orders.map(toOrder), paymentAttempts: attempts.map(toAttempt) };
  }

  /**
   * Replaces a buyer's user id by `pseudonym` on their orders and payment attempts, in one
   * transaction: the money record stays, the person is no longer named. Returns the rows changed
   * (0 and 0 when already done).
   */
  async pseudonymiseUser(
    userId: string,
    pseudonym: string,
  ): Promise<{ orders: number; paymentAttempts: number }> {
    const id = validate(userIdSchema, userId, "user id");
    const to = validate(userIdSchema, pseudonym, "pseudonym");
    return this.db.transaction(async (tx) => {
      const orders = await tx.query("UPDATE orders SET user_id = $2 WHERE user_id = $1 RETURNING 1", [
        id,
        to,
      ]);
      const attempts = await tx.query(
        "UPDATE payment_attempts SET user_id = $2 WHERE user_id = $1 RETURNING 1",
        [id, to],
      );
      return { orders: orders.length, paymentAttempts: attempts.length };
    });
  }

  /** Closes the pool or the embedded database; safe to call twice. */
  close(): Promise<void> {
    this.closing ??= this.db.close();
    return this.closing;
  }
}

async function insertEvent(
  tx: SqlClient,
  reservationId: string,
  from: OrderStatus | null,
  to: OrderStatus,
  reason: string,
  details: Record<string, unknown> | undefined,
): Promise<void> {
  await tx.query(
    `INSERT INTO order_events (reservation_id, from_status, to_status, reason, details)
     VALUES ($1, $2, $3, $4, $5::jsonb)`,
    [reservationId, from, to, reason, details === undefined ? null : JSON.stringify(details)],
  );
}

async function mustSelectOrder(tx: SqlClient, reservationId: string): Promise<Order> {
  const [row] = await tx.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE reservation_id = $1`, [
    reservationId,
  ]);
  if (!row) throw orderNotFound(reservationId);
  return toOrder(row);
}

async function mustSelectAttempt(tx: SqlClient, id: number): Promise<PaymentAttempt> {
  const [row] = await tx.query<AttemptRow>(`SELECT ${ATTEMPT_COLUMNS} FROM payment_attempts WHERE id = $1`, [
    id,
  ]);
  if (!row)
    throw new NotFoundError(ErrorCode.ORDER_NOT_FOUND, `no payment attempt ${id}`, { paymentAttempt: id });
  return toAttempt(row);
}

/** The provider's idempotency key of a payer's key: our keys are per payer, the provider's global. */
function providerKeyOf(userId: string, idempotencyKey: string): string {
  return `pay_${createHash("sha256").update(`${userId}\n${idempotencyKey}`).digest("hex").slice(0, 40)}`;
}

function orderNotFound(reservationId: string): NotFoundError {
  return new NotFoundError(ErrorCode.ORDER_NOT_FOUND, `no order for reservation ${reservationId}`, {
    reservationId,
  });
}

function toOrder(r: OrderRow): Order {
  return {
    reservationId: r.reservation_id,
    dropId: r.drop_id,
    roomId: r.room_id,
    userId: r.user_id,
    sku: r.sku,
    title: r.title,
    qty: Number(r.qty),
    unitPriceMinor: Number(r.unit_price_minor),
    totalMinor: Number(r.total_minor),
    currency: r.currency,
    format: r.format,
    couponId: r.coupon_id,
    discountMinor: Number(r.discount_minor),
    paidMinor: Number(r.paid_minor),
    status: r.status,
    holdDeadline: Number(r.hold_deadline_ms),
    paymentRef: r.payment_ref,
    createdAt: Number(r.created_at_ms),
    updatedAt: Number(r.updated_at_ms),
    paidAt: r.paid_at_ms === null ? null : Number(r.paid_at_ms),
  };
}

function toEvent(r: EventRow): OrderEvent {
  return {
    id: Number(r.id),
    reservationId: r.reservation_id,
    fromStatus: r.from_status,
    toStatus: r.to_status,
    reason: r.reason,
    details: r.details,
    at: Number(r.at_ms),
  };
}

function toAttempt(r: AttemptRow): PaymentAttempt {
  return {
    id: Number(r.id),
    reservationId: r.reservation_id,
    userId: r.user_id,
    idempotencyKey: r.idempotency_key,
    providerKey: r.provider_key,
    status: r.status,
    providerRef: r.provider_ref,
    refundRef: r.refund_ref,
    amountMinor: Number(r.amount_minor),
    currency: r.currency,
    errorCode: r.error_code,
    createdAt: Number(r.created_at_ms),
    updatedAt: Number(r.updated_at_ms),
    checkedAt: r.checked_at_ms === null ? null : Number(r.checked_at_ms),
  };
}
