import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TokenService } from "../../auth/index.ts";
import type { GatewayServer } from "../../gateway/index.ts";
import { SandboxToken } from "../../orders/index.ts";
import type { CreateDropResponse } from "../../protocol/index.ts";
import { type GatewayStack, startGatewayStack } from "../harness/gateway.ts";
import type { PrivateRedis } from "../harness/redis.ts";
import { key } from "../sale-engine/fixtures.ts";

let g: GatewayStack;
let redis: PrivateRedis;
let tokens: TokenService;
let server: GatewayServer;
let hostToken: string;
let viewerToken: string;
let otherViewerToken: string;

beforeAll(async () => {
  g = await startGatewayStack();
  ({ redis, tokens, server } = g);
  hostToken = await g.token("host-1", "host", ["studio"]);
  viewerToken = await g.token("viewer-1");
  otherViewerToken = await g.token("viewer-2");
}, 120_000);

afterAll(async () => {
  await server?.close();
  await g?.stop();
});

function api(
  path: string,
  init: { method?: string; token?: string; body?: unknown; raw?: string; type?: string } = {},
) {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined || init.raw !== undefined)
    headers["content-type"] = init.type ?? "application/json";
  return fetch(`${server.url}${path}`, {
    method: init.method ?? (init.body !== undefined || init.raw !== undefined ? "POST" : "GET"),
    headers,
    ...(init.raw !== undefined
      ? { body: init.raw }
      : init.body !== undefined
        ? { body: JSON.stringify(init.body) }
        : {}),
  });
}

const product = {
  sku: "SNK-1",
  title: "Neon runner",
  priceMinor: 12_900,
  currency: "USD",
  imageUrl: "https://cdn.example.com/a.jpg",
};

describe("gateway HTTP basics", () => {
  it("answers liveness, readiness and Prometheus metrics", async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", checks: { redis: "ok", store: "ok" } });
    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    const text = await metrics.text();
    expect(text).toContain('livedrop_http_requests_total{route="healthz",status="200"} 1');
    expect(text).toContain("livedrop_gateway_process_cpu_seconds_total");
  });

  it("an unknown route is a 404 with a code", async () => {
    const res = await fetch(`${server.url}/nope?x=1`, { method: "POST", body: "{}" });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "NOT_FOUND", message: "no route for POST /nope" } });
  });

  it("readiness turns 503 while Redis is down and recovers after", async () => {
    await redis.server.stop();
    const down = await fetch(`${server.url}/readyz`);
    expect(down.status).toBe(503);
    expect(((await down.json()) as { checks: { redis: string } }).checks.redis).not.toBe("ok");
    await redis.server.restart();
    await expect
      .poll(async () => (await fetch(`${server.url}/readyz`)).status, { timeout: 10_000 })
      .toBe(200);
  });
});

describe("JSON API", () => {
  it("a host creates and launches a drop; a viewer buys, sees the order and pays in the sandbox", async () => {
    const guest = await api("/api/v1/tokens/guest", { body: {} });
    expect(guest.status).toBe(201);
    const { token: guestToken, userId } = (await guest.json()) as { token: string; userId: string };
    expect(userId).toMatch(/^guest-/);

    const created = await api("/api/v1/rooms/studio/drops", {
      token: hostToken,
      body: {
        dropId: "api-drop",
        product,
        initialStock: 3,
        perUserLimit: 2,
        holdMs: 60_000,
        startsAt: Date.now() + 3_600_000,
      },
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({
      created: true,
      drop: { state: "scheduled", roomId: "studio" },
    });
    expect((await api("/api/v1/drops/api-drop/launch", { token: hostToken, body: {} })).status).toBe(200);
    expect(await (await api("/api/v1/drops/api-drop")).json()).toMatchObject({ state: "live", available: 3 });

    const buyKey = key();
    const buy = await api("/api/v1/drops/api-drop/buy", {
      token: guestToken,
      body: { qty: 2, idempotencyKey: buyKey },
    });
    expect(buy.status).toBe(201);
    const reservation = (await buy.json()) as { reservationId: string; available: number };
    expect(reservation.available).toBe(1);
    const retry = await api("/api/v1/drops/api-drop/buy", {
      token: guestToken,
      body: { qty: 2, idempotencyKey: buyKey },
    });
    expect(retry.status).toBe(200);
    expect(await retry.json()).toMatchObject({ reservationId: reservation.reservationId, replayed: true });

    await expect
      .poll(
        async () => (await api(`/api/v1/orders/${reservation.reservationId}`, { token: guestToken })).status,
      )
      .toBe(200);
    // Another viewer cannot see it: not found, not forbidden.
    expect(
      (await api(`/api/v1/orders/${reservation.reservationId}`, { token: otherViewerToken })).status,
    ).toBe(404);

    const declined = await api(`/api/v1/orders/${reservation.reservationId}/pay`, {
      token: guestToken,
      body: { token: SandboxToken.declined, idempotencyKey: key() },
    });
    expect(declined.status).toBe(402);
    expect(await declined.json()).toMatchObject({ error: { code: "PAYMENT_DECLINED" } });
    const paid = await api(`/api/v1/orders/${reservation.reservationId}/pay`, {
      token: guestToken,
      body: { token: SandboxToken.success, idempotencyKey: key() },
    });
    expect(paid.status).toBe(200);
    expect(await paid.json()).toMatchObject({ status: "paid", totalMinor: 25_800 });

    const soldOut = await api("/api/v1/drops/api-drop/buy", {
      token: viewerToken,
      body: { qty: 2, idempotencyKey: key() },
    });
    expect(soldOut.status).toBe(409);
    expect(await soldOut.json()).toMatchObject({ error: { code: "INSUFFICIENT_STOCK" } });
  });

  it("host actions are checked on the server: no token 401, a viewer or another room's host 403", async () => {
    await api("/api/v1/rooms/studio/drops", {
      token: hostToken,
      body: { dropId: "guarded", product, initialStock: 1, perUserLimit: 1, holdMs: 60_000 },
    });
    const otherHost = await tokens.issue({
      userId: "host-2",
      role: "host",
      rooms: ["elsewhere"],
      ttlSeconds: 600,
    });
    const cases: [string, string | undefined, unknown, number, string][] = [
      ["/api/v1/drops/guarded/pause", undefined, {}, 401, "UNAUTHORIZED"],
      ["/api/v1/drops/guarded/pause", "not-a-token", {}, 401, "UNAUTHORIZED"],
      ["/api/v1/drops/guarded/pause", viewerToken, {}, 403, "FORBIDDEN"],
      ["/api/v1/drops/guarded/restock", viewerToken, { qty: 5 }, 403, "FORBIDDEN"],
      ["/api/v1/drops/guarded/launch", otherHost, {}, 403, "FORBIDDEN"],
      [
        "/api/v1/rooms/studio/drops",
        viewerToken,
        { dropId: "x", product, initialStock: 1, perUserLimit: 1, holdMs: 60_000 },
        403,
        "FORBIDDEN",
      ],
    ];
    for (const [path, token, body, status, code] of cases) {
      const res = await api(path, { ...(token ? { token } : {}), body });
      expect(res.status, `${path} ${token?.slice(0, 8)}`).toBe(status);
      expect(await res.json()).toMatchObject({ error: { code } });
    }
    expect(await (await api("/api/v1/drops/guarded")).json()).toMatchObject({
      state: "live",
      available: 1,
      restocked: 0,
    });
  });

  it("bad requests get a 4xx with a code and change nothing", async () => {
    await api("/api/v1/rooms/studio/drops", {
      token: hostToken,
      body: { dropId: "strict", product, initialStock: 5, perUserLimit: 2, holdMs: 60_000 },
    });
    const cases: [Parameters<typeof api>[1] & { path?: string }, number, string][] = [
      [{ token: viewerToken, raw: "{not json" }, 400, "BAD_JSON"],
      [
        { token: viewerToken, raw: "qty=1", type: "application/x-www-form-urlencoded" },
        415,
        "UNSUPPORTED_MEDIA_TYPE",
      ],
      [
        { token: viewerToken, raw: JSON.stringify({ qty: 1, idempotencyKey: "k".repeat(20_000) }) },
        413,
        "BODY_TOO_LARGE",
      ],
      [{ token: viewerToken, body: { qty: 0, idempotencyKey: key() } }, 400, "INVALID_INPUT"],
      [{ token: viewerToken, body: { qty: 1 } }, 400, "INVALID_INPUT"],
      [{ token: viewerToken, body: { qty: 1, idempotencyKey: key(), extra: true } }, 400, "INVALID_INPUT"],
      [{ token: viewerToken, body: { qty: 3, idempotencyKey: key() } }, 400, "INVALID_INPUT"],
      [
        { token: viewerToken, body: { qty: 1, idempotencyKey: key() }, path: "/api/v1/drops/nope/buy" },
        404,
        "DROP_NOT_FOUND",
      ],
      [
        { token: viewerToken, body: { qty: 1, idempotencyKey: key() }, path: "/api/v1/drops/bad%20id/buy" },
        400,
        "INVALID_INPUT",
      ],
    ];
    for (const [init, status, code] of cases) {
      const res = await api(init.path ?? "/api/v1/drops/strict/buy", init);
      expect(res.status, JSON.stringify(init).slice(0, 80)).toBe(status);
      expect(await res.json()).toMatchObject({ error: { code } });
    }
    expect(await (await api("/api/v1/drops/strict")).json()).toMatchObject({ available: 5, held: 0 });
  });

  it("creates a fair-window drop and publishes its window and seed commitment", async () => {
    const res = await api("/api/v1/rooms/studio/drops", {
      token: hostToken,
      body: {
        dropId: "fair",
        product,
        initialStock: 5,
        perUserLimit: 1,
        holdMs: 60_000,
        fairWindowMs: 3_000,
      },
    });
    expect(res.status).toBe(201);
    const { drop } = (await res.json()) as CreateDropResponse;
    expect(drop.fair).toMatchObject({ windowMs: 3_000, seed: null, allocatedAt: null });
    expect(drop.fair?.seedHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("guest tokens are rate limited per address", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push((await api("/api/v1/tokens/guest", { body: {} })).status);
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(5);
  });
});
