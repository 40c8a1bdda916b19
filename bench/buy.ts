import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { TokenService } from "../auth/index.ts";
import { connectRedis, ValidationError } from "../core/index.ts";
import { freePort, RedisServerProcess } from "../deploy/index.ts";
import { SaleEngine } from "../sale-engine/index.ts";
import { startGatewayChild } from "./gateway-child.ts";
import { closedLoop, percentile, progress, round } from "./measure.ts";
import { processCpuMicros } from "./process-cpu.ts";

const here = path.dirname(new URL(import.meta.url).pathname);

/**
 * Buys over WebSocket through a `livedrop gateway` child (clients in a separate process, one
 * socket per buyer, each at most ~16 buys a second as the gateway allows) against direct
 * sale-engine calls at the same concurrency, in the same run, on the same private Redis.
 * 3,000 buyers by default: a flash-sale crowd, and enough that the per-connection frame limit
 * (not the gateway) would cap the WebSocket side only above ~50,000 buys a second.
 */
export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { quick: { type: "boolean", default: false }, sockets: { type: "string", default: "3000" } },
    strict: true,
  });
  const sockets = Number(values.sockets);
  if (!(sockets >= 1 && sockets <= 20_000)) throw new ValidationError("--sockets 1..20000");
  const durationMs = values.quick ? 5_000 : 15_000;

  const dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-bench-buy-"));
  const redis = await RedisServerProcess.start({
    port: await freePort(),
    dir: path.join(dir, "redis"),
    appendfsync: "always",
  });
  const client = connectRedis({ url: redis.url });
  const prefix = `buy-${randomUUID().slice(0, 6)}`;
  const engine = await SaleEngine.create({ redis: client, prefix });
  const secret = randomUUID().repeat(2);
  const { child: gateway, wsUrl } = await startGatewayChild({
    redisUrl: redis.url,
    dataDir: dir,
    keyPrefix: prefix,
    tokenSecret: secret,
    maxConnectionsPerIp: sockets + 10,
  });
  try {
    const drop = (id: string) => ({
      dropId: id,
      roomId: "bench",
      product: {
        sku: "BUY",
        title: "Buy bench item",
        priceMinor: 100,
        currency: "USD",
        imageUrl: "https://example.com/x.png",
      },
      initialStock: 10_000_000,
      perUserLimit: 1_000,
      holdMs: 3_600_000,
    });
    const viaGateway = `gw-${randomUUID().slice(0, 8)}`;
    const direct = `dir-${randomUUID().slice(0, 8)}`;
    await engine.createDrop(drop(viaGateway));
    await engine.createDrop(drop(direct));
    const tokens = await TokenService.create({ secret });
    const tokenList = await Promise.all(
      Array.from({ length: sockets }, (_, i) =>
        tokens.issue({ userId: `buyer-${i}`, role: "viewer", ttlSeconds: 3600 }),
      ),
    );

    const load = fork(path.join(here, "buy-clients.mjs"), [wsUrl, viaGateway, String(durationMs)], {
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    // CPU of each process while the sockets buy: on 2 cores, what the gateway gets is what the
    // load process and Redis leave it.
    let cpuAtStart = { gateway: 0, redis: 0 };
    const report = new Promise<{
      acks: number;
      ok: number;
      elapsedMs: number;
      p99Ms: number;
      cpuMicros: number;
    }>((resolve) =>
      load.on("message", (m: { type: string }) => {
        if (m.type === "buying")
          cpuAtStart = {
            gateway: processCpuMicros(gateway.pid) ?? 0,
            redis: processCpuMicros(redis.pid) ?? 0,
          };
        else if (m.type === "report") resolve(m as never);
      }),
    );
    load.send({ tokens: tokenList });
    const ws = await report;
    const share = (micros: number) => `${Math.round((micros / (ws.elapsedMs * 1000)) * 100)} %`;
    load.kill("SIGTERM");
    progress(
      `over WebSocket: ${ws.acks} acks (${ws.ok} holds) in ${Math.round(ws.elapsedMs)} ms; CPU meanwhile: gateway ${share((processCpuMicros(gateway.pid) ?? 0) - cpuAtStart.gateway)}, Redis ${share((processCpuMicros(redis.pid) ?? 0) - cpuAtStart.redis)}, load process ${share(ws.cpuMicros)} (of 100 % a core)`,
    );

    const d = await closedLoop(sockets, durationMs, (n) =>
      engine.reserve({ dropId: direct, userId: `buyer-${n % sockets}`, qty: 1, idempotencyKey: `d-${n}` }),
    );
    progress(`direct: ${d.count} reserves in ${Math.round(d.elapsedMs)} ms`);

    const acksPerSec = ws.acks / (ws.elapsedMs / 1000);
    const directPerSec = d.count / (d.elapsedMs / 1000);
    const statuses = await Promise.all([engine.status(viaGateway), engine.status(direct)]);
    const oversold = statuses.reduce(
      (n, s) => n + Math.max(0, s.held + s.sold - (s.initial + s.restocked)),
      0,
    );
    const result = {
      bench: "buy",
      acksPerSec: Math.round(acksPerSec),
      p99Ms: round(ws.p99Ms),
      directPerSec: Math.round(directPerSec),
      ratio: round(acksPerSec / directPerSec, 3),
      oversold,
      sockets,
      directP99Ms: round(percentile(d.latencies.sort(), 99)),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return oversold === 0 ? 0 : 1;
  } finally {
    if (gateway.exitCode === null) gateway.kill("SIGKILL");
    await engine.close();
    client.disconnect();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
