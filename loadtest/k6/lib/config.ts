import { GENERATOR_LIMITS } from "../../lib/generator.ts";
import { paramsFor, type ScenarioName } from "../../lib/scenarios.ts";
import type { K6Config } from "./config-shape.ts";

export type { K6Config } from "./config-shape.ts";

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
    auctionS: num("AUCTION_S"),
    bidWindowS: num("BID_WINDOW_S"),
    antiSnipeMs: num("ANTI_SNIPE_MS"),
    lostAckPct: num("LOST_ACK_PCT"),
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
    tokenBatch: Math.max(1, num("TOKEN_BATCH") ?? 5_000),
    generatorLimits: {
      cpuPct: GENERATOR_LIMITS.cpuPct,
      cpuSlowdown: num("GENERATOR_MAX_SLOWDOWN") ?? GENERATOR_LIMITS.cpuSlowdown,
      lagMs: num("GENERATOR_MAX_LAG_MS") ?? GENERATOR_LIMITS.lagMs,
      iterationLagMs: num("GENERATOR_MAX_ITERATION_LAG_MS") ?? GENERATOR_LIMITS.iterationLagMs,
      droppedIterations: num("GENERATOR_MAX_DROPPED") ?? GENERATOR_LIMITS.droppedIterations,
    },
    params,
  };
}
