import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ValidationError } from "../../core/index.ts";
import { renderHtml, renderText } from "../lib/report.ts";
import { paramsFor, type ScenarioName, thresholdsFor } from "../lib/scenarios.ts";
import { checkThresholds, type RunSummary, resultLine, spikeLine } from "../lib/summary.ts";
import { Api, ApiError } from "./api.ts";
import type { RunContext, Scenario } from "./context.ts";
import type { DriverOptions } from "./options.ts";
import { WorkerPool } from "./pool.ts";
import { Progress } from "./progress.ts";
import { Recorder } from "./recorder.ts";
import { chat } from "./scenarios/chat.ts";
import { fullLink } from "./scenarios/full-link.ts";
import { smoke } from "./scenarios/smoke.ts";
import { spike } from "./scenarios/spike.ts";
import { viewers } from "./scenarios/viewers.ts";
import { type OwnStack, startOwnStack } from "./stack.ts";
import { localTokens, shadowTokens, type TokenSource } from "./tokens.ts";

const SCENARIO_RUNS: Record<ScenarioName, Scenario> = {
  smoke,
  viewers,
  spike,
  chat,
  "full-link": fullLink,
};

/** Sockets one load worker takes on (2 shared cores here: a few workers at most). */
const SOCKETS_PER_WORKER = 1_500;

export interface RunReport {
  readonly summary: RunSummary;
  /** The last stdout line: the spike's result line, or `{loadtest, ok, …}`. */
  readonly lastLine: string;
  readonly files: readonly string[];
}

/** Runs one scenario at CI scale against `--url` or a private stack, and writes its report. */
export async function runScenario(o: DriverOptions): Promise<RunReport> {
  const progress = new Progress(o.name, o.quiet);
  const params = paramsFor(o.name, "ci", o.overrides);
  const thresholds = thresholdsFor(o.name, "ci");
  const recorder = new Recorder(new Set(Object.keys(thresholds)));
  let stack: OwnStack | undefined;
  const pools: WorkerPool[] = [];
  try {
    if (!o.url) stack = await startOwnStack(o.shadow, (l) => progress.log(l));
    const baseUrl = o.url ?? stack?.baseUrl ?? "";
    const api = new Api(baseUrl, recorder);
    const tokens = await tokenSource(o, api, stack, progress);
    const ctx: RunContext = {
      name: o.name,
      params,
      thresholds,
      room: o.room,
      baseUrl,
      wsUrl: `${baseUrl.replace(/^http/, "ws")}/ws`,
      api,
      recorder,
      tokens,
      progress,
      workers: o.workers,
      startPool: (sockets) => {
        const pool = WorkerPool.start(
          o.workers || Math.min(4, Math.max(1, Math.ceil(sockets / SOCKETS_PER_WORKER))),
          { wsUrl: `${baseUrl.replace(/^http/, "ws")}/ws`, baseUrl, wanted: Object.keys(thresholds) },
        );
        pools.push(pool);
        return pool;
      },
    };
    const startedAt = new Date();
    progress.log(
      `${o.name} against ${baseUrl}${tokens.shadow ? " (shadow traffic)" : ""}: ${JSON.stringify(params)}`,
    );
    const outcome = await SCENARIO_RUNS[o.name](ctx);
    progress.done();
    const durationMs = Date.now() - startedAt.getTime();
    const metrics = recorder.summarize(durationMs / 1000, thresholds);
    const notes = [...(outcome.notes ?? []), ...closeNotes(pools)];
    const results = checkThresholds(thresholds, metrics);
    const summary: RunSummary = {
      loadtest: o.name,
      runner: "node",
      ok: results.every((t) => t.ok),
      startedAt: startedAt.toISOString(),
      durationMs,
      target: o.url ?? `private stack (${baseUrl})`,
      shadow: tokens.shadow,
      params: { ...params, room: o.room },
      thresholds: results,
      metrics,
      result: outcome.result(metrics),
      ...(outcome.series ? { series: outcome.series } : {}),
      ...(notes.length ? { notes } : {}),
    };
    const files = writeReport(o.outDir, summary);
    if (!o.quiet) process.stderr.write(renderText(summary));
    progress.log(`report: ${files.join(", ")}`);
    return { summary, lastLine: lastLine(summary), files };
  } finally {
    progress.done();
    await stack?.stop();
  }
}

/** "the server closed or refused 7 sockets: close 4008 ×5, close 1006 ×2". */
function closeNotes(pools: readonly WorkerPool[]): string[] {
  const all: Record<string, number> = {};
  for (const p of pools) for (const [why, n] of Object.entries(p.closes)) all[why] = (all[why] ?? 0) + n;
  const total = Object.values(all).reduce((a, b) => a + b, 0);
  if (total === 0) return [];
  const parts = Object.entries(all)
    .sort((a, b) => b[1] - a[1])
    .map(([why, n]) => `${why} ×${n}`);
  return [`the server closed or refused ${total} socket(s): ${parts.join(", ")}`];
}

function lastLine(s: RunSummary): string {
  if (s.loadtest !== "spike") return resultLine(s);
  const r = s.result;
  return spikeLine({
    viewers: Number(r.viewers),
    stock: Number(r.stock),
    sold: Number(r.sold),
    oversold: Number(r.oversold),
    ackP99Ms: Number(r.ackP99Ms),
    holdsWithoutOrder: Number(r.holdsWithoutOrder),
  });
}

function writeReport(dir: string, s: RunSummary): string[] {
  mkdirSync(dir, { recursive: true });
  const json = path.join(dir, `${s.loadtest}-summary.json`);
  const html = path.join(dir, `${s.loadtest}-report.html`);
  writeFileSync(json, `${JSON.stringify(s, null, 2)}\n`);
  writeFileSync(html, renderHtml(s));
  return [json, html];
}

/** Tokens: shadow ones from the admin endpoint, or signed locally with a known secret. */
async function tokenSource(
  o: Pick<DriverOptions, "shadow" | "adminToken" | "tokenSecret" | "url">,
  api: Api,
  stack: OwnStack | undefined,
  progress: Progress,
): Promise<TokenSource> {
  const local = stack
    ? await localTokens(stack.tokenSecret)
    : o.tokenSecret
      ? await localTokens(o.tokenSecret)
      : undefined;
  if (!o.shadow) {
    if (!local)
      throw new ValidationError(
        "against --url, pass --shadow with an admin token (LOADTEST_ADMIN_TOKEN), or --token-secret for a staging stack you own",
      );
    return local;
  }
  const admin = o.adminToken ?? (local ? await local.admin() : undefined);
  if (!admin)
    throw new ValidationError("--shadow against --url needs --admin-token (npx livedrop token --role admin)");
  const state = await api.shadowState(admin);
  if (state.status === 404 && state.code === "NOT_FOUND")
    throw new ApiError(
      404,
      state.code,
      "this gateway has no shadow-traffic endpoints (GET /api/v1/admin/shadow)",
    );
  if (state.status !== 200) throw new ApiError(state.status, state.code, "GET /api/v1/admin/shadow");
  if (state.body?.enabled === false) {
    // The kill switch belongs to the SREs of a shared stack; only a private one is switched on here.
    if (!stack)
      throw new ApiError(
        403,
        "SHADOW_DISABLED",
        "shadow traffic is switched off on this stack (kill switch)",
      );
    await api.setShadow(admin, true);
    progress.log("shadow traffic was off on the private stack: switched it on");
  }
  return shadowTokens(api, admin);
}

export { SCENARIO_RUNS };
