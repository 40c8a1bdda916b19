import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLivedropError } from "../../core/index.ts";
import {
  dropSales,
  hourlySales,
  type NewOrder,
  OrderStore,
  PgClient,
  recordFunnelSnapshots,
  roomCouponCost,
  roomSummary,
  roomTotals,
  type SqlClient,
  type StoreTarget,
  safeCell,
  sqlState,
  toCsv,
  writeRoomSummary,
} from "../../orders/index.ts";
import { type PrivatePostgres, startPrivatePostgres } from "../harness/postgres.ts";

/**
 * The reporting_v1 views and the queries over them, on embedded PGlite and on a private
 * PostgreSQL server: the figures must be the ones of the orders written. Each test writes its
 * own room, so tests share one database.
 */
interface Backend {
  readonly name: string;
  setUp(): Promise<void>;
  target(schema?: string): Promise<StoreTarget>;
  tearDown(): Promise<void>;
}

function pglite(): Backend {
  const dirs: string[] = [];
  return {
    name: "PGlite",
    async setUp() {},
    async target() {
      const dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-reports-"));
      dirs.push(dir);
      return { kind: "pglite", dataDir: path.join(dir, "orders") };
    },
    async tearDown() {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgres(): Backend {
  let server: PrivatePostgres | undefined;
  let url = "";
  return {
    name: "PostgreSQL",
    async setUp() {
      server = await startPrivatePostgres();
      url = await server.createDatabase("reports");
    },
    async target(schema?: string) {
      return schema ? { kind: "pg", url, schema } : { kind: "pg", url };
    },
    async tearDown() {
      await server?.stop();
    },
  };
}

const HOUR = 3_600_000;
/** A fixed hour in the past, so hourly buckets are known exactly. */
const T0 = Date.UTC(2026, 10, 2, 10, 0, 0);

interface Written {
  readonly format?: string;
  readonly coupon?: string;
  readonly discount?: number;
  readonly status: "pending_payment" | "paid" | "refunded" | "expired";
  readonly at: number;
}

async function writeOrder(store: OrderStore, o: NewOrder, w: Written): Promise<void> {
  await store.createOrder(o);
  if (w.status !== "pending_payment") {
    if (w.status === "expired") await store.transition(o.reservationId, "expired", { reason: "test" });
    else
      await store.transition(o.reservationId, "paid", {
        reason: "test",
        paymentRef: `pay-${o.reservationId}`,
      });
  }
  if (w.status === "refunded") await store.transition(o.reservationId, "refunded", { reason: "test" });
  // Format, coupon and placement time as the selling formats would have written them.
  await store.report((db) =>
    db.query(
      "UPDATE orders SET format = $2, coupon_id = $3, discount_minor = $4, created_at = $5 WHERE reservation_id = $1",
      [o.reservationId, w.format ?? "drop", w.coupon ?? null, w.discount ?? 0, new Date(w.at).toISOString()],
    ),
  );
}

function order(room: string, drop: string, n: number, over: Partial<NewOrder> = {}): NewOrder {
  return {
    reservationId: `${drop}.${n}`,
    dropId: drop,
    roomId: room,
    userId: `user-${n}`,
    sku: "SKU-1",
    title: "Limited sneaker",
    qty: 1,
    unitPriceMinor: 1_000,
    currency: "USD",
    holdDeadline: Date.now() + 120_000,
    ...over,
  };
}

/** One room's orders: a drop, an auction, a buy-it-now in EUR and a giveaway. */
async function seedRoom(store: OrderStore, room: string) {
  const drop = `${room}-drop`;
  const auction = `${room}-auc`;
  const bin = `${room}-bin`;
  const give = `${room}-give`;
  await writeOrder(store, order(room, drop, 1), { status: "paid", at: T0 + 5 * 60_000 });
  await writeOrder(store, order(room, drop, 2, { qty: 2 }), {
    status: "paid",
    coupon: "SAVE3",
    discount: 300,
    at: T0 + 20 * 60_000,
  });
  await writeOrder(store, order(room, drop, 3), { status: "pending_payment", at: T0 + 30 * 60_000 });
  await writeOrder(store, order(room, drop, 4), { status: "expired", at: T0 + HOUR + 60_000 });
  await writeOrder(store, order(room, auction, 1, { unitPriceMinor: 4_200 }), {
    status: "paid",
    format: "auction",
    at: T0 + HOUR + 2 * 60_000,
  });
  await writeOrder(store, order(room, auction, 2, { unitPriceMinor: 3_900 }), {
    status: "refunded",
    format: "auction",
    at: T0 + HOUR + 3 * 60_000,
  });
  await writeOrder(store, order(room, bin, 1, { unitPriceMinor: 700, currency: "EUR" }), {
    status: "paid",
    format: "buy_now",
    at: T0 + HOUR + 4 * 60_000,
  });
  await writeOrder(store, order(room, give, 1, { unitPriceMinor: 0 }), {
    status: "paid",
    format: "giveaway",
    at: T0 + HOUR + 5 * 60_000,
  });
  return { drop, auction, bin, give };
}

const scopeOf = (roomId: string) => ({
  roomId,
  from: new Date(T0 - HOUR),
  to: new Date(T0 + 3 * HOUR),
  maxRows: 1_000,
});

describe.each([pglite(), postgres()])("reporting_v1 on $name", (backend) => {
  let store: OrderStore;
  let db: SqlClient;
  let dir = "";

  beforeAll(async () => {
    await backend.setUp();
    store = await OrderStore.open(await backend.target());
    db = await store.report(async (client) => client);
    dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-summaries-"));
  }, 180_000);

  afterAll(async () => {
    await store?.close();
    await backend.tearDown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("documents every view and every column of reporting_v1 (COMMENT ON)", async () => {
    const views = await db.query<{ name: string; comment: string | null }>(
      `SELECT c.relname AS name, obj_description(c.oid, 'pg_class') AS comment
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'reporting_v1' AND c.relkind = 'v' ORDER BY 1`,
    );
    expect(views.map((v) => v.name)).toEqual([
      "coupon_cost",
      "drop_funnel",
      "orders_by_drop",
      "orders_by_hour",
      "orders_by_room",
    ]);
    expect(views.filter((v) => !v.comment)).toEqual([]);
    const columns = await db.query<{ view: string; column: string; comment: string | null }>(
      `SELECT c.relname AS view, a.attname AS column, col_description(c.oid, a.attnum) AS comment
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       WHERE n.nspname = 'reporting_v1' AND c.relkind = 'v'`,
    );
    expect(columns.length).toBeGreaterThan(50);
    expect(columns.filter((c) => !c.comment)).toEqual([]);
  });

  it("orders by drop: counts, units, gross, discount, net and refunds of the orders written", async () => {
    const room = `r-${randomUUID().slice(0, 8)}`;
    const ids = await seedRoom(store, room);
    const rows = await dropSales(db, scopeOf(room));
    const byDrop = new Map(rows.map((r) => [r.dropId, r]));
    expect(byDrop.get(ids.drop)).toMatchObject({
      format: "drop",
      currency: "USD",
      orders: 4,
      paidOrders: 2,
      units: 3,
      grossMinor: 3_000,
      discountMinor: 300,
      netMinor: 2_700,
      refundedOrders: 0,
      refundedMinor: 0,
      holds: 4,
      paid: 2,
      firstOrderAt: new Date(T0 + 5 * 60_000).toISOString(),
    });
    expect(byDrop.get(ids.auction)).toMatchObject({
      format: "auction",
      orders: 2,
      paidOrders: 1,
      grossMinor: 4_200,
      netMinor: 4_200,
      refundedOrders: 1,
      refundedMinor: 3_900,
      // The refunded order was paid once: the funnel counts it.
      paid: 2,
    });
    expect(byDrop.get(ids.bin)).toMatchObject({ format: "buy_now", currency: "EUR", netMinor: 700 });
    expect(byDrop.get(ids.give)).toMatchObject({ format: "giveaway", paidOrders: 1, grossMinor: 0 });
  });

  it("orders by room and by hour split per format and currency; coupon cost is the paid discounts", async () => {
    const room = `r-${randomUUID().slice(0, 8)}`;
    await seedRoom(store, room);
    const totals = await roomTotals(db, room);
    const usdDrop = totals.find((t) => t.format === "drop" && t.currency === "USD");
    expect(usdDrop).toMatchObject({ drops: 1, orders: 4, paidOrders: 2, netMinor: 2_700 });
    expect(totals.map((t) => `${t.format}/${t.currency}`).sort()).toEqual([
      "auction/USD",
      "buy_now/EUR",
      "drop/USD",
      "giveaway/USD",
    ]);

    const hours = await hourlySales(db, scopeOf(room));
    const first = hours.filter((h) => h.hourUtc === new Date(T0).toISOString());
    expect(first).toEqual([
      expect.objectContaining({
        format: "drop",
        orders: 3,
        paidOrders: 2,
        grossMinor: 3_000,
        netMinor: 2_700,
      }),
    ]);
    const second = hours.filter((h) => h.hourUtc === new Date(T0 + HOUR).toISOString());
    expect(second.map((h) => `${h.format}/${h.currency}/${h.orders}`).sort()).toEqual([
      "auction/USD/2",
      "buy_now/EUR/1",
      "drop/USD/1",
      "giveaway/USD/1",
    ]);
    // The range is [from, to): the second hour alone.
    const narrow = await hourlySales(db, {
      ...scopeOf(room),
      from: new Date(T0 + HOUR),
      to: new Date(T0 + 2 * HOUR),
    });
    expect(narrow).toHaveLength(4);

    expect(await roomCouponCost(db, room)).toEqual([
      {
        couponId: "SAVE3",
        currency: "USD",
        paidOrders: 1,
        units: 2,
        grossMinor: 2_000,
        discountMinor: 300,
        netMinor: 1_700,
      },
    ]);
  });

  it("refuses a report with more rows than the limit instead of cutting it short", async () => {
    const room = `r-${randomUUID().slice(0, 8)}`;
    await seedRoom(store, room);
    const refused = await hourlySales(db, { ...scopeOf(room), maxRows: 3 }).catch((e: unknown) => e);
    expect(isLivedropError(refused) && refused.code).toBe("INVALID_INPUT");
  });

  it("funnel snapshots: buy clicks never go down, peak viewers kept, a final snapshot is frozen, a repeat is a no-op", async () => {
    const room = `r-${randomUUID().slice(0, 8)}`;
    const { drop } = await seedRoom(store, room);
    const snap = { dropId: drop, roomId: room, viewers: 40, buyClicks: 12, final: false };
    expect(await recordFunnelSnapshots(db, [snap])).toBe(1);
    expect(await recordFunnelSnapshots(db, [snap])).toBe(0);
    await recordFunnelSnapshots(db, [{ ...snap, viewers: 25, buyClicks: 9 }]);
    await recordFunnelSnapshots(db, [{ ...snap, viewers: 30, buyClicks: 20, final: true }]);
    expect(await recordFunnelSnapshots(db, [{ ...snap, viewers: 99, buyClicks: 99, final: true }])).toBe(0);
    const [row] = await dropSales(db, scopeOf(room)).then((rows) => rows.filter((r) => r.dropId === drop));
    expect(row).toMatchObject({ viewers: 40, buyClicks: 20, holds: 4, paid: 2 });
    const bad = await recordFunnelSnapshots(db, [{ ...snap, viewers: -1 }]).catch((e: unknown) => e);
    expect(isLivedropError(bad) && bad.code).toBe("INVALID_INPUT");
  });

  it("the end-of-live summary is written as JSON and CSV, and a re-run gives the same bytes", async () => {
    const room = `r-${randomUUID().slice(0, 8)}`;
    const ids = await seedRoom(store, room);
    await recordFunnelSnapshots(db, [
      { dropId: ids.drop, roomId: room, viewers: 50, buyClicks: 30, final: true },
    ]);
    const first = await writeRoomSummary(db, room, dir);
    expect(first.changed).toBe(true);
    const json = readFileSync(first.jsonPath, "utf8");
    const csv = readFileSync(first.csvPath, "utf8");
    const again = await writeRoomSummary(db, room, dir);
    expect(again.changed).toBe(false);
    expect(readFileSync(first.jsonPath, "utf8")).toBe(json);
    expect(readFileSync(first.csvPath, "utf8")).toBe(csv);

    const summary = JSON.parse(json);
    expect(summary).toEqual(await roomSummary(db, room));
    expect(summary.drops).toHaveLength(4);
    expect(summary.coupons).toEqual([expect.objectContaining({ couponId: "SAVE3", discountMinor: 300 })]);
    const lines = csv.trimEnd().split("\r\n");
    expect(lines[0]?.split(",").slice(0, 4)).toEqual(["dropId", "roomId", "format", "currency"]);
    expect(lines).toHaveLength(5);
    expect(lines.find((l) => l.startsWith(`${ids.drop},`))).toContain(",50,30,4,2");
  });
});

describe("shadow lane on PostgreSQL", () => {
  const backend = postgres();
  let live: OrderStore;
  let shadow: OrderStore;
  const sqlOf = (store: OrderStore) => store.report(async (client) => client);

  beforeAll(async () => {
    await backend.setUp();
    live = await OrderStore.open(await backend.target());
    shadow = await OrderStore.open(await backend.target("livedrop_shadow"));
  }, 180_000);

  afterAll(async () => {
    await shadow?.close();
    await live?.close();
    await backend.tearDown();
  });

  it("gets its own reporting schema whose views read the shadow orders only", async () => {
    await writeOrder(shadow, order("shadow-room", "shadow-drop", 1), { status: "paid", at: T0 });
    const schemas = await (await sqlOf(live)).query<{ nspname: string }>(
      "SELECT nspname FROM pg_namespace WHERE nspname LIKE '%reporting_v1' ORDER BY 1",
    );
    expect(schemas.map((s) => s.nspname)).toEqual(["livedrop_shadow_reporting_v1", "reporting_v1"]);
    expect(await roomTotals(await sqlOf(shadow), "shadow-room")).toEqual([
      expect.objectContaining({ paidOrders: 1, netMinor: 1_000 }),
    ]);
    expect(await roomTotals(await sqlOf(live), "shadow-room")).toEqual([]);
  });
});

describe("the BI role of docs/reports.md on PostgreSQL", () => {
  const backend = postgres();
  let store: OrderStore;

  beforeAll(async () => {
    await backend.setUp();
    store = await OrderStore.open(await backend.target());
  }, 180_000);

  afterAll(async () => {
    await store?.close();
    await backend.tearDown();
  });

  it("reads the reporting views and nothing else, and cannot write", async () => {
    await writeOrder(store, order("bi-room", "bi-drop", 1), { status: "paid", at: T0 });
    const target = await backend.target();
    if (target.kind !== "pg") throw new Error("expected PostgreSQL");
    const url = new URL(target.url);
    const docs = readFileSync(path.join(import.meta.dirname, "../../docs/reports.md"), "utf8");
    const script = /```sql\n([\s\S]*?)```/.exec(docs)?.[1];
    if (!script) throw new Error("docs/reports.md has no SQL block");
    const db = await store.report(async (client) => client);
    await db.exec(script.replace("DATABASE livedrop", `DATABASE ${url.pathname.slice(1)}`));

    url.username = "livedrop_bi";
    const bi = await PgClient.open(url.toString());
    try {
      expect(
        await bi.query("SELECT room_id, paid_orders FROM orders_by_room WHERE room_id = 'bi-room'"),
      ).toEqual([{ room_id: "bi-room", paid_orders: "1" }]);
      const refused = async (sql: string) => sqlState(await bi.query(sql).catch((e: unknown) => e));
      expect(await refused("SELECT user_id FROM public.orders")).toBe("42501");
      expect(await refused("SELECT * FROM public.audit_log")).toBe("42501");
      expect(await refused("DELETE FROM public.drop_funnel_snapshots")).toBe("25006");
    } finally {
      await bi.close();
    }
  });
});

describe("CSV cells", () => {
  it("prefixes text that a spreadsheet would run as a formula, and leaves numbers alone", () => {
    expect(["=SUM(A1)", "+1", "-x", "@cmd", "\tx", "plain"].map(safeCell)).toEqual([
      "'=SUM(A1)",
      "'+1",
      "'-x",
      "'@cmd",
      "'\tx",
      "plain",
    ]);
    expect(safeCell(-5)).toBe(-5);
    expect(toCsv(["a", "b"], [{ a: '=HYPERLINK("x")', b: -5 }])).toBe('a,b\r\n"\'=HYPERLINK(""x"")",-5\r\n');
  });
});
