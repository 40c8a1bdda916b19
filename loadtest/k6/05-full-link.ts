// Full link: shoppers arrive at a steady rate (open model) and go HTTP read → WebSocket buy →
// order → sandbox payment (half over HTTP, half over WebSocket) → paid, while background viewers
// watch the stock move.
//   k6 run -e BASE_URL=… -e TOKENS_FILE=/abs/tokens.json -e ARRIVALS_PER_S=50 loadtest/k6/05-full-link.ts
import { check, sleep } from "k6";
import exec from "k6/execution";
import type { Options } from "k6/options";
import { shop, watch } from "../lib/behaviours.ts";
import { arrivalStages, rampHoldStages } from "../lib/scenarios.ts";
import { api, httpPay, json } from "./lib/api.ts";
import { loadConfig } from "./lib/config.ts";
import { auditDrop, endDrop, type RunData, setupDrop } from "./lib/drop.ts";
import { openSession } from "./lib/socket.ts";
import { handleSummaryFor, k6Options } from "./lib/summary.ts";
import { tokenPool, viewerToken } from "./lib/tokens.ts";

const cfg = loadConfig("full-link");
const pool = tokenPool(cfg);
const p = cfg.params;

export const options: Options = {
  ...k6Options("full-link"),
  teardownTimeout: "3m",
  scenarios: {
    watchers: {
      executor: "ramping-vus",
      exec: "watcher",
      startVUs: 0,
      stages: rampHoldStages(p.viewers, p.rampS, p.holdS),
      gracefulRampDown: "10s",
    },
    shoppers: {
      executor: "ramping-arrival-rate",
      exec: "shopper",
      startRate: 0,
      timeUnit: "1s",
      stages: arrivalStages(p.arrivalsPerS, p.rampS, p.holdS),
      preAllocatedVUs: Math.max(10, p.arrivalsPerS * 5),
      maxVUs: Math.max(50, p.arrivalsPerS * 30),
    },
  },
};

export function setup(): RunData {
  // A shopper VU buys once per iteration; a high per-user limit lets it come back.
  return setupDrop(cfg, "full-link", { stock: p.stock, perUserLimit: 1_000 });
}

export function shopper(data: RunData): void {
  const vu = exec.vu.idInTest;
  const token = viewerToken(cfg, pool, vu);
  const browse = api.drop(cfg, data.dropId, "browse", token);
  if (!check(browse, { "drop is on sale": (r) => json<{ state?: string }>(r)?.state === "live" })) return;
  const session = openSession(cfg, token, `s${vu}-${exec.vu.iterationInScenario}`);
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

export function watcher(): void {
  const left = exec.scenario.startTime + (p.rampS + p.holdS) * 1000 - Date.now();
  if (left < 2_000) {
    sleep(1);
    return;
  }
  const session = openSession(cfg, viewerToken(cfg, pool, exec.vu.idInTest), `w${exec.vu.idInTest}`);
  watch(session, { room: cfg.room, stayMs: Math.min(left, cfg.sessionS * 1000) });
}

export function teardown(data: RunData): void {
  auditDrop(cfg, data, p.orderWaitMs);
  endDrop(cfg, data);
}

export const handleSummary = handleSummaryFor("full-link", cfg);
