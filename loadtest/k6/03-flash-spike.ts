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
import { metric } from "./lib/metrics.ts";
import { openSession } from "./lib/socket.ts";
import { handleSummaryFor, k6Options } from "./lib/summary.ts";
import { tokenPool, viewerToken } from "./lib/tokens.ts";

const cfg = loadConfig("spike");
const pool = tokenPool(cfg);
const p = cfg.params;

export const options: Options = {
  ...k6Options("spike"),
  setupTimeout: "5m",
  teardownTimeout: "5m",
  scenarios: {
    // Closed: a fixed crowd, each connecting once and buying once.
    buyers: {
      executor: "per-vu-iterations",
      exec: "buyer",
      vus: p.viewers,
      iterations: 1,
      maxDuration: `${Math.ceil(p.leadS + 60 + p.orderWaitMs / 1000)}s`,
    },
    // Open: people still arriving after T0, at a rate that does not wait for the system.
    ...(cfg.latePerS > 0
      ? {
          late: {
            executor: "ramping-arrival-rate",
            exec: "lateBuyer",
            startTime: `${p.leadS}s`,
            startRate: cfg.latePerS,
            timeUnit: "1s",
            stages: [{ duration: "30s", target: 0 }],
            preAllocatedVUs: cfg.latePerS * 5,
            maxVUs: cfg.latePerS * 20,
          },
        }
      : {}),
  },
};

export function setup(): RunData {
  return setupDrop(cfg, "spike", { stock: p.stock, startsInMs: p.leadS * 1000 });
}

function buy(data: RunData, atT0: boolean): void {
  const token = viewerToken(cfg, pool, exec.vu.idInTest);
  const session = openSession(cfg, token, `b${exec.vu.idInTest}`);
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

export function teardown(data: RunData): void {
  auditDrop(cfg, data, p.orderWaitMs);
  endDrop(cfg, data);
}

export const handleSummary = handleSummaryFor("spike", cfg);
