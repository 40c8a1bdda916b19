import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientAddress } from "../../gateway/client-address.ts";
import { GatewayServer } from "../../gateway/index.ts";
import { type GatewayStack, startGatewayStack } from "../harness/gateway.ts";
import { dropDefinition } from "../sale-engine/fixtures.ts";

let g: GatewayStack;
/** A node behind a "load balancer" on loopback: 127.0.0.1 is a trusted proxy. */
let proxied: GatewayServer;

beforeAll(async () => {
  g = await startGatewayStack();
  proxied = await GatewayServer.create({
    ...g.options,
    limits: {
      trustedProxies: ["127.0.0.1"],
      apiAddressRate: 1,
      apiAddressBurst: 5,
      apiUserRate: 1,
      apiUserBurst: 10,
    },
  });
}, 120_000);

afterAll(async () => {
  await proxied?.close();
  await g?.stop();
});

/** Sends raw bytes and returns the whole answer (the server closes, or 2 s pass). */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(request));
    let data = "";
    socket.on("data", (d) => {
      data += d.toString();
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(data));
    setTimeout(() => {
      socket.destroy();
      resolve(data);
    }, 2_000).unref();
  });
}

async function get(server: GatewayServer, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}${path}`, { headers });
  await res.arrayBuffer();
  return res.status;
}

describe("HTTP limits and request hygiene", () => {
  it("a body-less host action refuses any body but nothing or {}: the drop is not paused", async () => {
    const def = dropDefinition({ roomId: "hyg" });
    await g.stack.engine.createDrop(def);
    const host = await g.token("hyg-host", "host", ["hyg"]);
    const pause = (body: string | undefined, contentType?: string) =>
      fetch(`${g.server.url}/api/v1/drops/${def.dropId}/pause`, {
        method: "POST",
        headers: { authorization: `Bearer ${host}`, ...(contentType ? { "content-type": contentType } : {}) },
        ...(body === undefined ? {} : { body }),
      });
    const junk = await pause("junk", "text/plain");
    expect(junk.status).toBe(415);
    const extra = await pause(JSON.stringify({ qty: 3 }), "application/json");
    expect(extra.status).toBe(400);
    expect(((await extra.json()) as { error: { code: string } }).error.code).toBe("INVALID_INPUT");
    expect((await g.stack.engine.status(def.dropId)).state).not.toBe("paused");
    expect((await pause(JSON.stringify({}), "application/json")).status).toBe(200);
    expect((await g.stack.engine.status(def.dropId)).state).toBe("paused");
  });

  it("drops a connection whose request has differing Content-Lengths, or one next to Transfer-Encoding, serving nothing smuggled", async () => {
    // uWS would frame this body by the first length (2) and serve the rest as a second request.
    const smuggle =
      "POST /api/v1/tokens/guest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
      "Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}GET /api/v1/config HTTP/1.1\r\nHost: x\r\n\r\n";
    expect(await raw(g.server.port, smuggle)).toBe("");
    const both =
      "POST /api/v1/tokens/guest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
      "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
    expect(await raw(g.server.port, both)).toBe("");
    const healthz = "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab";
    expect(await raw(g.server.port, healthz)).toBe("");
    const metrics = await (await fetch(`${g.server.url}/metrics`)).text();
    expect(metrics).toMatch(/livedrop_http_requests_total\{route="token.guest",status="framing"\} [12]/);
    // Identical duplicates frame the body one way only: accepted.
    const same =
      "POST /api/v1/tokens/guest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
      "Content-Length: 2\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
    expect(await raw(g.server.port, same)).toMatch(/^HTTP\/1\.1 201/);
  });

  it("signed-in callers are limited per user, not per address: many users behind one address all pass", async () => {
    // 30 users × 8 calls from one address: 240 calls, far past the per-address burst of 5.
    const tokens = await Promise.all(Array.from({ length: 30 }, (_, i) => g.token(`lb-user-${i}`)));
    const statuses: number[] = [];
    await Promise.all(
      tokens.map(async (t) => {
        for (let i = 0; i < 8; i++)
          statuses.push(await get(proxied, "/api/v1/config", { authorization: `Bearer ${t}` }));
      }),
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // One user flooding is still limited (burst 10), while another user is served.
    const flooder = tokens[0] as string;
    const flood: number[] = [];
    for (let i = 0; i < 30; i++)
      flood.push(await get(proxied, "/api/v1/config", { authorization: `Bearer ${flooder}` }));
    expect(flood).toContain(429);
    expect(await get(proxied, "/api/v1/config", { authorization: `Bearer ${tokens[1]}` })).toBe(200);
  });

  it("anonymous callers are limited per client address, taken from X-Forwarded-For only from a trusted proxy", async () => {
    const from = (client: string) => get(proxied, "/api/v1/config", { "x-forwarded-for": client });
    const first: number[] = [];
    for (let i = 0; i < 12; i++) first.push(await from("203.0.113.7"));
    expect(first).toContain(429);
    // Another client behind the same proxy has its own allowance.
    expect(await from("203.0.113.8")).toBe(200);
    // A forged left-most entry does not buy a new allowance: the proxy appended the real one.
    expect(await from("198.51.100.1, 203.0.113.7")).toBe(429);
    // A bad token counts against the address like an anonymous call.
    const bad: number[] = [];
    for (let i = 0; i < 12; i++)
      bad.push(
        await get(proxied, "/api/v1/config", {
          "x-forwarded-for": "203.0.113.9",
          authorization: "Bearer nope",
        }),
      );
    expect(bad.slice(0, 5).every((s) => s === 401)).toBe(true);
    expect(bad).toContain(429);
  });

  it("a buy while Redis is away is answered 503 UNAVAILABLE within the deadline; the same key later returns the hold", async () => {
    const def = dropDefinition({ roomId: "away", initialStock: 5 });
    await g.stack.engine.createDrop(def);
    const buyer = await g.token("away-buyer");
    const idempotencyKey = "away-key-1";
    const buy = () =>
      fetch(`${g.server.url}/api/v1/drops/${def.dropId}/buy`, {
        method: "POST",
        headers: { authorization: `Bearer ${buyer}`, "content-type": "application/json" },
        body: JSON.stringify({ qty: 1, idempotencyKey }),
      });
    const pid = g.redis.server.pid as number;
    process.kill(pid, "SIGSTOP");
    let away: Response;
    const startedAt = Date.now();
    try {
      away = await buy();
    } finally {
      process.kill(pid, "SIGCONT");
    }
    const waited = Date.now() - startedAt;
    expect(away.status).toBe(503);
    expect(away.headers.get("retry-after")).toBe("1");
    expect(((await away.json()) as { error: { code: string } }).error.code).toBe("UNAVAILABLE");
    // The default deadline is 3 s (ioredis alone would hold the buy until Redis returns).
    expect(waited).toBeLessThan(10_000);
    // The queued command ran once Redis was back: the retry with the same key finds that hold.
    const retried = await buy();
    expect([200, 201]).toContain(retried.status);
    const again = (await (await buy()).json()) as { reservationId: string; replayed: boolean };
    expect(again.replayed).toBe(true);
    expect((await g.stack.engine.status(def.dropId)).held).toBe(1);
  });

  it("resolves the client address right to left through trusted proxies only", () => {
    const a = new ClientAddress(["10.0.0.0/8", "::1"]);
    expect(a.resolve("192.0.2.1", "203.0.113.5")).toBe("192.0.2.1"); // untrusted peer: header ignored
    expect(a.resolve("10.1.2.3", "203.0.113.5")).toBe("203.0.113.5");
    expect(a.resolve("10.1.2.3", "198.51.100.9, 203.0.113.5, 10.9.9.9")).toBe("203.0.113.5");
    expect(a.resolve("::1", "garbage")).toBe("::1");
    expect(a.resolve("::ffff:10.0.0.1", "203.0.113.6")).toBe("203.0.113.6");
    expect(new ClientAddress([]).resolve("10.1.2.3", "203.0.113.5")).toBe("10.1.2.3");
    expect(() => new ClientAddress(["not-an-ip"])).toThrow();
  });
});
