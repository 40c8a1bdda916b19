import { type LoadParams, paramsFor, type ScenarioName } from "../../lib/scenarios.ts";

/**
 * Everything a k6 run is told, read once from `__ENV` (k6 -e NAME=value, or the environment).
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
  readonly params: LoadParams;
}

const num = (name: string): number | undefined => {
  const raw = __ENV[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got "${raw}"`);
  return n;
};

const flag = (name: string, fallback: boolean): boolean => {
  const raw = (__ENV[name] ?? "").toLowerCase();
  if (raw === "") return fallback;
  return raw === "1" || raw === "true" || raw === "yes";
};

export function loadConfig(scenario: ScenarioName): K6Config {
  const baseUrl = (__ENV.BASE_URL ?? "").replace(/\/+$/, "");
  if (!/^https?:\/\//.test(baseUrl))
    throw new Error("set BASE_URL to the gateway, e.g. -e BASE_URL=https://staging.example.com");
  const params = paramsFor(scenario, "k6", {
    viewers: num("VIEWERS"),
    stock: num("STOCK"),
    rampS: num("RAMP_S"),
    holdS: num("HOLD_S"),
    leadS: num("LEAD_S"),
    jitterMs: num("JITTER_MS"),
    chatEveryMs: num("CHAT_EVERY_MS"),
    arrivalsPerS: num("ARRIVALS_PER_S"),
    hostEveryMs: num("HOST_EVERY_MS"),
    orderWaitMs: num("ORDER_WAIT_MS"),
  });
  return {
    baseUrl,
    wsUrl: __ENV.WS_URL || `${baseUrl.replace(/^http/, "ws")}/ws`,
    room: __ENV.ROOM || "loadtest",
    shadow: flag("SHADOW", true),
    adminToken: __ENV.ADMIN_TOKEN ?? "",
    hostToken: __ENV.HOST_TOKEN ?? "",
    tokensFile: __ENV.TOKENS_FILE ?? "",
    dropId: __ENV.DROP_ID ?? "",
    summaryDir: (__ENV.SUMMARY_DIR || ".").replace(/\/+$/, ""),
    sessionS: num("SESSION_S") ?? 300,
    latePerS: num("LATE_PER_S") ?? Math.max(1, Math.round(params.viewers / 200)),
    params,
  };
}
