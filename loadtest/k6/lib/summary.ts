import { AUCTION_RUN, winnerIsHighest } from "../../lib/auction-run.ts";
import { generatorFields, generatorReport } from "../../lib/generator.ts";
import { renderHtml, renderText } from "../../lib/report.ts";
import {
  type LoadParams,
  METRICS,
  plannedViewers,
  type ScenarioName,
  TREND_STATS,
  thresholdsFor,
} from "../../lib/scenarios.ts";
import {
  evaluateThreshold,
  lastLineOf,
  type MetricSummary,
  type RunSummary,
  type ThresholdResult,
} from "../../lib/summary.ts";
import type { K6Config } from "./config-shape.ts";

/**
 * handleSummary for every script: k6's end-of-test data becomes the shared RunSummary, written as
 * `<SUMMARY_DIR>/<scenario>-summary.json` and a self-contained `<scenario>-report.html`, with a
 * short text summary and the scenario's result line (last) on stdout.
 */

/** The part of k6's handleSummary data read here (@types/k6 does not describe it). */
interface K6SummaryData {
  readonly metrics: Record<
    string,
    {
      type: MetricSummary["type"];
      contains?: MetricSummary["contains"];
      values: Record<string, number>;
      thresholds?: Record<string, { ok: boolean }>;
    }
  >;
  readonly state?: { testRunDurationMs?: number };
  readonly setup_data?: Record<string, unknown>;
}

/** Metrics worth keeping besides the catalog's: k6's own HTTP and WebSocket numbers. */
const K6_BUILTINS = [
  "checks",
  "http_req_duration",
  "http_req_failed",
  "http_reqs",
  "ws_connecting",
  "ws_sessions",
  "ws_msgs_sent",
  "ws_msgs_received",
  "iterations",
  "dropped_iterations",
  "vus_max",
];

/** Thresholds (with viewers_connected against the run's planned viewers) and trend stats. */
export function k6Options(name: ScenarioName, params: LoadParams) {
  const thresholds: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(thresholdsFor(name, "k6", params))) thresholds[k] = [...v];
  return { thresholds, summaryTrendStats: [...TREND_STATS] };
}

export function toRunSummary(
  name: ScenarioName,
  cfg: K6Config,
  data: K6SummaryData,
  result: (metrics: Record<string, MetricSummary>, setup: Record<string, unknown>) => RunSummary["result"],
): RunSummary {
  const metrics: Record<string, MetricSummary> = {};
  const thresholds: ThresholdResult[] = [];
  for (const [key, m] of Object.entries(data.metrics)) {
    // The catalog's metrics, k6's HTTP/WebSocket numbers, and any sub-metric with a threshold.
    if (
      (METRICS as Record<string, unknown>)[key] === undefined &&
      !K6_BUILTINS.includes(key) &&
      !m.thresholds
    )
      continue;
    metrics[key] = { type: m.type, ...(m.contains ? { contains: m.contains } : {}), values: m.values };
    for (const [expr, t] of Object.entries(m.thresholds ?? {})) {
      const { actual } = evaluateThreshold(expr, metrics[key], m.type);
      thresholds.push({ metric: key, expr, ok: t.ok, ...(actual !== undefined ? { actual } : {}) });
    }
  }
  const setup = data.setup_data ?? {};
  const generator = generatorReport(metrics, cfg.generatorLimits);
  return {
    loadtest: name,
    runner: "k6",
    ok: thresholds.every((t) => t.ok),
    startedAt: String(setup.startedAt ?? ""),
    durationMs: data.state?.testRunDurationMs ?? 0,
    target: cfg.baseUrl,
    shadow: cfg.shadow,
    params: { ...cfg.params, room: cfg.room },
    thresholds,
    metrics,
    result: { ...result(metrics, setup), ...generatorFields(generator) },
    generator,
    ...(typeof setup.tokenError === "string" ? { notes: [setup.tokenError] } : {}),
  };
}

const count = (m: Record<string, MetricSummary>, name: string) => m[name]?.values.count ?? 0;

/** The result line of each scenario (the generator's fields are added by toRunSummary). */
export function resultFor(name: ScenarioName, cfg: K6Config) {
  return (m: Record<string, MetricSummary>, setup: Record<string, unknown>): RunSummary["result"] => {
    const crowd = {
      viewers: cfg.params.viewers,
      viewersPlanned: plannedViewers(cfg.params),
      viewersConnected: count(m, "viewers_connected"),
    };
    if (name === "spike") {
      const stock = Number(setup.stock ?? cfg.params.stock);
      return {
        ...crowd,
        stock,
        sold: count(m, "units_taken"),
        // The API audit, and the buyers' own count of acknowledged holds: whichever is worse.
        oversold: Math.max(count(m, "oversold"), count(m, "holds") - stock),
        ackP99Ms: m.buy_ack_ms?.values["p(99)"] ?? 0,
        holdsWithoutOrder: count(m, "holds_without_order"),
      };
    }
    if (name === "auction") return { ...auctionResult(m, cfg.params.viewers), ...crowd };
    return {
      ...crowd,
      sessions: m.ws_session_ok
        ? (m.ws_session_ok.values.passes ?? 0) + (m.ws_session_ok.values.fails ?? 0)
        : 0,
      holds: count(m, "holds"),
      oversold: count(m, "oversold"),
    };
  };
}

/**
 * The auction's result from the bidders' metrics: exactly one bidder got the hold, its maximum
 * is the highest (the losers' trend max), and it pays the proxy rule's price.
 */
function auctionResult(m: Record<string, MetricSummary>, bidders: number): RunSummary["result"] {
  const top = (name: string) => (count(m, name) > 0 ? m[name]?.values.max : undefined);
  const loser = top("auction_loser_max_minor");
  const wins = m.auction_wins?.values.count ?? 0;
  const verdict =
    wins === 1 &&
    winnerIsHighest({
      winnerMaxMinor: top("auction_winner_max_minor"),
      winnerPriceMinor: top("auction_price_minor"),
      otherMaxima: loser === undefined ? [] : [loser],
      startPriceMinor: AUCTION_RUN.startPriceMinor,
      increments: AUCTION_RUN.increments,
    });
  return {
    bidders,
    bids: m.bids?.values.count ?? 0,
    accepted: m.bids_accepted?.values.count ?? 0,
    extensions: m.auction_extensions?.values.count ?? 0,
    winnerIsHighest: verdict,
    // The backing drop's counters (teardown), and the bidders' own count of holds.
    oversold: Math.max(m.oversold?.values.count ?? 0, wins - 1),
    ackP95Ms: m.bid_ack_ms?.values["p(95)"] ?? 0,
    ackP99Ms: m.bid_ack_ms?.values["p(99)"] ?? 0,
  };
}

export function handleSummaryFor(name: ScenarioName, cfg: K6Config) {
  return (data: K6SummaryData): Record<string, string> => {
    const summary = toRunSummary(name, cfg, data, resultFor(name, cfg));
    return {
      stdout: `${renderText(summary)}${lastLineOf(summary)}\n`,
      [`${cfg.summaryDir}/${name}-summary.json`]: `${JSON.stringify(summary, null, 2)}\n`,
      [`${cfg.summaryDir}/${name}-report.html`]: renderHtml(summary),
    };
  };
}
