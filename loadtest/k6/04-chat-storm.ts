// Chat storm: viewers ramp up and every one chats at the per-user limit while reading everyone
// else's messages (batched about every 100 ms, sampled in very large rooms).
//   k6 run -e BASE_URL=… -e TOKENS_FILE=/abs/tokens.json -e VIEWERS=3000 loadtest/k6/04-chat-storm.ts
import { check, sleep } from "k6";
import exec from "k6/execution";
import type { Options } from "k6/options";
import { chatter } from "../lib/behaviours.ts";
import { rampHoldStages } from "../lib/scenarios.ts";
import { api } from "./lib/api.ts";
import { loadConfig } from "./lib/config.ts";
import { openSession } from "./lib/socket.ts";
import { handleSummaryFor, k6Options } from "./lib/summary.ts";
import { tokenPool, viewerToken } from "./lib/tokens.ts";

const cfg = loadConfig("chat");
const pool = tokenPool(cfg);
const p = cfg.params;

export const options: Options = {
  ...k6Options("chat"),
  scenarios: {
    chatters: {
      executor: "ramping-vus",
      exec: "chat",
      startVUs: 0,
      stages: rampHoldStages(p.viewers, p.rampS, p.holdS),
      gracefulRampDown: "10s",
    },
  },
};

export function setup(): { startedAt: string } {
  check(api.health(cfg), { "target is ready": (r) => r.status === 200 });
  return { startedAt: new Date().toISOString() };
}

export function chat(): void {
  const left = exec.scenario.startTime + (p.rampS + p.holdS) * 1000 - Date.now();
  if (left < 2_000) {
    sleep(1);
    return;
  }
  const session = openSession(cfg, viewerToken(cfg, pool, exec.vu.idInTest), `c${exec.vu.idInTest}`);
  chatter(session, { room: cfg.room, everyMs: p.chatEveryMs, stayMs: left });
}

export const handleSummary = handleSummaryFor("chat", cfg);
