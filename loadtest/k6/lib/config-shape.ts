import type { GeneratorLimits } from "../../lib/generator.ts";
import type { LoadParams } from "../../lib/scenarios.ts";

/**
 * Everything a k6 run is told, read once from `__ENV` by config.ts (k6 -e NAME=value, or the
 * environment). Its own file, free of k6 globals, so Node tests can build one.
 * The README's "Load testing" section lists every variable.
 */
export interface K6Config {
  /** `https://staging.example.com`: the gateway's HTTP base. */
  readonly baseUrl: string;
  /** `wss://staging.example.com/ws`, derived from baseUrl unless WS_URL is set. */
  readonly wsUrl: string;
  readonly room: string;
  /** Shadow traffic (default on): tokens minted by the admin endpoint, isolated end to end. */
  readonly shadow: boolean;
  readonly adminToken: string;
  readonly hostToken: string;
  /** JSON file of viewer tokens (`npm run loadtest -- tokens`), loaded once into a SharedArray. */
  readonly tokensFile: string;
  /** Use this existing drop instead of creating one. */
  readonly dropId: string;
  /** Where handleSummary writes `<scenario>-summary.json` and `<scenario>-report.html`. */
  readonly summaryDir: string;
  /** Viewers scenario: one viewer session lasts about this long, then it reconnects. */
  readonly sessionS: number;
  /** Spike: late buyers arriving per second after T0 (open model); 0 turns them off. */
  readonly latePerS: number;
  /** Viewer tokens setup() mints per request (default 5,000: the admin endpoint's most per request). */
  readonly tokenBatch: number;
  /** When the load generator counts as saturated (lib/generator.ts has the defaults). */
  readonly generatorLimits: GeneratorLimits;
  readonly params: LoadParams;
}
