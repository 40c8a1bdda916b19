import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, isPortFree, parentDeathSupported } from "../../deploy/index.ts";
import { dropCreateArgs, livedrop, startLivedrop } from "../harness/cli.ts";
import { type PrivateRedis, startPrivateRedis } from "../harness/redis.ts";

/** Polls `check` until it holds, up to `timeoutMs`. */
async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie is dead: it holds no port and no file.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

function redisPid(dataDir: string): number {
  return Number(readFileSync(path.join(dataDir, "redis", "redis.pid"), "utf8").trim());
}

async function readyz(gatewayPort: string): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${gatewayPort}/readyz`)).status;
  } catch {
    return 0;
  }
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/** Grace period given to each shutdown here, ms: the launcher must exit within it. */
const GRACE_MS = 20_000;

describe("the launcher's processes", () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(path.join(os.tmpdir(), "livedrop-life-"));
    dirs.push(d);
    return d;
  };
  let env: Record<string, string>;
  let redis: PrivateRedis;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    env = {
      LIVEDROP_DATA_DIR: tempDir(),
      LIVEDROP_REDIS_PORT: String(await freePort()),
      GATEWAY_PORT: String(await freePort()),
      MEDIA_PORT: String(await freePort()),
      MEDIA_HLS: "false",
      MEDIA_WORKERS: "1",
      LIVEDROP_REDIS_RESTART_MIN_MS: "200",
      LIVEDROP_STOP_GRACE_MS: String(GRACE_MS),
      LOG_LEVEL: "warn",
    };
  });
  afterAll(async () => {
    await redis?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("a second launcher or gateway on a taken port exits at once with PORT_IN_USE naming the port; a killed redis-server is restarted with its data; SIGTERM exits within the grace period", async () => {
    const first = await startLivedrop(env);
    try {
      expect((await livedrop(dropCreateArgs("keep-1"), env)).code).toBe(0);
      // One process, one scrape: the order pipeline's metrics are on the gateway's page.
      const metrics = await (await fetch(`http://127.0.0.1:${env.GATEWAY_PORT}/metrics`)).text();
      expect(metrics).toContain("livedrop_gateway_process_resident_memory_bytes");
      expect(metrics).toContain("livedrop_orders_jobs");
      const families = [...metrics.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]);
      expect(families.length).toBe(new Set(families).size);

      // Another launcher (own data directory and Redis port) on the same gateway port.
      const t0 = Date.now();
      const second = await livedrop(["start"], {
        ...env,
        LIVEDROP_DATA_DIR: tempDir(),
        LIVEDROP_REDIS_PORT: String(await freePort()),
        MEDIA_PORT: String(await freePort()),
      });
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`error PORT_IN_USE: port ${env.GATEWAY_PORT} (GATEWAY_PORT) is in use`);
      // A gateway node against another Redis, same port.
      const gateway = await livedrop(["gateway"], {
        REDIS_URL: redis.url,
        LIVEDROP_DATA_DIR: tempDir(),
        GATEWAY_PORT: env.GATEWAY_PORT as string,
        LOG_LEVEL: "warn",
      });
      expect(gateway.code).toBe(1);
      expect(gateway.stderr).toContain(`port ${env.GATEWAY_PORT} (GATEWAY_PORT) is in use`);
      // "At once": both refused before opening anything (no Redis, no PGlite), well under the grace.
      expect(Date.now() - t0).toBeLessThan(GRACE_MS);
      expect(await readyz(env.GATEWAY_PORT as string)).toBe(200);

      // The embedded Redis dies under the running launcher: it comes back with its AOF.
      const before = redisPid(env.LIVEDROP_DATA_DIR as string);
      process.kill(before, "SIGKILL");
      await until(
        "redis-server restarted",
        () => {
          const now = redisPid(env.LIVEDROP_DATA_DIR as string);
          return now !== before && alive(now);
        },
        30_000,
      );
      await until(
        "/readyz 200 again",
        async () => (await readyz(env.GATEWAY_PORT as string)) === 200,
        30_000,
      );
      expect(first.output()).toContain("embedded redis-server died (SIGKILL); restarting");
      const status = await livedrop(["drop", "status", "keep-1", "--json"], env);
      expect(JSON.parse(status.stdout)).toMatchObject({ dropId: "keep-1", available: 50 });
    } finally {
      const t1 = Date.now();
      // SIGTERM to the launcher alone, as a service manager sends it.
      if (first.child.pid !== undefined) process.kill(first.child.pid, "SIGTERM");
      const code = await exitOf(first.child);
      expect(Date.now() - t1).toBeLessThan(GRACE_MS);
      expect(code).toBe(0);
      expect(first.output()).toContain("stopped");
    }
    expect(await isPortFree(Number(env.LIVEDROP_REDIS_PORT))).toBe(true);
  }, 240_000);

  it("a SIGKILLed launcher takes its redis-server with it, and the next start on the data directory has the old data", async () => {
    expect(parentDeathSupported).toBe(true);
    const killed = await startLivedrop(env);
    const orphan = redisPid(env.LIVEDROP_DATA_DIR as string);
    if (killed.child.pid !== undefined) process.kill(killed.child.pid, "SIGKILL");
    await exitOf(killed.child);
    await until("redis-server gone", () => !alive(orphan), 5_000);

    const again = await startLivedrop(env);
    try {
      const status = await livedrop(["drop", "status", "keep-1", "--json"], env);
      expect(JSON.parse(status.stdout)).toMatchObject({ dropId: "keep-1", available: 50 });
    } finally {
      expect(await again.stop("SIGTERM")).toBe(0);
    }
  }, 240_000);

  it("a redis-server left running on the data directory by a launcher that died is taken over", async () => {
    // What a launcher leaves behind where there is no parent-death signal: a bare redis-server on
    // the data directory, its pid file there, its parent gone.
    const dir = path.join(env.LIVEDROP_DATA_DIR as string, "redis");
    const leftover = spawn(
      "redis-server",
      [
        "--port",
        env.LIVEDROP_REDIS_PORT as string,
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--appendonly",
        "yes",
        "--pidfile",
        path.join(dir, "redis.pid"),
        "--logfile",
        path.join(dir, "redis.log"),
      ],
      { stdio: "ignore", detached: true },
    );
    leftover.unref();
    const pid = leftover.pid as number;
    try {
      await until(
        "leftover redis-server listening",
        async () => !(await isPortFree(Number(env.LIVEDROP_REDIS_PORT))),
        20_000,
      );
      await until("leftover pid file", () => redisPid(env.LIVEDROP_DATA_DIR as string) === pid, 20_000);

      const taken = await startLivedrop(env);
      try {
        expect(alive(pid)).toBe(false);
        expect(redisPid(env.LIVEDROP_DATA_DIR as string)).not.toBe(pid);
        const status = await livedrop(["drop", "status", "keep-1", "--json"], env);
        expect(JSON.parse(status.stdout)).toMatchObject({ dropId: "keep-1", available: 50 });
      } finally {
        expect(await taken.stop("SIGTERM")).toBe(0);
      }
    } finally {
      if (alive(pid)) process.kill(pid, "SIGKILL");
    }
  }, 240_000);
});
