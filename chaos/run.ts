import { randomBytes } from "node:crypto";
import { cpSync } from "node:fs";
import path from "node:path";
import { TokenService } from "../auth/index.ts";
import { seeded } from "../core/index.ts";
import { Buyers } from "./buyers.ts";
import { type CheckReport, checkDrop, dropCounters } from "./checks.ts";
import { dropBody, type FaultName, runFault, schedule, type World } from "./faults.ts";
import { call } from "./http.ts";
import type { ChaosOptions } from "./options.ts";
import { ChaosPostgres } from "./postgres-host.ts";
import { ChaosRedisCluster } from "./redis-cluster.ts";
import { Service } from "./services.ts";
import { Topology } from "./topology.ts";
import { Viewers } from "./viewers.ts";
import { until } from "./wait.ts";

/** The last line of a run. */
export interface ChaosSummary {
  readonly chaos: "passed" | "failed";
  readonly faults: number;
  readonly ackedHolds: number;
  readonly lostAckedHolds: number;
  readonly duplicateOrders: number;
  readonly oversold: number;
  readonly missedDropEvents: number;
  readonly maxUnavailableMs: number;
  readonly seed: number;
  readonly quick: boolean;
  readonly ackReplicas: number | "auto";
  readonly duplicateCaptures: number;
  readonly unpaidAckedPayments: number;
  readonly ackedPayments: number;
  readonly lostAckedHoldIds: string[];
  readonly unavailableMs: Record<string, number>;
  readonly resumes: number;
  readonly resyncs: number;
  /** Joins and resumes the viewers asked again after the gateway answered them as retryable. */
  readonly enterRetries: number;
  /** Gateways and workers found dead at the end (a fault restarts only the process it killed). */
  readonly crashedProcesses: string[];
}

/** One node per host: 3 masters + 3 replicas, PostgreSQL, two gateways, two workers. */
const REDIS_HOSTS = ["r1", "r2", "r3", "r4", "r5", "r6"];
const HOSTS = [...REDIS_HOSTS, "pg", "gw1", "gw2", "wk1", "wk2"];
/** Timeout of one HTTP call of the load, ms: a cut-off gateway answers nothing. */
const CALL_TIMEOUT_MS = 3_000;
/** Host restocks one unit this often, ms: each is a drop event every viewer must get. */
const RESTOCK_EVERY_MS = 2_000;

/**
 * The longest stretch without an acknowledged hold from the fault's start until the first hold
 * acknowledged after its recovery: the time buyers had no way to buy.
 */
function unavailability(ackTimes: readonly number[], from: number, recovered: number): number {
  const after = ackTimes.find((t) => t >= recovered);
  const end = after ?? Date.now();
  let last = from;
  let worst = 0;
  for (const t of ackTimes) {
    if (t < from) continue;
    if (t > end) break;
    worst = Math.max(worst, t - last);
    last = t;
  }
  return Math.max(worst, end - last);
}

export async function runChaos(options: ChaosOptions, log: (line: string) => void): Promise<ChaosSummary> {
  const topology = await Topology.create({ hosts: HOSTS, log });
  const stops: (() => Promise<void>)[] = [];
  try {
    const [redis, pg] = await Promise.all([
      ChaosRedisCluster.start(topology, {
        hosts: REDIS_HOSTS,
        replicas: 1,
        nodeTimeoutMs: options.nodeTimeoutMs,
        appendfsync: "always",
        settleTimeoutMs: options.startTimeoutMs,
      }),
      ChaosPostgres.start(topology, "pg", options.startTimeoutMs),
    ]);
    log(`Redis Cluster 3+3 on ${redis.seeds.join(",")}; PostgreSQL on ${pg.url}`);
    const secret = randomBytes(36).toString("base64url");
    const env = {
      REDIS_CLUSTER_NODES: redis.seeds.join(","),
      DATABASE_URL: pg.url,
      GATEWAY_TOKEN_SECRET: secret,
      LIVEDROP_ACK_REPLICAS: String(options.ackReplicas),
      // All load comes from the root namespace's one address.
      GATEWAY_MAX_CONNS_PER_IP: "1000000",
    };
    const workers = ["wk1", "wk2"].map(
      (h) => new Service(topology, "worker", h, env, options.startTimeoutMs),
    );
    const gateways = ["gw1", "gw2"].map(
      (h) => new Service(topology, "gateway", h, env, options.startTimeoutMs),
    );
    // One worker first: it runs the migrations before anyone else opens the store.
    await (workers[0] as Service).start();
    await Promise.all([...workers.slice(1), ...gateways].map((s) => s.start()));
    log(
      `gateways ${gateways.map((g) => g.baseUrl).join(" ")}; workers on ${workers.map((w) => w.host).join(" ")}`,
    );

    const tokens = await TokenService.create({ secret });
    const room = "chaos";
    const mainDrop = "main";
    const hostToken = await tokens.issue({
      userId: "chaos-host",
      role: "host",
      rooms: [room],
      ttlSeconds: 3600,
    });
    const urls = gateways.map((g) => g.baseUrl);
    const created = await call(
      "POST",
      `${urls[0]}/api/v1/rooms/${room}/drops`,
      hostToken,
      dropBody(mainDrop, options.stock),
      10_000,
    );
    if (created.status !== 201 && created.status !== 200)
      throw new Error(`creating the drop failed: HTTP ${created.status} ${created.code}`);

    const viewerTokens = await Promise.all(
      Array.from({ length: options.viewers }, (_, i) =>
        tokens.issue({ userId: `chaos-viewer-${i}`, role: "viewer", ttlSeconds: 3600 }),
      ),
    );
    const viewers = new Viewers({
      gateways: urls,
      room,
      tokens: viewerTokens,
      deadAfterMs: 3_000,
      pingEveryMs: 1_000,
      reconnectEveryMs: 300,
    });
    stops.push(() => viewers.stop());
    await viewers.start(options.startTimeoutMs);

    let restocks = 0;
    let restocking = true;
    const restocker = (async () => {
      for (let i = 0; restocking; i++) {
        const a = await call(
          "POST",
          `${urls[i % urls.length]}/api/v1/drops/${mainDrop}/restock`,
          hostToken,
          { qty: 1 },
          CALL_TIMEOUT_MS,
        );
        if (a.status === 200) restocks++;
        await new Promise((r) => setTimeout(r, RESTOCK_EVERY_MS));
      }
    })();
    stops.push(async () => {
      restocking = false;
      await restocker;
    });

    const buyers = new Buyers({
      gateways: urls,
      dropId: mainDrop,
      tokens,
      concurrency: options.buyers,
      paceMs: 50,
      retryForMs: 30_000,
      callTimeoutMs: CALL_TIMEOUT_MS,
      payShare: 0.5,
      runTag: "main",
    });
    stops.push(() => buyers.stop());
    buyers.start();
    await until("first acknowledged holds", options.startTimeoutMs, async () =>
      buyers.ackedHolds.size >= 10 ? true : undefined,
    );
    log(
      `load running: ${options.buyers} buyers, ${options.viewers} viewers, a restock every ${RESTOCK_EVERY_MS} ms`,
    );

    const world: World = {
      options,
      topology,
      redis,
      pg,
      gateways,
      workers,
      tokens,
      hostToken,
      room,
      mainDrop,
      openingDrops: [],
      log,
    };
    const rng = seeded(options.seed);
    const plan = schedule(options, rng);
    const checks: CheckReport[] = [];
    const unavailableMs: Record<string, number> = {};
    const check = async (at: string, final: boolean) => {
      const drops = [
        { dropId: mainDrop, b: buyers },
        ...world.openingDrops.map((d) => ({ dropId: d.dropId, b: d.buyers })),
      ];
      for (const d of drops) {
        const report = await checkDrop({
          at,
          gateways: urls,
          pg,
          dropId: d.dropId,
          ackedHolds: d.b.ackedHolds,
          ackedPayments: d.b.ackedPayments,
          final,
          timeoutMs: CALL_TIMEOUT_MS,
        });
        checks.push(report);
        log(`check ${at} ${d.dropId}: ${JSON.stringify(report)}`);
      }
    };
    for (const [i, fault] of plan.entries()) {
      const from = Date.now();
      const what = await runFault(fault as FaultName, world, rng);
      const recovered = Date.now();
      await until(`buys acknowledged again after ${fault}`, options.startTimeoutMs, async () =>
        buyers.ackTimes.some((t) => t >= recovered) ? true : undefined,
      );
      unavailableMs[`${i + 1}:${fault}`] = unavailability(buyers.ackTimes, from, recovered);
      log(
        `fault ${i + 1}/${plan.length} ${fault}: ${what}; buys unavailable for at most ${unavailableMs[`${i + 1}:${fault}`]} ms`,
      );
      await check(fault, false);
      await new Promise((r) => setTimeout(r, options.settleMs));
    }

    await buyers.stop();
    restocking = false;
    await restocker;
    // Holds acknowledged must become orders: give the pipeline its time, bounded.
    const allDrops = [
      { dropId: mainDrop, b: buyers },
      ...world.openingDrops.map((d) => ({ dropId: d.dropId, b: d.buyers })),
    ];
    await until("every acknowledged hold has its order", options.drainMs, async () => {
      for (const d of allDrops) {
        const rows = await pg.query<{ n: string }>(
          "SELECT count(*) AS n FROM orders WHERE drop_id = $1 AND reservation_id = ANY($2)",
          [d.dropId, [...d.b.ackedHolds.keys()]],
        );
        if (Number(rows[0]?.n ?? 0) < d.b.ackedHolds.size) return undefined;
      }
      return true;
    }).catch((err: Error) => log(err.message));
    // After every fault, live delivery still works: one last restock, once buying stopped, must
    // reach every viewer's screen (through whichever gateway it is on now), within a bound.
    const last = await call(
      "POST",
      `${urls[0]}/api/v1/drops/${mainDrop}/restock`,
      hostToken,
      { qty: 1 },
      CALL_TIMEOUT_MS,
    );
    if (last.status === 200) restocks++;
    const final = await dropCounters(urls, mainDrop, CALL_TIMEOUT_MS);
    const stale: number[] = await until(
      "every viewer shows the final stock",
      options.settleMs * 5,
      async () => (viewers.behind(mainDrop, final.available).length === 0 ? ([] as number[]) : undefined),
    ).catch(() => viewers.behind(mainDrop, final.available));
    if (stale.length > 0) log(`viewers not showing the final stock ${final.available}: ${stale.join(", ")}`);
    await check("end", true);
    const finals = checks.filter((c) => c.at === "end");
    const allOffsets = viewers.allDropOffsets();
    const missedBy = viewers.states.map((_, i) => viewers.missed(i, allOffsets));
    const missed = missedBy.reduce((n, m) => n + m.length, 0) + stale.length;
    missedBy.forEach((m, i) => {
      if (m.length > 0 || stale.includes(i)) log(`viewer missed ${m.join(" ")}: ${viewers.describe(i)}`);
    });
    await viewers.stop();
    log(`restocks acknowledged: ${restocks}; drop events seen by the viewers: ${allOffsets.size}`);
    log(
      `buy refusals and failed attempts by code: ${JSON.stringify(Object.fromEntries(buyers.refusals))}; purchases given up: ${buyers.givenUp}`,
    );

    // Every process the faults did not restart kept running: none needed a restart to recover.
    const crashed = [...gateways, ...workers].filter((s) => !s.running).map((s) => `${s.role}@${s.host}`);
    if (crashed.length > 0) log(`processes that died: ${crashed.join(", ")}`);
    const sum = (f: (c: CheckReport) => number) => checks.reduce((n, c) => n + f(c), 0);
    const lost = finals.flatMap((c) => c.lostAckedHolds);
    const summary: ChaosSummary = {
      chaos: "failed",
      faults: plan.length,
      ackedHolds: allDrops.reduce((n, d) => n + d.b.ackedHolds.size, 0),
      lostAckedHolds: lost.length,
      duplicateOrders: Math.max(...checks.map((c) => c.duplicateOrders), 0),
      oversold: Math.max(...checks.map((c) => c.oversold + (c.invariantBroken ? 1 : 0)), 0),
      missedDropEvents: missed,
      maxUnavailableMs: Math.max(...Object.values(unavailableMs), 0),
      seed: options.seed,
      quick: options.quick,
      ackReplicas: options.ackReplicas,
      duplicateCaptures: Math.max(...checks.map((c) => c.duplicateCaptures), 0),
      unpaidAckedPayments: sum((c) => c.unpaidAckedPayments.length),
      ackedPayments: allDrops.reduce((n, d) => n + d.b.ackedPayments.size, 0),
      lostAckedHoldIds: lost,
      unavailableMs,
      resumes: viewers.states.reduce((n, s) => n + s.resumes, 0),
      resyncs: viewers.states.reduce((n, s) => n + s.resyncs, 0),
      enterRetries: viewers.states.reduce((n, s) => n + s.enterRetries, 0),
      crashedProcesses: crashed,
    };
    const passed =
      summary.lostAckedHolds === 0 &&
      summary.duplicateOrders === 0 &&
      summary.oversold === 0 &&
      summary.missedDropEvents === 0 &&
      summary.duplicateCaptures === 0 &&
      summary.unpaidAckedPayments === 0 &&
      crashed.length === 0;
    return { ...summary, chaos: passed ? "passed" : "failed" };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    if (options.keepLogs) {
      cpSync(path.join(topology.dataDir, "logs"), options.keepLogs, { recursive: true });
      log(`services' logs kept in ${options.keepLogs}`);
    }
    await topology.destroy();
  }
}
