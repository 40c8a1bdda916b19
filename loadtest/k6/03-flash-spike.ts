// Flash spike: every viewer is connected and counting down to T0 on the server clock; at T0
// they all buy. Late buyers keep arriving after T0 (open model). At the end the API must show
// held + sold <= stock and an order for every acknowledged hold.
//   k6 run -e BASE_URL=… -e TOKENS_FILE=/abs/tokens.json -e VIEWERS=10000 -e STOCK=1000 loadtest/k6/03-flash-spike.ts
import exec from "k6/execution";
import type { Options } from "k6/options";
import { flashBuy } from "../lib/behaviours.ts";
import { api } from "./lib/api.ts";
import { loadConfig } from "./lib/config.ts";
import { auditDrop, endDrop, type RunData, setupDrop } from "./lib/drop.ts";
import { calibrateProbe, probe, probeScenario, vusOf } from "./lib/generator.ts";
import { metric } from "./lib/metrics.ts";
import { handleSummaryFor, k6Options } from "./lib/summary.ts";
import { setupTokens, tokenPool } from "./lib/tokens.ts";
import { openViewer } from "./lib/viewer.ts";

const cfg = loadConfig("spike");
const pool = tokenPool(cfg);
const p = cfg.params;
/** Late buyers arrive for this long after T0. */
const LATE_S = 30;
const scenarios = {
  // Closed: a fixed crowd, each connecting once and buying once.
  buyers: {
    executor: "per-vu-iterations" as const,
    exec: "buyer",
    vus: p.viewers,
    iterations: 1,
    maxDuration: `${Math.ceil(p.leadS + 60 + p.orderWaitMs / 1000)}s`,
  },
  // Open: people still arriving after T0, at a rate that does not wait for the system.
  ...(cfg.latePerS > 0
    ? {
        late: {
          executor: "ramping-arrival-rate" as const,
          exec: "lateBuyer",
          startTime: `${p.leadS}s`,
          startRate: cfg.latePerS,
          timeUnit: "1s",
          stages: [{ duration: `${LATE_S}s`, target: 0 }],
          preAllocatedVUs: cfg.latePerS * 5,
          maxVUs: cfg.latePerS * 20,
        },
      }
    : {}),
  // Through the countdown, T0 and the late arrivals.
  generator: probeScenario(p.leadS + LATE_S),
};

export const options: Options = {
  ...k6Options("spike", p),
  setupTimeout: "5m",
  teardownTimeout: "5m",
  scenarios,
};

export function setup(): RunData {
  const probeData = calibrateProbe();
  return {
    ...setupDrop(cfg, "spike", { stock: p.stock, startsInMs: p.leadS * 1000 }),
    ...setupTokens(cfg, pool, vusOf(scenarios)),
    probe: probeData,
  };
}

function buy(data: RunData, atT0: boolean): void {
  // A VU without a token or a connection is counted (viewer_failures) and ends here.
  const viewer = openViewer(cfg, pool, data, `b${exec.vu.idInTest}`, atT0);
  if (!viewer) return;
  const { session, token } = viewer;
  const options = { room: cfg.room, dropId: data.dropId, qty: 1, jitterMs: atT0 ? p.jitterMs : 0 };
  flashBuy(session, { ...options, orderWaitMs: p.orderWaitMs, measureSkew: atT0 }, (outcome) => {
    if (outcome.code === "held") {
      // The order frame did not come: ask the API before calling the hold orphaned.
      const found =
        outcome.orderSeen ||
        (outcome.reservationId !== undefined && api.order(cfg, token, outcome.reservationId).status === 200);
      metric("holds_without_order").add(found ? 0 : 1);
    }
    session.end();
  });
}

export function buyer(data: RunData): void {
  buy(data, true);
}

export function lateBuyer(data: RunData): void {
  buy(data, false);
}

export function generatorProbe(data: RunData): void {
  probe(data.probe);
}

export function teardown(data: RunData): void {
  auditDrop(cfg, data, p.orderWaitMs);
  endDrop(cfg, data);
}

export const handleSummary = handleSummaryFor("spike", cfg);
