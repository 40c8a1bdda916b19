import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ValidationError } from "../../core/index.ts";
import { ENTRY_FAILURE_KEYS } from "../lib/admission.ts";
import { generatorFields, generatorReport } from "../lib/generator.ts";
import { renderHtml, renderText } from "../lib/report.ts";
import { paramsFor, plannedViewers, type ScenarioName, thresholdsFor } from "../lib/scenarios.ts";
import { checkThresholds, lastLineOf, type RunSummary } from "../lib/summary.ts";
import { Api, ApiError } from "./api.ts";
import type { RunContext, Scenario } from "./context.ts";
import { GeneratorMonitor } from "./generator-monitor.ts";
import type { DriverOptions } from "./options.ts";
import { WorkerPool } from "./pool.ts";
import { Progress } from "./progress.ts";
import { Recorder } from "./recorder.ts";
import { auction } from "./scenarios/auction.ts";
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
  auction,
};

/** Sockets one load worker takes on (2 shared cores here: a few workers at most). */
const SOCKETS_PER_WORKER = 1_500;

export interface RunReport {
  readonly summary: RunSummary;
  /** The last stdout line: the spike's result line, or `{loadtest, ok, …}`. */
  readonly lastLine: string;
  readonly files: readonly string[];
}

/** Hooks for tests: wrap the run's token source (e.g. one that stops minting part-way). */
export interface RunHooks {
  readonly tokens?: (source: TokenSource) => TokenSource;
}

/** Runs one scenario at CI scale against `--url` or a private stack, and writes its report. */
export async function runScenario(o: DriverOptions, hooks: RunHooks = {}): Promise<RunReport> {
  const progress = new Progress(o.name, o.quiet);
  const params = paramsFor(o.name, "ci", o.overrides);
  const thresholds = thresholdsFor(o.name, "ci", params);
  const wanted = [...Object.keys(thresholds), ...ENTRY_FAILURE_KEYS];
  const recorder = new Recorder(new Set(wanted));
  let stack: OwnStack | undefined;
  const pools: WorkerPool[] = [];
  const tokenNotes: string[] = [];
  let monitor: GeneratorMonitor | undefined;
  try {
    if (!o.url) stack = await startOwnStack(o.shadow, (l) => progress.log(l));
    const baseUrl = o.url ?? stack?.baseUrl ?? "";
    const api = new Api(baseUrl, recorder);
    const real = await tokenSource(o, api, stack, progress);
    const tokens = hooks.tokens ? hooks.tokens(real) : real;
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
      viewerTokens: async (count) => {
        const minted = await tokens.viewers(count);
        const missing = count - minted.tokens.length;
        if (missing > 0) {
          recorder.count("viewer_failures", missing, { reason: "token" });
          const note = `${missing} of ${count} viewer tokens could not be minted: ${minted.error ?? "no reason given"}`;
          tokenNotes.push(note);
          progress.log(note);
        }
        return minted.tokens.slice(0, count);
      },
      progress,
      workers: o.workers,
      startPool: (sockets) => {
        const pool = WorkerPool.start(
          o.workers || Math.min(4, Math.max(1, Math.ceil(sockets / SOCKETS_PER_WORKER))),
          { wsUrl: `${baseUrl.replace(/^http/, "ws")}/ws`, baseUrl, wanted },
        );
        pools.push(pool);
        return pool;
      },
    };
    const startedAt = new Date();
    // The driver's own process (executors, HTTP calls) is part of the generator too.
    monitor = new GeneratorMonitor(recorder, true);
    progress.log(
      `${o.name} against ${baseUrl}${tokens.shadow ? " (shadow traffic)" : ""}: ${JSON.stringify(params)}`,
    );
    const outcome = await SCENARIO_RUNS[o.name](ctx);
    monitor.stop();
    progress.done();
    const durationMs = Date.now() - startedAt.getTime();
    const metrics = recorder.summarize(durationMs / 1000, thresholds);
    const generator = generatorReport(metrics);
    const notes = [...tokenNotes, ...(outcome.notes ?? []), ...closeNotes(pools)];
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
      result: {
        viewers: params.viewers,
        viewersPlanned: plannedViewers(params),
        viewersConnected: metrics.viewers_connected?.values.count ?? 0,
        ...outcome.result(metrics),
        ...generatorFields(generator),
      },
      ...(outcome.series ? { series: outcome.series } : {}),
      ...(notes.length ? { notes } : {}),
      generator,
    };
    const files = writeReport(o.outDir, summary);
    if (!o.quiet) process.stderr.write(renderText(summary));
    progress.log(`report: ${files.join(", ")}`);
    return { summary, lastLine: lastLineOf(summary), files };
  } finally {
    monitor?.stop();
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
  o: Pick<DriverOptions, "shadow" | "adminToken" | "tokenSecret" | "url" | "tokenBatch">,
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
  return shadowTokens(api, admin, o.tokenBatch);
}

export { SCENARIO_RUNS };
