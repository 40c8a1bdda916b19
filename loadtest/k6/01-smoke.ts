// Smoke: one shopper end to end, every check must pass. Run it before anything bigger:
//   k6 run -e BASE_URL=https://staging.example.com -e ADMIN_TOKEN=… loadtest/k6/01-smoke.ts
import { check } from "k6";
import exec from "k6/execution";
import type { Options } from "k6/options";
import { chatter, shop } from "../lib/behaviours.ts";
import { api, httpPay, json } from "./lib/api.ts";
import { loadConfig } from "./lib/config.ts";
import { auditDrop, endDrop, type RunData, setupDrop } from "./lib/drop.ts";
import { calibrateProbe, probe, probeScenario, vusOf } from "./lib/generator.ts";
import { metric } from "./lib/metrics.ts";
import { handleSummaryFor, k6Options } from "./lib/summary.ts";
import { setupTokens, tokenPool } from "./lib/tokens.ts";
import { openCounted, openViewer } from "./lib/viewer.ts";

const cfg = loadConfig("smoke");
const pool = tokenPool(cfg);
const p = cfg.params;
const scenarios = {
  smoke: {
    executor: "per-vu-iterations" as const,
    exec: "shopper",
    vus: p.viewers,
    iterations: 1,
    maxDuration: `${p.holdS + 60}s`,
  },
  generator: probeScenario(10),
};

export const options: Options = { ...k6Options("smoke", p), scenarios };

export function setup(): RunData {
  const probeData = calibrateProbe();
  return {
    ...setupDrop(cfg, "smoke", { stock: Math.max(p.stock, p.viewers), perUserLimit: 1 }),
    ...setupTokens(cfg, pool, vusOf(scenarios)),
    probe: probeData,
  };
}

export function shopper(data: RunData): void {
  const vu = exec.vu.idInTest;
  const viewer = openViewer(cfg, pool, data, `smoke${vu}`);
  if (!viewer) {
    metric("journey_ok").add(false);
    return;
  }
  const { session: buyer, token } = viewer;
  check(api.drop(cfg, data.dropId, "browse", token), { "drop is readable": (r) => r.status === 200 });
  shop(
    buyer,
    {
      room: cfg.room,
      dropId: data.dropId,
      qty: 1,
      orderWaitMs: p.orderWaitMs,
      payOverHttp: httpPay(cfg, token),
    },
    (outcome) => {
      check(outcome, { "hold → order → paid": (o) => o.ok });
      if (outcome.reservationId) {
        const res = api.order(cfg, token, outcome.reservationId);
        check(res, {
          "order reads back as paid": (r) =>
            json<{ order?: { status?: string } }>(r)?.order?.status === "paid",
        });
      }
      buyer.end();
    },
  );

  // A second socket of the same viewer chats a few messages and leaves.
  const talker = openCounted(cfg, token, `smokechat${vu}`, false);
  if (talker) chatter(talker, { room: cfg.room, everyMs: 1_200, stayMs: 4_000 });
}

export function generatorProbe(data: RunData): void {
  probe(data.probe);
}

export function teardown(data: RunData): void {
  auditDrop(cfg, data, p.orderWaitMs);
  endDrop(cfg, data);
}

export const handleSummary = handleSummaryFor("smoke", cfg);
