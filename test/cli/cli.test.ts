import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, isPortFree } from "../../deploy/index.ts";
import { dropCreateArgs, livedrop, startLivedrop } from "../harness/cli.ts";
import { type PrivateRedis, startPrivateRedis } from "../harness/redis.ts";

const createArgs = (id: string) => dropCreateArgs(id, "--hold", "5m");

describe("`livedrop start` with the embedded Redis", () => {
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "livedrop-start-"));
    env = {
      LIVEDROP_DATA_DIR: dataDir,
      LIVEDROP_REDIS_PORT: String(await freePort()),
      GATEWAY_PORT: String(await freePort()),
      MEDIA_PORT: String(await freePort()),
      LOG_LEVEL: "warn",
    };
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("runs Redis with AOF in the data directory, stops cleanly on Ctrl-C (SIGINT to the whole process group) and finds its drops again", async () => {
    const first = await startLivedrop(env);
    expect(first.output()).toContain(`redis://127.0.0.1:${env.LIVEDROP_REDIS_PORT}`);
    expect(first.output()).toContain("appendfsync always");
    const health = await fetch(`http://127.0.0.1:${env.GATEWAY_PORT}/healthz`);
    expect(health.status).toBe(200);
    expect(first.output()).toMatch(
      /orders\s+PGlite \(embedded\) in .*orders, 0 order\(s\); relay, workers, hold expiry/,
    );

    const created = await livedrop(createArgs("neon-1"), env);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({
      created: true,
      drop: { dropId: "neon-1", state: "live", available: 50 },
    });
    expect((await livedrop(["drop", "restock", "neon-1", "--qty", "5", "--json"], env)).code).toBe(0);
    expect(JSON.parse((await livedrop(["drop", "pause", "neon-1", "--json"], env)).stdout)).toEqual({
      dropId: "neon-1",
      state: "paused",
      changed: true,
    });

    // A second launcher on the same port is refused with a clear message.
    const second = await livedrop(["start"], env);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`error PORT_IN_USE: port ${env.GATEWAY_PORT} (GATEWAY_PORT) is in use`);

    expect(await first.stop("SIGINT")).toBe(0);
    expect(first.output()).toContain("stopped");
    expect(await isPortFree(Number(env.LIVEDROP_REDIS_PORT))).toBe(true);

    const again = await startLivedrop(env);
    try {
      // neon-1 and the demo room's drop, which the launcher creates once.
      expect(again.output()).toContain("2 drop(s) on record");
      const status = JSON.parse((await livedrop(["drop", "status", "neon-1", "--json"], env)).stdout);
      expect(status).toMatchObject({
        state: "paused",
        available: 55,
        initial: 50,
        restocked: 5,
        product: { priceMinor: 12_990 },
      });
      const list = JSON.parse((await livedrop(["drop", "list", "--json"], env)).stdout) as {
        dropId: string;
      }[];
      expect(list.map((d) => d.dropId).sort()).toEqual(["demo-sneaker-1", "neon-1"]);
    } finally {
      expect(await again.stop("SIGTERM")).toBe(0);
    }
    // Starts the whole stack (media tier included) twice.
  }, 240_000);
});

describe("`livedrop drop` against REDIS_URL", () => {
  let redis: PrivateRedis;
  let env: Record<string, string>;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    env = { REDIS_URL: redis.url, LOG_LEVEL: "warn" };
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("re-creating with identical parameters is a no-op; conflicting parameters are refused with exit 2", async () => {
    expect(JSON.parse((await livedrop(createArgs("d1"), env)).stdout)).toMatchObject({ created: true });
    expect(JSON.parse((await livedrop(createArgs("d1"), env)).stdout)).toMatchObject({ created: false });
    const conflict = await livedrop([...createArgs("d1").slice(0, -1), "--stock", "51", "--json"], env);
    expect(conflict.code).toBe(2);
    expect(JSON.parse(conflict.stdout)).toMatchObject({ error: { code: "DROP_CONFLICT" } });
  });

  it("launch opens a scheduled drop now", async () => {
    await livedrop([...createArgs("soon"), "--starts-at", "+1h"], env);
    const res = await livedrop(["drop", "launch", "soon", "--json"], env);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ dropId: "soon", state: "live", changed: true });
  });

  it("--starts-at +DURATION is relative to the server clock and the drop is scheduled", async () => {
    const res = await livedrop([...createArgs("later"), "--starts-at", "+1h", "--ends-at", "+2h"], env);
    const body = JSON.parse(res.stdout) as {
      drop: { state: string; startsAt: number; endsAt: number; serverTime: number };
    };
    expect(body.drop.state).toBe("scheduled");
    expect(body.drop.startsAt - body.drop.serverTime).toBeGreaterThan(3_500_000);
    expect(body.drop.endsAt - body.drop.startsAt).toBe(3_600_000);
  });

  it.each([
    [["drop", "status", "missing", "--json"], "DROP_NOT_FOUND"],
    [["drop", "status", "bad id!", "--json"], "INVALID_INPUT"],
    [["drop", "restock", "d1", "--qty", "zero", "--json"], "INVALID_INPUT"],
    [["drop", "restock", "d1", "--qty", "0", "--json"], "INVALID_INPUT"],
    [["drop", "restock", "d1", "--json"], "INVALID_INPUT"],
    [["drop", "pause", "--json"], "INVALID_INPUT"],
    [["drop", "pause", "d1", "d2", "--json"], "INVALID_INPUT"],
    [["drop", "explode", "d1", "--json"], "INVALID_INPUT"],
    [["drop", "status", "d1", "--colour", "--json"], "INVALID_INPUT"],
    [[...createArgs("p1").slice(0, 10), "--price", "12,99", "--currency", "USD", "--json"], "INVALID_INPUT"],
    [[...createArgs("p2"), "--hold", "forever"], "INVALID_INPUT"],
    [[...createArgs("p3"), "--starts-at", "yesterday-ish"], "INVALID_INPUT"],
    [["drop", "create", "--id", "p4", "--json"], "INVALID_INPUT"],
  ])("livedrop %j answers exit 2 with error %s and changes nothing", async (args, code) => {
    const before = (await livedrop(["drop", "list", "--json"], env)).stdout;
    const res = await livedrop(args as string[], env);
    expect(res.code).toBe(2);
    expect(JSON.parse(res.stdout)).toMatchObject({ error: { code } });
    expect((await livedrop(["drop", "list", "--json"], env)).stdout.replace(/"serverTime":\d+/g, "")).toBe(
      before.replace(/"serverTime":\d+/g, ""),
    );
  });

  it("an unreachable Redis is a clear failure (exit 1), not a hang", async () => {
    const port = await freePort();
    const res = await livedrop(["drop", "list"], { REDIS_URL: `redis://127.0.0.1:${port}` });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`cannot reach Redis at redis://127.0.0.1:${port}`);
  });

  it("bad configuration is reported by name", async () => {
    const res = await livedrop(["drop", "list"], { REDIS_URL: "not a url" });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("REDIS_URL");
  });
});
