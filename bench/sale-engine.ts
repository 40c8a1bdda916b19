import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { connectRedis, type RedisClient, ValidationError } from "../core/index.ts";
import { freePort, RedisServerProcess } from "../deploy/index.ts";
import { type DropStatus, SaleEngine } from "../sale-engine/index.ts";
import { closedLoop, percentile, progress, round } from "./measure.ts";
import { ownCpuMicros, processCpuMicros } from "./process-cpu.ts";

/**
 * Reserve throughput against its ceiling: the full reserve script vs plain INCR through the
 * same clients at the same concurrency, interleaved in rounds so machine noise hits both.
 * With `--replicas 1`, a replica of the private Redis: reserves then acknowledge after WAIT, and
 * rounds of reserves without WAIT (LIVEDROP_ACK_REPLICAS=0) run in between, to price the WAIT.
 * Then a sold-out race checks that nothing was oversold.
 */
export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      fsync: { type: "string", default: "always" },
      connections: { type: "string", default: "1" },
      concurrency: { type: "string", default: "128" },
      replicas: { type: "string", default: "0" },
    },
    strict: true,
  });
  const fsync = values.fsync;
  if (fsync !== "always" && fsync !== "everysec")
    throw new ValidationError("--fsync must be always or everysec");
  const connections = Number(values.connections);
  const concurrency = Number(values.concurrency);
  if (!(connections >= 1 && connections <= 64 && concurrency >= 1 && concurrency <= 4096)) {
    throw new ValidationError("--connections 1..64, --concurrency 1..4096");
  }
  const replicas = Number(values.replicas);
  if (replicas !== 0 && replicas !== 1) throw new ValidationError("--replicas must be 0 or 1");
  const rounds = values.quick ? 2 : 4;
  const roundMs = values.quick ? 2_500 : 5_000;

  const dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-bench-"));
  const server = await RedisServerProcess.start({ port: await freePort(), dir, appendfsync: fsync });
  const replica =
    replicas > 0
      ? await RedisServerProcess.start({
          port: await freePort(),
          dir: path.join(dir, "replica"),
          appendfsync: fsync,
          replicaOf: server.hostPort,
        })
      : undefined;
  const clients: RedisClient[] = Array.from({ length: connections }, () => connectRedis({ url: server.url }));
  try {
    if (replica) await replicaInSync(clients[0] as RedisClient);
    const engines = await Promise.all(
      clients.map((redis) => SaleEngine.create({ redis, prefix: "bench", ackReplicas: replicas })),
    );
    // Same connections, no WAIT: what the replica's acknowledgement costs.
    const noWaitEngines = await Promise.all(
      clients.map((redis) => SaleEngine.create({ redis, prefix: "bench", ackReplicas: 0 })),
    );
    const first = engines[0] as SaleEngine;
    const dropId = `bench-${randomUUID().slice(0, 8)}`;
    await first.createDrop(benchDrop(dropId, 10_000_000, 1));
    progress(
      `redis ${server.url} appendfsync ${fsync}; ${replicas} replica(s); ${connections} connections, ${concurrency} in flight`,
    );

    // Wall time plus the CPU both sides spent: shows whether Redis or the client is the limit.
    const cpu = () => ({ server: processCpuMicros(server.pid) ?? 0, client: ownCpuMicros() });
    const empty = { count: 0, ms: 0, serverCpu: 0, clientCpu: 0 };
    let incr = empty;
    let reserve = empty;
    let noWait = empty;
    const add = (
      acc: typeof empty,
      run: { count: number; elapsedMs: number },
      from: ReturnType<typeof cpu>,
    ) => {
      const to = cpu();
      return {
        count: acc.count + run.count,
        ms: acc.ms + run.elapsedMs,
        serverCpu: acc.serverCpu + to.server - from.server,
        clientCpu: acc.clientCpu + to.client - from.client,
      };
    };
    const reserveLatencies: Float64Array[] = [];
    const noWaitLatencies: Float64Array[] = [];
    const runId = randomUUID().slice(0, 8);
    for (let r = 0; r < rounds; r++) {
      const beforeIncr = cpu();
      const i = await closedLoop(concurrency, roundMs, (n) =>
        (clients[n % connections] as RedisClient).incr("bench:incr"),
      );
      incr = add(incr, i, beforeIncr);
      const beforeReserve = cpu();
      const s = await closedLoop(concurrency, roundMs, (n) =>
        (engines[n % connections] as SaleEngine).reserve({
          dropId,
          userId: `u${r}-${n}`,
          qty: 1,
          idempotencyKey: `${runId}-${r}-${n}`,
        }),
      );
      reserve = add(reserve, s, beforeReserve);
      reserveLatencies.push(s.latencies);
      let line = `round ${r + 1}/${rounds}: incr ${perSec(i)}/s, reserve ${perSec(s)}/s`;
      if (replica) {
        const beforeNoWait = cpu();
        const w = await closedLoop(concurrency, roundMs, (n) =>
          (noWaitEngines[n % connections] as SaleEngine).reserve({
            dropId,
            userId: `w${r}-${n}`,
            qty: 1,
            idempotencyKey: `${runId}-w${r}-${n}`,
          }),
        );
        noWait = add(noWait, w, beforeNoWait);
        noWaitLatencies.push(w.latencies);
        line += `, reserve without WAIT ${perSec(w)}/s`;
      }
      progress(line);
    }
    const throughput = await first.status(dropId);

    // Sold-out race: many more buyers than units, with retries that reuse their keys.
    const raceId = `race-${randomUUID().slice(0, 8)}`;
    const units = 1_000;
    await first.createDrop(benchDrop(raceId, units, 2));
    await Promise.all(
      Array.from({ length: 5_000 }, async (_, n) => {
        const request = {
          dropId: raceId,
          userId: `r${n % 2_500}`,
          qty: 1 + (n % 2),
          idempotencyKey: `race-${n}`,
        };
        const engine = engines[n % connections] as SaleEngine;
        for (let attempt = 0; attempt < 2; attempt++) await engine.reserve(request).catch(() => undefined);
      }),
    );
    const race = await first.status(raceId);

    const sorted = concat(reserveLatencies).sort();
    const reservesPerSec = reserve.count / (reserve.ms / 1000);
    const incrPerSec = incr.count / (incr.ms / 1000);
    const noWaitPerSec = replica ? noWait.count / (noWait.ms / 1000) : undefined;
    const result = {
      bench: "sale-engine",
      reservesPerSec: Math.round(reservesPerSec),
      incrPerSec: Math.round(incrPerSec),
      ratio: round(reservesPerSec / incrPerSec, 3),
      p99ReserveMs: round(percentile(sorted, 99)),
      p50ReserveMs: round(percentile(sorted, 50)),
      oversold: oversold(throughput) + oversold(race),
      invariantOk: invariantOk(throughput) && invariantOk(race) && race.held + race.sold === units,
      serverCpuUsPerReserve: round(reserve.serverCpu / reserve.count),
      serverCpuUsPerIncr: round(incr.serverCpu / incr.count),
      clientCpuUsPerReserve: round(reserve.clientCpu / reserve.count),
      clientCpuUsPerIncr: round(incr.clientCpu / incr.count),
      appendfsync: fsync,
      replicas,
      ackReplicas: await first.ackReplicas(dropId),
      // Reserves without WAIT in the rounds between (null without a replica: nothing to compare).
      reservesPerSecNoWait: noWaitPerSec === undefined ? null : Math.round(noWaitPerSec),
      p99ReserveMsNoWait: replica ? round(percentile(concat(noWaitLatencies).sort(), 99)) : null,
      // How many times the rate without WAIT is the rate with it (1: WAIT costs nothing).
      waitCostRatio: noWaitPerSec === undefined ? null : round(noWaitPerSec / reservesPerSec, 3),
      connections,
      concurrency,
      reserves: reserve.count,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return result.oversold === 0 && result.invariantOk ? 0 : 1;
  } finally {
    for (const c of clients) c.disconnect();
    await replica?.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const perSec = (run: { count: number; elapsedMs: number }) => Math.round(run.count / (run.elapsedMs / 1000));

/** Until the master counts the replica as acknowledging its offset (WAIT answers 1). */
async function replicaInSync(master: RedisClient, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while ((await master.wait(1, 100)) < 1) {
    if (Date.now() > until) throw new Error(`the replica did not sync within ${timeoutMs} ms`);
  }
}

function benchDrop(dropId: string, stock: number, perUserLimit: number) {
  return {
    dropId,
    roomId: "bench",
    product: {
      sku: "BENCH",
      title: "Bench item",
      priceMinor: 100,
      currency: "USD",
      imageUrl: "https://example.com/x.png",
    },
    initialStock: stock,
    perUserLimit,
    holdMs: 3_600_000,
  };
}

function oversold(s: DropStatus): number {
  return Math.max(0, s.held + s.sold - (s.initial + s.restocked));
}

function invariantOk(s: DropStatus): boolean {
  return s.available >= 0 && s.available + s.held + s.sold === s.initial + s.restocked;
}

function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
