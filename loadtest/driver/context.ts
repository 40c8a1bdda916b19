import type { LoadParams, ScenarioName, Thresholds } from "../lib/scenarios.ts";
import type { MetricSummary, Series } from "../lib/summary.ts";
import type { Api } from "./api.ts";
import type { WorkerPool } from "./pool.ts";
import type { Progress } from "./progress.ts";
import type { Recorder } from "./recorder.ts";
import type { TokenSource } from "./tokens.ts";

/** What a scenario gets from the driver. */
export interface RunContext {
  readonly name: ScenarioName;
  readonly params: LoadParams;
  readonly thresholds: Thresholds;
  readonly room: string;
  readonly baseUrl: string;
  readonly wsUrl: string;
  /** The driver's own HTTP calls (setup, host actions, audits), recorded into `recorder`. */
  readonly api: Api;
  readonly recorder: Recorder;
  readonly tokens: TokenSource;
  /**
   * Tokens for `count` viewers; fewer when minting stopped short, the missing ones already
   * counted (`viewer_failures{reason:token}`) and noted. Use it rather than `tokens.viewers`.
   */
  viewerTokens(count: number): Promise<string[]>;
  readonly progress: Progress;
  /** Load worker processes to use, 0 = decide from the number of sockets. */
  readonly workers: number;
  startPool(sockets: number): WorkerPool;
}

export interface ScenarioOutcome {
  /** The result line's fields, from the run's summarized metrics. */
  result(metrics: Readonly<Record<string, MetricSummary>>): Record<string, number | string | boolean>;
  readonly series?: readonly Series[];
  readonly notes?: readonly string[];
}

export type Scenario = (ctx: RunContext) => Promise<ScenarioOutcome>;
