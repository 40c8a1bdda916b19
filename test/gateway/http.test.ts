import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childLogger } from "../../core/index.ts";
import { GatewayServer } from "../../gateway/index.ts";
import { OrderStore } from "../../orders/index.ts";
import { type PrivatePostgres, startPrivatePostgres } from "../harness/postgres.ts";
import { type PrivateRedis, startPrivateRedis } from "../harness/redis.ts";

let redis: PrivateRedis;
let pg: PrivatePostgres;
let store: OrderStore;
let server: GatewayServer;

beforeAll(async () => {
  [redis, pg] = await Promise.all([startPrivateRedis(), startPrivatePostgres()]);
  store = await OrderStore.open({ kind: "pg", url: pg.url });
  const client = redis.client();
  client.on("error", () => {});
  server = await GatewayServer.create({
    host: "127.0.0.1",
    port: 0,
    redis: client,
    store,
    log: childLogger("test"),
  });
}, 120_000);

afterAll(async () => {
  await server?.close();
  await server?.close();
  await store?.close();
  await Promise.all([redis?.stop(), pg?.stop()]);
});

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
