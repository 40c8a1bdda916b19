import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { connectRedis, loadConfig, ValidationError } from "../core/index.ts";
import { freePort, RedisServerProcess, startPrivatePostgres } from "../deploy/index.ts";
import { OrderStore, startOrderPipeline } from "../orders/index.ts";
import { SaleEngine } from "../sale-engine/index.ts";
import { percentile, progress, round } from "./measure.ts";

/**
 * Hold → order throughput and latency through the real pipeline: a burst of reservations on a
 * private Redis, the relay, BullMQ and the order worker writing to PGlite (default) or a private
 * PostgreSQL (`--store pg`). Latency is from the buyer's acknowledgement to the order row.
 */
export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      store: { type: "string", default: "pglite" },
      holds: { type: "string" },
    },
    strict: true,
  });
  if (values.store !== "pglite" && values.store !== "pg")
    throw new ValidationError("--store must be pglite or pg");
  const holds = Number(values.holds ?? (values.quick ? 2_000 : 10_000));
  if (!(Number.isInteger(holds) && holds >= 1 && holds <= 200_000))
    throw new ValidationError("--holds 1..200000");

  const dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-bench-orders-"));
  const redis = await RedisServerProcess.start({
    port: await freePort(),
    dir: path.join(dir, "redis"),
    appendfsync: "always",
  });
  // A durable server (fsync on), as in production; tests run theirs with fsync off.
  const pg = values.store === "pg" ? await startPrivatePostgres("livedrop", { durable: true }) : undefined;
  const prefix = `bench-${randomUUID().slice(0, 6)}`;
  const cfg = loadConfig({
    REDIS_URL: redis.url,
    ...(pg ? { DATABASE_URL: pg.url } : {}),
    LIVEDROP_DATA_DIR: dir,
    LIVEDROP_KEY_PREFIX: prefix,
    LOG_LEVEL: "warn",
  });
  const client = connectRedis({ url: redis.url });
  const engine = await SaleEngine.create({ redis: client, prefix });
  const store = await OrderStore.open(
    pg ? { kind: "pg", url: pg.url } : { kind: "pglite", dataDir: path.join(dir, "orders") },
  );
  const pipeline = await startOrderPipeline({ cfg, engine, store });
  try {
    const dropId = `bench-${randomUUID().slice(0, 8)}`;
    await engine.createDrop({
      dropId,
      roomId: "bench",
      product: {
        sku: "BENCH",
        title: "Bench item",
        priceMinor: 1_000,
        currency: "USD",
        imageUrl: "https://example.com/x.png",
      },
      initialStock: holds,
      perUserLimit: 1,
      holdMs: 3_600_000,
    });
    progress(`store ${values.store}; ${holds} holds`);

    const ackedAt = new Map<string, number>();
    const start = Date.now();
    const concurrency = 64;
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < holds) {
          const i = next++;
          const r = await engine.reserve({ dropId, userId: `u${i}`, qty: 1, idempotencyKey: `k${i}` });
          ackedAt.set(r.reservationId, Date.now());
        }
      }),
    );
    progress(`${holds} holds placed in ${Date.now() - start} ms; waiting for orders`);
    const ids = [...ackedAt.keys()];
    const until = Date.now() + (values.quick ? 25_000 : 120_000);
    let count = 0;
    while (Date.now() < until) {
      count = (await store.existing(ids)).size;
      if (count === holds) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const createdTimes = await store.createdAt(dropId);
    const end = Math.max(...createdTimes.values());
    const latencies = Float64Array.from(
      ids.flatMap((id) => {
        const created = createdTimes.get(id);
        const acked = ackedAt.get(id);
        return created !== undefined && acked !== undefined ? [Math.max(0, created - acked)] : [];
      }),
    ).sort();
    const result = {
      bench: "orders",
      store: values.store,
      ordersPerSec: Math.round((count / Math.max(1, end - start)) * 1000),
      holdToOrderP99Ms: round(percentile(latencies, 99)),
      duplicates: await store.duplicateCreations(dropId),
      lost: holds - count,
      holdToOrderP50Ms: round(percentile(latencies, 50)),
      holds,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return result.duplicates === 0 && result.lost === 0 ? 0 : 1;
  } finally {
    await pipeline.stop();
    await store.close();
    await engine.close();
    client.disconnect();
    await redis.stop();
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
