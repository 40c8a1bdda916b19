import { type ChildProcess, fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { TokenService } from "../auth/index.ts";
import { connectRedis, ValidationError } from "../core/index.ts";
import { freePort, RedisServerProcess } from "../deploy/index.ts";
import { SaleEngine } from "../sale-engine/index.ts";
import { checkDraw, fetchDraw } from "./fairness-draw.ts";
import { hlsShareOf, type Outcome, planRoom, type RoomPlan } from "./fairness-room.ts";
import { startGatewayChild } from "./gateway-child.ts";
import { percentile, progress, round } from "./measure.ts";
import { startWorkerChild } from "./worker-child.ts";

const here = path.dirname(new URL(import.meta.url).pathname);
const ROOM = "bench-fairness";
/** Every entrant hears its result within this long after the window closes (the product's promise). */
const RESULT_WITHIN_MS = 250;
/** Target: HLS viewers' share of the fair window's winners within this of their share of viewers. */
const SHARE_TOLERANCE = 0.05;
/** A round gives up on viewers still unsettled this long after the last one should have bought. */
const ROUND_GRACE_MS = 15_000;
/** A buy refused as retryable (between the window's close and the allocation) is sent again after this. */
const RETRY_MS = 100;
/** Bound on the wait until every viewer's delay report is counted by the room, and the poll period. */
const DELAY_REPORTS_WAIT_MS = 30_000;
const DELAY_REPORTS_POLL_MS = 200;
/** Each viewer is connected, joined and clock-synced within this, or the run fails. */
const VIEWER_OPEN_MS = 30_000;
/** Each HTTP call of the bench (create, delay, draw) answers within this. */
const HTTP_TIMEOUT_MS = 10_000;
/** How long a killed child may take to exit before its files are removed anyway. */
const CHILD_EXIT_MS = 5_000;

/**
 * Fairness at T0 for viewers whose video lags: one room of N viewers (real WebSocket clients in a
 * separate process), a share of them on HLS with seconds of delay, the rest on WebRTC. Each viewer
 * buys once when its own video shows the drop. Two rounds on fresh drops in the same room through
 * a real `livedrop gateway` and `livedrop worker` on a private Redis: first come, first served,
 * then a fair window sized by the room's reported delays (`fairWindowMs: "auto"`). Prints the
 * share of HLS viewers among the winners of each round, the window, whether every entrant heard
 * its result within 250 ms of the close, and whether the published draw verifies (the gateway's
 * endpoint and a local recomputation). Exit 1 when a correctness check fails.
 */
export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      viewers: { type: "string" },
      stock: { type: "string" },
      "hls-share": { type: "string", default: "0.3" },
      "hls-delay-ms": { type: "string", default: "3000" },
      "webrtc-delay-ms": { type: "string", default: "300" },
      "reaction-ms": { type: "string", default: "400" },
      "lead-ms": { type: "string", default: "3000" },
      seed: { type: "string", default: "1" },
    },
    strict: true,
  });
  const viewers = Number(values.viewers ?? (values.quick ? 300 : 2_000));
  const stock = Number(values.stock ?? (values.quick ? 30 : 200));
  const shape = {
    viewers,
    hlsShare: Number(values["hls-share"]),
    hlsDelayMs: Number(values["hls-delay-ms"]),
    webrtcDelayMs: Number(values["webrtc-delay-ms"]),
    reactionMs: Number(values["reaction-ms"]),
    seed: Number(values.seed),
  };
  const leadMs = Number(values["lead-ms"]);
  if (!(Number.isInteger(viewers) && viewers >= 2 && viewers <= 10_000))
    throw new ValidationError("--viewers 2..10000");
  if (!(Number.isInteger(stock) && stock >= 1 && stock < viewers))
    throw new ValidationError("--stock 1..viewers-1");
  for (const [flag, v] of [
    ["--hls-delay-ms", shape.hlsDelayMs],
    ["--webrtc-delay-ms", shape.webrtcDelayMs],
  ] as const)
    if (!(Number.isInteger(v) && v >= 0 && v <= 30_000)) throw new ValidationError(`${flag} 0..30000`);
  if (!(shape.reactionMs >= 0 && shape.reactionMs <= 10_000))
    throw new ValidationError("--reaction-ms 0..10000");
  if (!(leadMs >= 500 && leadMs <= 60_000)) throw new ValidationError("--lead-ms 500..60000");
  if (!Number.isInteger(shape.seed)) throw new ValidationError("--seed: an integer");
  const plan = planRoom(shape);

  const dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-bench-fairness-"));
  const children: ChildProcess[] = [];
  const redis = await RedisServerProcess.start({
    port: await freePort(),
    dir: path.join(dir, "redis"),
    appendfsync: "everysec",
  });
  const client = connectRedis({ url: redis.url });
  const prefix = `fair-${randomUUID().slice(0, 6)}`;
  const engine = await SaleEngine.create({ redis: client, prefix });
  // Stopped from outside (a test's bound, Ctrl-C): the children go at once (Redis dies with this
  // process), the run then fails on them and cleans up; a gateway still starting is killed once it
  // is up (its child is known only then).
  let stopped = false;
  const killChildren = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  };
  const onSignal = () => {
    stopped = true;
    process.exitCode = 1;
    killChildren();
  };
  process.once("SIGTERM", onSignal).once("SIGINT", onSignal);
  try {
    const secret = randomUUID().repeat(2);
    const gateway = await startGatewayChild({
      redisUrl: redis.url,
      dataDir: path.join(dir, "gateway"),
      keyPrefix: prefix,
      tokenSecret: secret,
      maxConnectionsPerIp: viewers + 10,
    });
    children.push(gateway.child);
    if (stopped) throw new Error("stopped by a signal");
    await startWorkerChild({
      redisUrl: redis.url,
      dataDir: path.join(dir, "worker"),
      keyPrefix: prefix,
      children,
    });
    const base = gateway.wsUrl.replace(/^ws:/, "http:").replace(/\/ws$/, "");
    const tokens = await TokenService.create({ secret });
    const host = await tokens.issue({ userId: "bench-host", role: "host", rooms: [ROOM], ttlSeconds: 3600 });
    const tokenList = await Promise.all(
      Array.from({ length: viewers }, (_, i) =>
        tokens.issue({ userId: `viewer-${i}`, role: "viewer", ttlSeconds: 3600 }),
      ),
    );

    const room = await openRoom(gateway.wsUrl, tokenList, children);
    progress(`${viewers} viewers joined (${plan.hls.filter(Boolean).length} on HLS); ${room.sync}`);
    const roundOf = async (fairWindowMs: "auto" | undefined) => {
      const dropId = `fair-${fairWindowMs ? "window" : "fcfs"}-${randomUUID().slice(0, 8)}`;
      const created = await createDrop(base, host, dropId, stock, Date.now() + leadMs, fairWindowMs);
      const windowMs = created.fair?.windowMs ?? 0;
      const deadline = created.startsAt + shape.hlsDelayMs + shape.reactionMs + windowMs + ROUND_GRACE_MS;
      const outcomes = await room.round({ dropId, plan, deadline });
      return { dropId, windowMs, outcomes };
    };

    const fcfs = await roundOf(undefined);
    const fcfsWinners = indices(fcfs.outcomes, (o) => o.kind === "buy");
    progress(
      `first come: ${fcfsWinners.length} holds, ${round(hlsShareOf(plan, fcfsWinners), 3)} of them HLS; ${countCodes(fcfs.outcomes)}`,
    );

    await room.reportDelays(plan);
    await waitForDelayReports(base, host, viewers);
    const fair = await roundOf("auto");
    const entered = indices(fair.outcomes, (o) => o.kind === "entered");
    const results = entered.filter((i) => fair.outcomes[i]?.result);
    const fairWinners = entered.filter((i) => fair.outcomes[i]?.result?.status === "won");
    const lateness = results.map((i) => {
      const o = fair.outcomes[i] as Outcome;
      return (o.result?.at ?? 0) - (o.closesAt ?? 0);
    });
    const resultsWithinMs = Math.max(0, ...lateness);
    const drawLateness = entered.flatMap((i) => {
      const o = fair.outcomes[i] as Outcome;
      return o.drawAt === undefined ? [] : [o.drawAt - (o.closesAt ?? 0)];
    });
    progress(
      `after the close: the room's draw frame ${spread(drawLateness)}; each entrant's result ${spread(lateness)}`,
    );
    progress(
      `fair window ${fair.windowMs} ms: ${entered.length} entries, ${results.length} results (latest ${Math.round(resultsWithinMs)} ms after the close), ${fairWinners.length} won, ${round(hlsShareOf(plan, fairWinners), 3)} of them HLS; others: ${countCodes(fair.outcomes.filter((o) => o.kind !== "entered"))}`,
    );

    const draw = await fetchDraw(base, fair.dropId, HTTP_TIMEOUT_MS);
    let verified = false;
    if (typeof draw === "string") progress(`draw: the endpoint refused it: ${draw}`);
    else {
      const check = checkDraw(draw, fair.outcomes);
      const closesAt = fair.outcomes.find((o) => o.closesAt !== undefined)?.closesAt;
      if (draw.allocatedAt !== null && closesAt !== undefined)
        progress(`the worker allocated the draw ${draw.allocatedAt - closesAt} ms after the close`);
      progress(
        `draw: endpoint ${JSON.stringify(draw.verified)}, local ${JSON.stringify(check.local)}; ${check.note}`,
      );
      verified = draw.verified.ok && check.local.ok && check.matchesResults;
    }

    const statuses = await Promise.all([engine.status(fcfs.dropId), engine.status(fair.dropId)]);
    const oversold = statuses.reduce(
      (n, s) => n + Math.max(0, s.held + s.sold - (s.initial + s.restocked)),
      0,
    );
    const hlsShareOfViewers = round(plan.hls.filter(Boolean).length / viewers, 3);
    const hlsShareOfWinnersFair = round(hlsShareOf(plan, fairWinners), 3);
    const result = {
      bench: "fairness",
      viewers,
      hlsShareOfViewers,
      hlsShareOfWinnersFcfs: round(hlsShareOf(plan, fcfsWinners), 3),
      hlsShareOfWinnersFair,
      windowMs: fair.windowMs,
      entries: entered.length,
      resultsWithinMs: Math.round(resultsWithinMs),
      allResultsOnTime: results.length === entered.length && resultsWithinMs <= RESULT_WITHIN_MS,
      verified,
      withinTarget: Math.abs(hlsShareOfWinnersFair - hlsShareOfViewers) <= SHARE_TOLERANCE,
      stock,
      winnersFcfs: fcfsWinners.length,
      winnersFair: fairWinners.length,
      results: results.length,
      oversold,
      // Against the entrants rather than the viewers: the draw's own fairness, apart from the window's reach.
      hlsShareOfEntries: round(hlsShareOf(plan, entered), 3),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return verified && results.length === entered.length && entered.length > 0 && oversold === 0 ? 0 : 1;
  } finally {
    process.off("SIGTERM", onSignal).off("SIGINT", onSignal);
    killChildren();
    // Their files are removed below: a worker still dying would write into the folder meanwhile.
    await Promise.all(children.map(exited));
    await engine.close();
    client.disconnect();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Resolves once `child` has exited, or after CHILD_EXIT_MS. */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, CHILD_EXIT_MS);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** "p50 12, p95 40, max 55 ms" of a list of durations. */
function spread(ms: readonly number[]): string {
  const sorted = Float64Array.from(ms).sort();
  const at = (p: number) => Math.round(percentile(sorted, p));
  return `p50 ${at(50)}, p95 ${at(95)}, max ${at(100)} ms`;
}

function indices(outcomes: readonly Outcome[], pick: (o: Outcome) => boolean): number[] {
  return outcomes.flatMap((o, i) => (pick(o) ? [i] : []));
}

/** "12 SOLD_OUT, 3 unsettled": what the viewers who did not win heard. */
function countCodes(outcomes: readonly Outcome[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) {
    const key = o.kind ?? o.code ?? (o.settled ? "other" : "unsettled");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n} ${k}`).join(", ") || "none";
}

/** The viewers' process: every viewer connected, joined and clock-synced before it resolves. */
async function openRoom(wsUrl: string, tokens: string[], children: ChildProcess[]) {
  const load = fork(path.join(here, "fairness-clients.mjs"), [wsUrl, ROOM], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  children.push(load);
  // A viewer the gateway refused or closed ends the run instead of hanging it.
  const failed = new Promise<never>((_, reject) => {
    load.on("message", (m: { type: string; message?: string }) => {
      if (m.type === "failed") reject(new Error(`viewers: ${m.message}`));
    });
    load.once("exit", (code) => reject(new Error(`the viewers' process exited with ${code}`)));
  });
  failed.catch(() => undefined);
  const next = <T>(type: string) =>
    Promise.race([
      new Promise<T>((resolve) => {
        const on = (m: { type: string }) => {
          if (m.type !== type) return;
          load.off("message", on);
          resolve(m as T);
        };
        load.on("message", on);
      }),
      failed,
    ]);
  load.send({ type: "open", tokens, openTimeoutMs: VIEWER_OPEN_MS });
  const ready = await next<{ maxRttMs: number; medianRttMs: number }>("ready");
  return {
    sync: `clock sync round trip median ${ready.medianRttMs} ms, max ${ready.maxRttMs} ms`,
    reportDelays: async (plan: RoomPlan) => {
      load.send({
        type: "report-delay",
        delayMs: plan.delayMs,
        sources: plan.hls.map((h) => (h ? "hls" : "webrtc")),
      });
      await next("reported");
    },
    round: async (o: { dropId: string; plan: RoomPlan; deadline: number }) => {
      load.send({
        type: "round",
        dropId: o.dropId,
        delayMs: o.plan.delayMs,
        reactionMs: o.plan.reactionMs,
        retryMs: RETRY_MS,
        deadline: o.deadline,
      });
      return (await next<{ outcomes: Outcome[] }>("round")).outcomes;
    },
  };
}

interface CreatedDrop {
  readonly startsAt: number;
  readonly fair?: { windowMs: number };
}

/** POST /api/v1/rooms/:room/drops as the room's host; one unit per viewer. */
async function createDrop(
  base: string,
  host: string,
  dropId: string,
  stock: number,
  startsAt: number,
  fairWindowMs: "auto" | undefined,
): Promise<CreatedDrop> {
  const res = await fetch(`${base}/api/v1/rooms/${ROOM}/drops`, {
    method: "POST",
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    headers: { authorization: `Bearer ${host}`, "content-type": "application/json" },
    body: JSON.stringify({
      dropId,
      product: {
        sku: "FAIR",
        title: "Fairness bench item",
        priceMinor: 100,
        currency: "USD",
        imageUrl: "https://example.com/x.png",
      },
      initialStock: stock,
      perUserLimit: 1,
      startsAt,
      holdMs: 600_000,
      ...(fairWindowMs ? { fairWindowMs } : {}),
    }),
  });
  const body = (await res.json()) as { drop?: { startsAt: number; fair?: { windowMs: number } } };
  if (!res.ok || !body.drop)
    throw new Error(`creating ${dropId}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body.drop;
}

/** Bounded poll of the room's delay distribution until every viewer's report is counted. */
async function waitForDelayReports(base: string, host: string, viewers: number): Promise<void> {
  const until = Date.now() + DELAY_REPORTS_WAIT_MS;
  let last = "";
  while (Date.now() < until) {
    const res = await fetch(`${base}/api/v1/rooms/${ROOM}/delay`, {
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
      headers: { authorization: `Bearer ${host}` },
    });
    last = await res.text();
    if (res.ok) {
      const d = JSON.parse(last) as { reports: number; p95Ms: number; impliedWindowMs: number };
      if (d.reports >= viewers) {
        progress(
          `room delay: ${d.reports} reports, p95 ${d.p95Ms} ms, implied window ${d.impliedWindowMs} ms`,
        );
        return;
      }
    }
    await new Promise((r) => setTimeout(r, DELAY_REPORTS_POLL_MS));
  }
  throw new Error(
    `the room's delay reports did not reach ${viewers} within ${DELAY_REPORTS_WAIT_MS} ms: ${last}`,
  );
}
