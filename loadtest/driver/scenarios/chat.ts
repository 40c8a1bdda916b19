import { rampHoldStages } from "../../lib/scenarios.ts";
import type { RunContext, ScenarioOutcome } from "../context.ts";
import { rampingSessions, Sampler } from "../executors.ts";

/** Chat storm (k6: 04-chat-storm.ts): chatters ramp up and each chats every `chatEveryMs`. */
export async function chat(ctx: RunContext): Promise<ScenarioOutcome> {
  const p = ctx.params;
  const tokens = await ctx.viewerTokens(p.viewers);
  const pool = ctx.startPool(p.viewers);
  const sampler = new Sampler(pool, [
    ["sockets open", "sockets", "open"],
    ["own messages echoed", "messages", "chat_echo_ms"],
    ["messages from others received", "messages", "chat_received"],
  ]);
  try {
    await rampingSessions(
      pool,
      rampHoldStages(p.viewers, p.rampS, p.holdS),
      { kind: "chat", room: ctx.room, everyMs: p.chatEveryMs },
      tokens,
      (target) => {
        const t = pool.tallies();
        ctx.progress.update(
          "chatters",
          t.open,
          p.viewers,
          `target ${target}, ${t.metrics.chat_echo_ms ?? 0} sent`,
        );
      },
    );
    const { dumps } = await pool.stop();
    for (const d of dumps) ctx.recorder.merge(d);
    return {
      result: (m) => ({
        viewers: p.viewers,
        sent: m.chat_refused ? (m.chat_refused.values.passes ?? 0) + (m.chat_refused.values.fails ?? 0) : 0,
        received: m.chat_received?.values.count ?? 0,
        echoP95Ms: m.chat_echo_ms?.values["p(95)"] ?? 0,
        deliveryP95Ms: m.chat_delivery_ms?.values["p(95)"] ?? 0,
      }),
      series: sampler.stop(),
    };
  } finally {
    sampler.stop();
    pool.kill();
  }
}
