// Full link: shoppers arrive at a steady rate (open model) and go HTTP read → WebSocket buy →
// order → sandbox payment (half over HTTP, half over WebSocket) → paid, while background viewers
// watch the stock move.
//   k6 run -e BASE_URL=… -e TOKENS_FILE=/abs/tokens.json -e ARRIVALS_PER_S=50 loadtest/k6/05-full-link.ts
import { check, sleep } from "k6";
import exec from "k6/execution";
import type { Options } from "k6/options";
import { shop, watch } from "../lib/behaviours.ts";
import { arrivalStages, rampHoldStages, totalSeconds } from "../lib/scenarios.ts";
import { api, httpPay, json } from "./lib/api.ts";
import { loadConfig } from "./lib/config.ts";
import { auditDrop, endDrop, type RunData, setupDrop } from "./lib/drop.ts";
import { calibrateProbe, probe, probeScenario, vusOf } from "./lib/generator.ts";
import { metric } from "./lib/metrics.ts";
import { handleSummaryFor, k6Options } from "./lib/summary.ts";
import { setupTokens, tokenPool } from "./lib/tokens.ts";
import { openCounted, openViewer, tokenOrCount } from "./lib/viewer.ts";

const cfg = loadConfig("full-link");
const pool = tokenPool(cfg);
const p = cfg.params;
const watcherStages = rampHoldStages(p.viewers, p.rampS, p.holdS);
const shopperStages = arrivalStages(p.arrivalsPerS, p.rampS, p.holdS);
const scenarios = {
  watchers: {
    executor: "ramping-vus" as const,
    exec: "watcher",
    startVUs: 0,
    stages: watcherStages,
    gracefulRampDown: "10s",
  },
  shoppers: {
    executor: "ramping-arrival-rate" as const,
    exec: "shopper",
    startRate: 0,
    timeUnit: "1s",
    stages: shopperStages,
    preAllocatedVUs: Math.max(10, p.arrivalsPerS * 5),
    maxVUs: Math.max(50, p.arrivalsPerS * 30),
  },
  generator: probeScenario(Math.max(totalSeconds(watcherStages), totalSeconds(shopperStages))),
};

export const options: Options = { ...k6Options("full-link", p), teardownTimeout: "3m", scenarios };

export function setup(): RunData {
  const probeData = calibrateProbe();
  // A shopper VU buys once per iteration; a high per-user limit lets it come back.
  return {
    ...setupDrop(cfg, "full-link", { stock: p.stock, perUserLimit: 1_000 }),
    ...setupTokens(cfg, pool, vusOf(scenarios)),
    probe: probeData,
  };
}

export function shopper(data: RunData): void {
  const vu = exec.vu.idInTest;
  // Shoppers arrive on top of the planned viewers: a failed one counts in journey_ok and
  // viewer_failures, not in viewers_connected.
  const token = tokenOrCount(cfg, pool, data);
  if (!token) {
    metric("journey_ok").add(false);
    return;
  }
  const browse = api.drop(cfg, data.dropId, "browse", token);
  if (!check(browse, { "drop is on sale": (r) => json<{ state?: string }>(r)?.state === "live" })) return;
  const session = openCounted(cfg, token, `s${vu}-${exec.vu.iterationInScenario}`, false);
  if (!session) {
    metric("journey_ok").add(false);
    return;
  }
  const overHttp = exec.vu.iterationInScenario % 2 === 1;
  shop(
    session,
    {
      room: cfg.room,
      dropId: data.dropId,
      qty: 1,
      orderWaitMs: p.orderWaitMs,
      ...(overHttp ? { payOverHttp: httpPay(cfg, token) } : {}),
    },
    (outcome) => {
      check(outcome, { "hold → order → paid": (o) => o.ok });
      if (outcome.ok && outcome.reservationId) {
        const res = api.order(cfg, token, outcome.reservationId);
        check(res, {
          "order reads back as paid": (r) =>
            json<{ order?: { status?: string } }>(r)?.order?.status === "paid",
        });
      }
      session.end();
    },
  );
}

export function watcher(data: RunData): void {
  const left = exec.scenario.startTime + (p.rampS + p.holdS) * 1000 - Date.now();
  if (left < 2_000) {
    sleep(1);
    return;
  }
  const viewer = openViewer(cfg, pool, data, `w${exec.vu.idInTest}`);
  if (!viewer) {
    sleep(1); // counted; do not spin on a VU that has no token
    return;
  }
  watch(viewer.session, { room: cfg.room, stayMs: Math.min(left, cfg.sessionS * 1000) });
}

export function generatorProbe(data: RunData): void {
  probe(data.probe);
}

export function teardown(data: RunData): void {
  auditDrop(cfg, data, p.orderWaitMs);
  endDrop(cfg, data);
}

export const handleSummary = handleSummaryFor("full-link", cfg);
