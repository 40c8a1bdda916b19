import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { childLogger } from "../../core/index.ts";
import { BuyClicks } from "../../gateway/http/buy-clicks.ts";
import { gatewayFunnelSource, startGatewayReports } from "../../gateway/http/reports-api.ts";
import { ViewerCounts } from "../../gateway/rooms/viewer-counts.ts";
import { DEFAULT_REPORT_LIMITS } from "../../orders/index.ts";
import { dropSalesReportSchema, hourlySalesReportSchema, roomSummarySchema } from "../../protocol/index.ts";
import { useGatewayStack } from "../harness/gateway.ts";
import { dropDefinition } from "../sale-engine/fixtures.ts";

/**
 * The report downloads over HTTP: a host of the room gets its room's figures as CSV or JSON
 * attachments, an admin every room's; a viewer and another room's host are refused; a bad date
 * range is a 400 with a code.
 */
const stack = useGatewayStack();

const ROOM = "reports-room";
const OTHER = "reports-other";
const AT = Date.UTC(2026, 10, 3, 14, 10, 0);
const RANGE = `from=${new Date(AT - 3_600_000).toISOString()}&to=${new Date(AT + 3_600_000).toISOString()}`;

let seeded: Promise<void> | undefined;
/** Two paid orders and one pending in ROOM, one paid in OTHER (written once for the file). */
function seed(): Promise<void> {
  seeded ??= (async () => {
    const { store } = stack().stack;
    const write = async (room: string, n: number, qty: number, paid: boolean) => {
      const reservationId = `${room}-drop.${n}`;
      await store.createOrder({
        reservationId,
        dropId: `${room}-drop`,
        roomId: room,
        userId: `buyer-${n}`,
        sku: "SKU-9",
        title: "Jacket",
        qty,
        unitPriceMinor: 1_500,
        currency: "USD",
        holdDeadline: Date.now() + 60_000,
      });
      if (paid) await store.transition(reservationId, "paid", { reason: "test", paymentRef: `pay-${n}` });
      await store.report((db) =>
        db.query("UPDATE orders SET created_at = $2 WHERE reservation_id = $1", [
          reservationId,
          new Date(AT).toISOString(),
        ]),
      );
    };
    await write(ROOM, 1, 1, true);
    await write(ROOM, 2, 2, true);
    await write(ROOM, 3, 1, false);
    await write(OTHER, 4, 1, true);
  })();
  return seeded;
}

async function get(path: string, token?: string) {
  const res = await fetch(`${stack().server.url}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe("report downloads", () => {
  it("a host of the room downloads its hourly sales as a CSV attachment matching the orders", async () => {
    await seed();
    const host = await stack().token("reports-host", "host", [ROOM]);
    const res = await get(`/api/v1/rooms/${ROOM}/reports/hourly?${RANGE}&format=csv`, host);
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(
      /^attachment; filename="hourly-reports-room-.+\.csv"$/,
    );
    const [header, ...rows] = res.text.trimEnd().split("\r\n");
    expect(header).toBe(
      "hourUtc,roomId,format,currency,orders,paidOrders,units,grossMinor,discountMinor,netMinor,refundedOrders,refundedMinor",
    );
    expect(rows).toEqual([`2026-11-03T14:00:00.000Z,${ROOM},drop,USD,3,2,3,4500,0,4500,0,0`]);
  });

  it("JSON answers parse with the protocol schemas; an admin sees every room", async () => {
    await seed();
    const admin = await stack().token("reports-admin", "admin");
    const all = await get(`/api/v1/reports/hourly?${RANGE}`, admin);
    expect(all.status, all.text).toBe(200);
    expect(all.headers.get("content-disposition")).toMatch(/\.json"$/);
    const rooms = hourlySalesReportSchema.parse(JSON.parse(all.text)).rows.map((r) => r.roomId);
    expect(rooms.sort()).toEqual([OTHER, ROOM]);

    const drops = dropSalesReportSchema.parse(
      JSON.parse((await get(`/api/v1/reports/drops?${RANGE}`, admin)).text),
    );
    expect(drops.rows.find((r) => r.roomId === ROOM)).toMatchObject({ holds: 3, paid: 2, netMinor: 4_500 });

    const summary = await get(`/api/v1/rooms/${ROOM}/reports/summary`, admin);
    expect(summary.status, summary.text).toBe(200);
    expect(roomSummarySchema.parse(JSON.parse(summary.text)).totals).toEqual([
      expect.objectContaining({ roomId: ROOM, paidOrders: 2, units: 3, netMinor: 4_500 }),
    ]);
  });

  it("refuses a viewer, another room's host and an anonymous caller", async () => {
    const viewer = await stack().token("reports-viewer");
    const elsewhere = await stack().token("reports-host-2", "host", [OTHER]);
    for (const path of [`/api/v1/rooms/${ROOM}/reports/hourly`, `/api/v1/rooms/${ROOM}/reports/summary`]) {
      for (const token of [viewer, elsewhere]) {
        const res = await get(path, token);
        expect(res.status, path).toBe(403);
        expect(JSON.parse(res.text).error.code).toBe("FORBIDDEN");
      }
      expect((await get(path)).status).toBe(401);
    }
    expect((await get("/api/v1/reports/drops", elsewhere)).status).toBe(403);
  });

  it("a bad date range is refused INVALID_INPUT", async () => {
    const host = await stack().token("reports-host", "host", [ROOM]);
    const bad = [
      "from=2026-11-03T00:00:00Z&to=2026-11-02T00:00:00Z",
      "from=2026-01-01T00:00:00Z&to=2026-11-02T00:00:00Z",
      "from=yesterday",
      "format=xlsx",
      "limit=5",
    ];
    for (const query of bad) {
      const res = await get(`/api/v1/rooms/${ROOM}/reports/drops?${query}`, host);
      expect(res.status, query).toBe(400);
      expect(JSON.parse(res.text).error.code, query).toBe("INVALID_INPUT");
    }
  });
});

describe("funnel snapshots from a gateway", () => {
  it("read the room's viewers over the nodes and the drop's buy clicks, unflushed ones included", async () => {
    const { stack: orders, redis } = stack();
    const client = redis.client();
    const log = childLogger("reports-funnel-test");
    const clicks = new BuyClicks(client, orders.prefix, log);
    const viewers = new ViewerCounts(
      client,
      orders.prefix,
      () => new Map([["funnel-room", 7]]),
      () => {},
      log,
    );
    const dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-gw-reports-"));
    const pass = startGatewayReports({
      engine: orders.engine,
      store: orders.store,
      redis: client,
      keyPrefix: orders.prefix,
      clicks,
      limits: { ...DEFAULT_REPORT_LIMITS, dir },
      log,
    });
    try {
      const { status } = await orders.engine.createDrop(dropDefinition({ roomId: "funnel-room" }));
      await viewers.report();
      for (let i = 0; i < 3; i++) clicks.count(status.dropId);
      await clicks.flush();
      clicks.count(status.dropId);
      const read = await gatewayFunnelSource(client, orders.prefix, clicks).read([status]);
      expect(read.get(status.dropId)).toEqual({ viewers: 7, buyClicks: 4 });

      await pass.tick();
      const rows = await orders.store.report((db) =>
        db.query<{ viewers: number; buy_clicks: unknown; final: boolean }>(
          "SELECT viewers, buy_clicks, final FROM drop_funnel_snapshots WHERE drop_id = $1",
          [status.dropId],
        ),
      );
      expect(rows.map((r) => ({ ...r, buy_clicks: Number(r.buy_clicks) }))).toEqual([
        { viewers: 7, buy_clicks: 4, final: false },
      ]);
    } finally {
      await pass.stop();
      viewers.close();
      await clicks.close();
      client.disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the reports pass on several gateway nodes", () => {
  it("runs its timed rounds on one node at a time, and another node takes over when it stops", async () => {
    const { stack: orders, redis } = stack();
    const log = childLogger("reports-lead-test");
    const nodes = [0, 1].map(() => {
      const client = redis.client();
      const clicks = new BuyClicks(client, orders.prefix, log);
      const dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-gw-lead-"));
      const pass = startGatewayReports({
        engine: orders.engine,
        store: orders.store,
        redis: client,
        keyPrefix: `${orders.prefix}-lead`,
        clicks,
        limits: { ...DEFAULT_REPORT_LIMITS, dir, funnelSnapshotS: 1, summaryIntervalS: 0 },
        log,
      });
      return { client, clicks, dir, pass, stopped: false };
    });
    const waitFor = async (what: string, ok: () => boolean) => {
      for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
      expect(ok(), what).toBe(true);
    };
    try {
      await waitFor("three rounds ran", () => nodes.reduce((n, x) => n + x.pass.roundsRun, 0) >= 3);
      const leader = nodes.find((x) => x.pass.roundsRun > 0);
      const other = nodes.find((x) => x !== leader);
      if (!leader || !other) throw new Error("no leader");
      expect(other.pass.roundsRun).toBe(0);
      await leader.pass.stop();
      leader.stopped = true;
      await waitFor("the other node took the rounds over", () => other.pass.roundsRun > 0);
    } finally {
      for (const x of nodes) {
        if (!x.stopped) await x.pass.stop();
        await x.clicks.close();
        x.client.disconnect();
        rmSync(x.dir, { recursive: true, force: true });
      }
    }
  });
});
