import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenService } from "../../auth/index.ts";
import { childLogger } from "../../core/index.ts";
import { GatewayServer } from "../../gateway/index.ts";
import { Checkout, OrderStore, SandboxPaymentProvider } from "../../orders/index.ts";
import { SaleEngine } from "../../sale-engine/index.ts";
import { dropCreateArgs, livedrop } from "../harness/cli.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";

/**
 * The embedded-store case of `npm start`: the running stack holds the PGlite order store, so a
 * CLI drop change hands its audit row over through Redis and the gateway writes it.
 */
let redis: PrivateRedis;
let dataDir: string;
let store: OrderStore;
let engine: SaleEngine;
let server: GatewayServer;
let env: Record<string, string>;

beforeAll(async () => {
  redis = await startPrivateRedis();
  dataDir = mkdtempSync(path.join(os.tmpdir(), "livedrop-inbox-"));
  const prefix = uniquePrefix("inbox");
  store = await OrderStore.open({ kind: "pglite", dataDir: path.join(dataDir, "orders") });
  const client = redis.client();
  engine = await SaleEngine.create({ redis: client, prefix });
  server = await GatewayServer.create({
    host: "127.0.0.1",
    port: 0,
    redis: client,
    store,
    engine,
    checkout: new Checkout({
      engine,
      store,
      payments: SandboxPaymentProvider.inRedis(client, prefix),
      redis: client,
      keyPrefix: prefix,
    }),
    tokens: await TokenService.create({ secret: "i".repeat(48) }),
    guestTokenTtlS: 3600,
    subscriber: redis.client(),
    keyPrefix: prefix,
    log: childLogger("test-inbox"),
    limits: { auditInboxDrainMs: 100 },
  });
  env = {
    REDIS_URL: redis.url,
    LIVEDROP_DATA_DIR: dataDir,
    LIVEDROP_KEY_PREFIX: prefix,
    LOG_LEVEL: "silent",
  };
}, 120_000);

afterAll(async () => {
  await server?.close();
  await engine?.close();
  await store?.close();
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("CLI audit rows while the running stack holds the embedded store", () => {
  it("drop changes from the CLI reach the audit log through the gateway, with the time they happened", async () => {
    const dropId = "inbox-drop";
    const before = Date.now();
    const created = await livedrop(dropCreateArgs(dropId), env);
    expect(created.code, created.stderr).toBe(0);
    const paused = await livedrop(["drop", "pause", dropId, "--json"], env);
    expect(paused.code, paused.stderr).toBe(0);
    const refused = await livedrop(["drop", "resume", "no-such-drop", "--json"], env);
    expect(refused.code).toBe(2);
    await expect
      .poll(
        async () =>
          (await store.audit({ limit: 10 }))
            .filter((e) => e.actorRole === "cli")
            .map((e) => [e.action, e.target, e.outcome]),
        { timeout: 15_000, interval: 100 },
      )
      .toEqual([
        ["drop.resume", "no-such-drop", "DROP_NOT_FOUND"],
        ["drop.pause", dropId, "ok"],
        ["drop.create", dropId, "ok"],
      ]);
    const rows = await store.audit({ target: dropId });
    for (const r of rows) {
      expect(r.actor).toMatch(/^cli:/);
      expect(r.at).toBeGreaterThanOrEqual(before - 1_000);
    }
    // Each row once: the inbox is empty after the drain.
    expect(await redis.client().xlen(`${env.LIVEDROP_KEY_PREFIX}:audit:inbox`)).toBe(0);
  }, 60_000);
});
