// Viewers: ramping WebSocket viewers join the room and soak; the host changes the drop at a
// steady rate (open model) and every viewer times each drop event from the server's clock.
//   k6 run -e BASE_URL=… -e TOKENS_FILE=/abs/tokens.json -e VIEWERS=5000 -e HOLD_S=1800 loadtest/k6/02-viewers.ts
import { check, sleep } from "k6";
import exec from "k6/execution";
import type { Options } from "k6/options";
import { watch } from "../lib/behaviours.ts";
import { rampHoldStages, totalSeconds } from "../lib/scenarios.ts";
import { api } from "./lib/api.ts";
import { loadConfig } from "./lib/config.ts";
import { endDrop, type RunData, setupDrop } from "./lib/drop.ts";
import { calibrateProbe, probe, probeScenario, vusOf } from "./lib/generator.ts";
import { handleSummaryFor, k6Options } from "./lib/summary.ts";
import { setupTokens, tokenPool } from "./lib/tokens.ts";
import { openViewer } from "./lib/viewer.ts";

const cfg = loadConfig("viewers");
const pool = tokenPool(cfg);
const p = cfg.params;
const stages = rampHoldStages(p.viewers, p.rampS, p.holdS);
const scenarios = {
  viewers: {
    executor: "ramping-vus" as const,
    exec: "viewer",
    startVUs: 0,
    stages,
    gracefulRampDown: "30s",
  },
  // Open model: the host acts on its schedule whatever the viewers are doing.
  host: {
    executor: "constant-arrival-rate" as const,
    exec: "host",
    rate: 1,
    timeUnit: `${p.hostEveryMs}ms`,
    duration: `${totalSeconds(stages)}s`,
    preAllocatedVUs: 2,
    maxVUs: 4,
  },
  generator: probeScenario(totalSeconds(stages)),
};

export const options: Options = { ...k6Options("viewers", p), scenarios };

export function setup(): RunData {
  // Scheduled a day out: restocks change it (a drop event to everyone) and nobody buys it.
  const probeData = calibrateProbe();
  return {
    ...setupDrop(cfg, "viewers", { stock: p.stock, startsInMs: 24 * 3600 * 1000 }),
    ...setupTokens(cfg, pool, vusOf(scenarios)),
    probe: probeData,
  };
}

export function viewer(data: RunData): void {
  const endsAt = exec.scenario.startTime + (p.rampS + p.holdS) * 1000;
  const left = endsAt - Date.now();
  if (left < 2_000) {
    sleep(1); // ramping down: do not reconnect just to leave again
    return;
  }
  const viewer = openViewer(cfg, pool, data, `v${exec.vu.idInTest}`);
  if (!viewer) {
    sleep(1); // counted; do not spin on a VU that has no token
    return;
  }
  // Viewers come and go: each session lasts about SESSION_S, then the VU reconnects.
  watch(viewer.session, {
    room: cfg.room,
    stayMs: Math.min(left, cfg.sessionS * 1000 * (0.8 + 0.4 * Math.random())),
  });
}

export function host(data: RunData): void {
  const res = api.hostAction(cfg, data.hostToken, data.dropId, "restock", { qty: 1 });
  check(res, { "restock accepted": (r) => r.status === 200 });
}

export function generatorProbe(data: RunData): void {
  probe(data.probe);
}

export function teardown(data: RunData): void {
  endDrop(cfg, data);
}

export const handleSummary = handleSummaryFor("viewers", cfg);
