import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { safeRelative } from "../../gateway/http/static-files.ts";
import { GatewayServer } from "../../gateway/index.ts";
import type { OpsOverview, RoomInsight } from "../../protocol/index.ts";
import { PROTOCOL_VERSION } from "../../protocol/index.ts";
import { type GatewayStack, startGatewayStack } from "../harness/gateway.ts";
import { TestSocket } from "../harness/ws-client.ts";

/** A raw GET, so paths reach the server exactly as written (fetch would normalise `..`). */
function rawGet(
  base: string,
  rawPath: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: rawPath, method: "GET", headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("gateway serves the client build and the insights API", () => {
  let stack: GatewayStack;
  let server: GatewayServer;
  let missing: GatewayServer;
  const dist = mkdtempSync(path.join(os.tmpdir(), "livedrop-dist-"));
  const outside = path.join(path.dirname(dist), `secret-${path.basename(dist)}.txt`);

  beforeAll(async () => {
    for (const page of ["index", "live", "host", "ops"])
      writeFileSync(path.join(dist, `${page}.html`), `<!doctype html><title>${page}</title>`);
    mkdirSync(path.join(dist, "assets"));
    mkdirSync(path.join(dist, "demo"));
    writeFileSync(path.join(dist, "assets", "live-abc123.js"), `export const x = "${"a".repeat(4000)}";`);
    writeFileSync(path.join(dist, "assets", "styles-abc123.css"), "body{color:red}");
    writeFileSync(path.join(dist, "assets", ".hidden.js"), "secret");
    writeFileSync(path.join(dist, "demo", "product.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
    writeFileSync(outside, "outside the root");
    stack = await startGatewayStack();
    // Each node its own subscriber connection, like real nodes (the harness's belongs to its server).
    server = await GatewayServer.create({
      ...stack.options,
      subscriber: stack.redis.client(),
      clientDir: dist,
      mediaUrl: "http://media.test:8090",
    });
    missing = await GatewayServer.create({
      ...stack.options,
      subscriber: stack.redis.client(),
      clientDir: path.join(dist, "nope"),
    });
  });

  afterAll(async () => {
    await server?.close();
    await missing?.close();
    await stack?.stop();
    rmSync(dist, { recursive: true, force: true });
    rmSync(outside, { force: true });
  });

  it("serves each page's HTML at its app paths, revalidated, with a content security policy", async () => {
    for (const [p, page] of [
      ["/", "index"],
      ["/live/demo", "live"],
      ["/live/room_2-b/", "live"],
      ["/host/demo", "host"],
      ["/ops", "ops"],
    ] as const) {
      const res = await rawGet(server.url, p);
      expect(res.status, p).toBe(200);
      expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(res.headers["cache-control"]).toBe("no-cache");
      expect(res.headers["content-security-policy"]).toContain("script-src 'self'");
      expect(res.headers["content-security-policy"]).toContain("http://media.test:8090");
      expect(res.body.toString()).toContain(`<title>${page}</title>`);
    }
  });

  it("hashed assets are immutable, gzipped when asked, and answer 304 to their ETag", async () => {
    const js = await rawGet(server.url, "/assets/live-abc123.js", { "accept-encoding": "gzip, br" });
    expect(js.status).toBe(200);
    expect(js.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(js.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(js.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(js.body).toString()).toContain('export const x = "aaaa');
    const again = await rawGet(server.url, "/assets/live-abc123.js", {
      "if-none-match": String(js.headers.etag),
    });
    expect(again.status).toBe(304);
    const css = await rawGet(server.url, "/assets/styles-abc123.css");
    expect(css.headers["content-type"]).toBe("text/css; charset=utf-8");
    expect(css.headers["content-encoding"]).toBeUndefined();
    const svg = await rawGet(server.url, "/demo/product.svg");
    expect(svg.headers["content-type"]).toBe("image/svg+xml");
  });

  it("no request path leaves the build folder", async () => {
    const name = path.basename(outside);
    for (const p of [
      `/assets/../../${name}`,
      `/assets/%2e%2e/%2e%2e/${name}`,
      `/assets/..%2f..%2f${name}`,
      `/assets/%2e%2e%5c%2e%2e%5c${name}`,
      "/assets/.hidden.js",
      "/assets/%00live-abc123.js",
      "/assets/%E0%A4%A",
      "/demo/../live.html",
    ]) {
      const res = await rawGet(server.url, p);
      expect(res.status, p).toBe(404);
      expect(res.body.toString()).not.toContain("outside the root");
    }
    expect(safeRelative("/assets/a/../../x")).toBeUndefined();
    expect(safeRelative("/assets/live-abc123.js")).toBe("assets/live-abc123.js");
  });

  it("API routes keep working next to the pages; a missing build says how to make one", async () => {
    const config = await (await fetch(`${server.url}/api/v1/config`)).json();
    expect(config).toEqual({ mediaUrl: "http://media.test:8090", protocolVersion: PROTOCOL_VERSION });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/nothing-here`)).status).toBe(404);
    const page = await rawGet(missing.url, "/live/demo");
    expect(page.status).toBe(503);
    expect(page.body.toString()).toContain("npm run build");
  });

  it("room stats are for the room's host or an admin; the ops overview for admins; both count clicks, holds and GMV", async () => {
    const room = "stats-room";
    const dropId = "stats-drop";
    await stack.stack.engine.createDrop({
      dropId,
      roomId: room,
      product: {
        sku: "s",
        title: "Mug",
        priceMinor: 1250,
        currency: "EUR",
        imageUrl: "https://x.test/m.png",
      },
      initialStock: 2,
      perUserLimit: 1,
      holdMs: 60_000,
    });
    const get = (p: string, token?: string) =>
      fetch(`${server.url}${p}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const viewer = await stack.token("viewer-1");
    const otherHost = await stack.token("host-2", "host", ["elsewhere"]);
    const host = await stack.token("host-1", "host", [room]);
    const admin = await stack.token("admin-1", "admin");
    expect((await get(`/api/v1/rooms/${room}/stats`)).status).toBe(401);
    expect((await get(`/api/v1/rooms/${room}/stats`, viewer)).status).toBe(403);
    expect((await get(`/api/v1/rooms/${room}/stats`, otherHost)).status).toBe(403);
    expect((await get("/api/v1/ops/overview", host)).status).toBe(403);

    // Three buyers click over WebSocket; two get a hold, the third is refused (sold out).
    const holds: string[] = [];
    for (const buyer of ["b1", "b2", "b3"]) {
      const ws = await TestSocket.connect(server.url, await stack.token(buyer));
      ws.send({ t: "buy", reqId: `r-${buyer}`, dropId, qty: 1, idempotencyKey: `k-${buyer}` });
      const ack = await ws.next((f) => f.t === "ack");
      if (ack.t === "ack" && ack.ok && ack.result.kind === "buy") holds.push(ack.result.reservationId);
      ws.close();
    }
    expect(holds).toHaveLength(2);
    const payer = await TestSocket.connect(server.url, await stack.token("b1"));
    payer.send({
      t: "pay",
      reqId: "p1",
      reservationId: holds[0]!,
      token: "tok_success",
      idempotencyKey: "pay-1",
    });
    const paid = await payer.next((f) => f.t === "ack");
    expect(paid).toMatchObject({ ok: true, result: { status: "paid" } });
    payer.close();

    await expect
      .poll(
        async () => {
          const r = (await (await get(`/api/v1/rooms/${room}/stats`, host)).json()) as RoomInsight;
          return {
            clicks: r.totals.buyClicks,
            holds: r.totals.holds,
            paid: r.totals.paidOrders,
            gmv: r.totals.gmv,
            netGmv: r.totals.netGmv,
            couponCost: r.totals.couponCost,
          };
        },
        { timeout: 15_000, interval: 300 },
      )
      .toEqual({
        clicks: 3,
        holds: 2,
        paid: 1,
        gmv: [{ currency: "EUR", minor: 1250 }],
        // No coupon: net is gross, and nothing was given away.
        netGmv: [{ currency: "EUR", minor: 1250 }],
        couponCost: [],
      });

    const overview = (await (await get("/api/v1/ops/overview", admin)).json()) as OpsOverview;
    const mine = overview.rooms.find((r) => r.room === room);
    expect(mine?.drops[0]).toMatchObject({
      dropId,
      format: "drop",
      stock: 2,
      available: 0,
      sold: 1,
      held: 1,
      buyClicks: 3,
      gmvMinor: 1250,
      netGmvMinor: 1250,
      couponCostMinor: 0,
    });
    expect(mine?.conversion).toBe(0.5);
    expect(overview.health.redis.ok).toBe(true);
    expect(overview.health.store.ok).toBe(true);
    expect(overview.health.queues.ok).toBe(true);
    expect(overview.health.queues.orders?.failed).toBe(0);
  });
});
