import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenService } from "../../auth/index.ts";
import { freePort } from "../../deploy/index.ts";
import { SandboxToken } from "../../orders/index.ts";
import type { ServerFrame } from "../../protocol/index.ts";
import { type PrivatePostgres, startPrivatePostgres } from "../harness/postgres.ts";
import { type PrivateRedis, startPrivateRedis } from "../harness/redis.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/livedrop.mjs");
const SECRET = "p".repeat(48);
const BUYER = "buyer-Kq7Zx9Wv";
const NAME = "Xanthippe Vondergeist";
const ROOM = "pii-room";

/** A `livedrop` role as a child process at debug level; every byte it prints is kept. */
interface Role {
  readonly child: ChildProcess;
  output(): string;
}

function startRole(role: string, env: Record<string, string>, ready: string): Promise<Role> {
  const child = spawn(process.execPath, [bin, role], {
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "debug", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (chunk: Buffer) => {
    out += chunk.toString();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return new Promise((resolve, reject) => {
    const check = setInterval(() => {
      if (out.includes(ready)) {
        clearInterval(check);
        resolve({ child, output: () => out });
      }
    }, 50);
    child.once("exit", (code) => {
      clearInterval(check);
      reject(new Error(`livedrop ${role} exited with ${code}: ${out.slice(-2000)}`));
    });
  });
}

async function stopRole(r: Role | undefined): Promise<void> {
  if (!r || r.child.exitCode !== null || r.child.signalCode !== null) return;
  const exited = new Promise((resolve) => r.child.once("exit", resolve));
  r.child.kill("SIGTERM");
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill("SIGKILL");
}

let redis: PrivateRedis;
let pg: PrivatePostgres;
let gateway: Role | undefined;
let worker: Role | undefined;
let gatewayUrl = "";
let workerUrl = "";

beforeAll(async () => {
  [redis, pg] = await Promise.all([startPrivateRedis(), startPrivatePostgres()]);
  const [gatewayPort, workerPort] = [await freePort(), await freePort()];
  const env = {
    REDIS_URL: redis.url,
    DATABASE_URL: pg.url,
    LIVEDROP_KEY_PREFIX: `pii-${key().slice(0, 8)}`,
    GATEWAY_TOKEN_SECRET: SECRET,
    GATEWAY_PORT: String(gatewayPort),
    WORKER_PORT: String(workerPort),
  };
  worker = await startRole("worker", env, "livedrop worker running");
  gateway = await startRole("gateway", env, "livedrop gateway on");
  gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  workerUrl = `http://127.0.0.1:${workerPort}`;
}, 120_000);

afterAll(async () => {
  await Promise.all([stopRole(gateway), stopRole(worker)]);
  await Promise.all([redis?.stop(), pg?.stop()]);
});

async function api(
  method: string,
  url: string,
  token: string | undefined,
  body?: unknown,
): Promise<Response> {
  return fetch(`${gatewayUrl}${url}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

describe("no personal data in logs or metrics", () => {
  it("a buyer's name, user id and token appear in no log line and no metric of a full run", async () => {
    const tokens = await TokenService.create({ secret: SECRET });
    const buyerToken = await tokens.issue({ userId: BUYER, role: "viewer", name: NAME, ttlSeconds: 3600 });
    const host = await tokens.issue({ userId: "host-pii", role: "host", rooms: [ROOM], ttlSeconds: 3600 });
    const guest = (await (await api("POST", "/api/v1/tokens/guest", undefined)).json()) as {
      token: string;
      userId: string;
    };
    const def = dropDefinition({ roomId: ROOM, initialStock: 5 });
    const { dropId, roomId: _room, ...fields } = def;
    expect((await api("POST", `/api/v1/rooms/${ROOM}/drops`, host, { ...fields, dropId })).status).toBe(201);

    const buyer = await TestSocket.connect(gatewayUrl, buyerToken);
    const guestSocket = await TestSocket.connect(gatewayUrl, guest.token);
    try {
      for (const s of [buyer, guestSocket]) {
        s.send({ t: "join", room: ROOM });
        await s.next((f) => f.t === "joined");
      }
      buyer.send({ t: "chat", room: ROOM, text: "hello from the buyer", clientMsgId: "c1" });
      await buyer.next((f) => f.t === "chat" && f.messages.some((m) => m.userId === BUYER));
      guestSocket.send({ t: "chat", room: ROOM, text: "hello from a guest", clientMsgId: "c2" });
      await guestSocket.next((f) => f.t === "chat" && f.messages.some((m) => m.userId === guest.userId));

      buyer.send({ t: "buy", reqId: "b1", dropId, qty: 1, idempotencyKey: key() });
      const ack = (await buyer.next((f) => f.t === "ack" && f.reqId === "b1")) as Extract<
        ServerFrame,
        { t: "ack" }
      >;
      expect(ack.ok).toBe(true);
      const reservationId = (ack as { result?: { reservationId?: string } }).result?.reservationId ?? "";
      expect(reservationId).not.toBe("");
      await expect
        .poll(async () => (await api("GET", `/api/v1/orders/${reservationId}`, buyerToken)).status, {
          timeout: 20_000,
        })
        .toBe(200);
      const declined = await api("POST", `/api/v1/orders/${reservationId}/pay`, buyerToken, {
        token: SandboxToken.declined,
        idempotencyKey: key(),
      });
      expect(declined.status).toBe(402);
      const paid = await api("POST", `/api/v1/orders/${reservationId}/pay`, buyerToken, {
        token: SandboxToken.success,
        idempotencyKey: key(),
      });
      expect(paid.status).toBe(200);

      // Refused a few times: bad frames, a buy past the limit, a host action, a forged token.
      buyer.send({ t: "nonsense", reqId: "x1" });
      buyer.send({ t: "buy", reqId: "b2", dropId, qty: 0, idempotencyKey: key() });
      buyer.send({ t: "host", reqId: "h1", room: ROOM, action: { kind: "pause", dropId } });
      await buyer.next((f) => f.t === "ack" && f.reqId === "h1");
      expect((await api("GET", `/api/v1/orders/${reservationId}`, `${buyerToken}x`)).status).toBe(401);
      expect((await api("POST", `/api/v1/drops/${dropId}/pause`, buyerToken)).status).toBe(403);
      expect((await api("POST", `/api/v1/drops/${dropId}/buy`, buyerToken, { qty: "many" })).status).toBe(
        400,
      );
    } finally {
      buyer.close();
      guestSocket.close();
    }

    // An admin reads and erases the buyer: audited calls, logged at debug without naming anyone.
    const admin = await tokens.issue({ userId: "admin-pii", role: "admin", ttlSeconds: 3600 });
    expect((await api("GET", `/api/v1/admin/users/${BUYER}/export`, admin)).status).toBe(200);
    expect((await api("POST", `/api/v1/admin/users/${BUYER}/erase`, admin)).status).toBe(200);
    expect((await api("GET", `/api/v1/admin/audit?target=${BUYER}`, admin)).status).toBe(200);

    const metrics = [
      await (await fetch(`${gatewayUrl}/metrics`)).text(),
      await (await fetch(`${workerUrl}/metrics`)).text(),
    ];
    expect(metrics.join("\n")).toContain("livedrop_");
    await Promise.all([stopRole(gateway), stopRole(worker)]);
    const logs = `${gateway?.output() ?? ""}\n${worker?.output() ?? ""}`;
    // Logs were written (at debug), so finding nothing in them means something.
    const lines = logs.split("\n").filter((l) => l.startsWith('{"level"'));
    expect(lines.length).toBeGreaterThan(0);

    const secrets = [BUYER, NAME, buyerToken, buyerToken.split(".")[2] ?? "", guest.userId, guest.token];
    for (const text of [logs, ...metrics])
      for (const s of secrets) {
        expect(s.length).toBeGreaterThan(6);
        expect(text.includes(s), `"${s.slice(0, 24)}..." found`).toBe(false);
      }
  }, 120_000);

  it("the logger censors personal fields a log line passes by mistake (the backstop)", async () => {
    const script = `
      import { logger } from "./core/index.ts";
      logger().warn({ userId: "${BUYER}", name: "${NAME}", token: "tok-123456", caller: { userId: "${BUYER}" },
        err: { message: "boom", details: { userId: "${BUYER}" } } }, "a careless line");`;
    const out = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
        cwd: path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../.."),
        env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "debug" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let text = "";
      child.stdout?.on("data", (c: Buffer) => {
        text += c.toString();
      });
      child.stderr?.on("data", (c: Buffer) => {
        text += c.toString();
      });
      child.once("exit", () => resolve(text));
    });
    expect(out).toContain("a careless line");
    expect(out).toContain("[redacted]");
    for (const s of [BUYER, NAME, "tok-123456"]) expect(out.includes(s), s).toBe(false);
  }, 30_000);
});
