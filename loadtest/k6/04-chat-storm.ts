// Chat storm: viewers ramp up and every one chats at the per-user limit while reading everyone
// else's messages (batched about every 100 ms, sampled in very large rooms).
//   k6 run -e BASE_URL=… -e TOKENS_FILE=/abs/tokens.json -e VIEWERS=3000 loadtest/k6/04-chat-storm.ts
import { check, sleep } from "k6";
import exec from "k6/execution";
import type { Options } from "k6/options";
import { chatter } from "../lib/behaviours.ts";
import { rampHoldStages, totalSeconds } from "../lib/scenarios.ts";
import { api } from "./lib/api.ts";
import { loadConfig } from "./lib/config.ts";
import { calibrateProbe, type ProbeCalibration, probe, probeScenario, vusOf } from "./lib/generator.ts";
import { handleSummaryFor, k6Options } from "./lib/summary.ts";
import { type SetupTokens, setupTokens, tokenPool } from "./lib/tokens.ts";
import { openViewer } from "./lib/viewer.ts";

const cfg = loadConfig("chat");
const pool = tokenPool(cfg);
const p = cfg.params;
const stages = rampHoldStages(p.viewers, p.rampS, p.holdS);
const scenarios = {
  chatters: {
    executor: "ramping-vus" as const,
    exec: "chat",
    startVUs: 0,
    stages,
    gracefulRampDown: "10s",
  },
  generator: probeScenario(totalSeconds(stages)),
};

export const options: Options = { ...k6Options("chat", p), scenarios };

interface ChatData extends SetupTokens {
  readonly startedAt: string;
  readonly probe: ProbeCalibration;
}

export function setup(): ChatData {
  const probeData = calibrateProbe();
  check(api.health(cfg), { "target is ready": (r) => r.status === 200 });
  return {
    startedAt: new Date().toISOString(),
    ...setupTokens(cfg, pool, vusOf(scenarios)),
    probe: probeData,
  };
}

export function chat(data: ChatData): void {
  const left = exec.scenario.startTime + (p.rampS + p.holdS) * 1000 - Date.now();
  if (left < 2_000) {
    sleep(1);
    return;
  }
  const viewer = openViewer(cfg, pool, data, `c${exec.vu.idInTest}`);
  if (!viewer) {
    sleep(1); // counted; do not spin on a VU that has no token
    return;
  }
  chatter(viewer.session, { room: cfg.room, everyMs: p.chatEveryMs, stayMs: left });
}

export function generatorProbe(data: ChatData): void {
  probe(data.probe);
}

export const handleSummary = handleSummaryFor("chat", cfg);
