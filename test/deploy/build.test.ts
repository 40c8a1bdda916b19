import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../deploy/index.ts";
import { type PrivatePostgres, startPrivatePostgres } from "../harness/postgres.ts";
import { type PrivateRedis, startPrivateRedis } from "../harness/redis.ts";

/**
 * The compiled server: `scripts/build.mjs --server` into a folder laid out like an install (its
 * own package.json and node_modules beside dist/), then each role run from it with plain `node`,
 * no TypeScript loader: a module that still needed one would fail to load.
 */
const root = path.resolve(import.meta.dirname, "../..");
let app = "";
let redis: PrivateRedis;
let pg: PrivatePostgres;
const children: ChildProcess[] = [];

beforeAll(async () => {
  app = mkdtempSync(path.join(os.tmpdir(), "livedrop-build-"));
  writeFileSync(path.join(app, "package.json"), '{"name":"livedrop-build-test","type":"module"}\n');
  symlinkSync(path.join(root, "node_modules"), path.join(app, "node_modules"), "dir");
  mkdirSync(path.join(app, "client"));
  const built = spawnSync(
    process.execPath,
    [path.join(root, "scripts/build.mjs"), "--server", "--out", path.join(app, "dist")],
    {
      encoding: "utf8",
    },
  );
  if (built.status !== 0) throw new Error(`build failed:\n${built.stdout}\n${built.stderr}`);
  [redis, pg] = await Promise.all([startPrivateRedis(), startPrivatePostgres()]);
}, 180_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await redis?.stop();
  await pg?.stop();
  if (app) rmSync(app, { recursive: true, force: true });
});

/** Runs `node dist/cli/main.js <role>` from the build; resolves once it printed `ready`. */
async function startRole(role: string, env: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(app, "dist/cli/main.js"), role], {
    cwd: app,
    env: {
      PATH: process.env.PATH ?? "",
      REDIS_URL: redis.url,
      DATABASE_URL: pg.url,
      LIVEDROP_KEY_PREFIX: `build-${role}`,
      LIVEDROP_DATA_DIR: path.join(app, `data-${role}`),
      GATEWAY_TOKEN_SECRET: "build-test-secret-".padEnd(48, "x"),
      LIVEDROP_SHADOW: "off",
      LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) resolve();
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${role} exited with ${code}:\n${output}`)));
  });
  return child;
}

/** SIGTERM, then the exit code (bounded by the test's timeout). */
function terminate(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.kill("SIGTERM");
  });
}

describe("the compiled server (npm run build)", () => {
  it("holds every server module as JavaScript, with the Lua and SQL files beside it, and no TypeScript", () => {
    const files = readdirSync(path.join(app, "dist"), { recursive: true }).map(String);
    expect(files.some((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toBe(false);
    for (const f of [
      "cli/main.js",
      "gateway/server.js",
      "sale-engine/lua/reserve.lua",
      "gateway/lua/room-append.lua",
    ])
      expect(existsSync(path.join(app, "dist", f)), f).toBe(true);
    expect(
      files.filter((f) => f.startsWith(path.join("orders", "store", "migrations"))).length,
    ).toBeGreaterThan(1);
  });

  it("a gateway runs from dist/ with plain node: healthy, ready, metrics; SIGTERM drains and exits 0", async () => {
    const port = await freePort();
    const gateway = await startRole("gateway", { GATEWAY_PORT: String(port) }, /livedrop gateway on/);
    const url = `http://127.0.0.1:${port}`;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await expect.poll(async () => (await fetch(`${url}/readyz`)).status, { timeout: 10_000 }).toBe(200);
    expect(await (await fetch(`${url}/metrics`)).text()).toContain("livedrop_gateway_");
    expect(await terminate(gateway)).toBe(0);
  }, 60_000);

  it("a worker runs from dist/ with its probes on WORKER_PORT; SIGTERM stops it with exit 0", async () => {
    const port = await freePort();
    const worker = await startRole("worker", { WORKER_PORT: String(port) }, /livedrop worker running/);
    const url = `http://127.0.0.1:${port}`;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", checks: { redis: "ok", store: "ok" } });
    expect(await (await fetch(`${url}/metrics`)).text()).toContain(
      "livedrop_worker_process_resident_memory_bytes",
    );
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    expect(await terminate(worker)).toBe(0);
  }, 60_000);
});
