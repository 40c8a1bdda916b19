import { loadTestDrop } from "../../lib/drop.ts";
import { runDropId } from "../../lib/ids.ts";
import { rampHoldStages } from "../../lib/scenarios.ts";
import type { RunContext, ScenarioOutcome } from "../context.ts";
import { rampingSessions, Sampler } from "../executors.ts";

/**
 * Viewers (k6: 02-viewers.ts): sessions ramp up and soak, following the same stages; the host
 * restocks the run's (scheduled) drop every `hostEveryMs`, so every viewer gets a drop event whose
 * delivery it times from the server's clock.
 */
export async function viewers(ctx: RunContext): Promise<ScenarioOutcome> {
  const p = ctx.params;
  const [tokens, host] = await Promise.all([ctx.viewerTokens(p.viewers), ctx.tokens.host(ctx.room)]);
  const dropId = runDropId("viewers");
  await ctx.api.createDrop(
    ctx.room,
    host,
    loadTestDrop(dropId, p.stock, { startsAt: Date.now() + 24 * 3600 * 1000 }),
  );
  const pool = ctx.startPool(p.viewers);
  const sampler = new Sampler(pool, [
    ["sockets open", "sockets", "open"],
    ["drop events received", "frames", "drop_events"],
  ]);
  let hostEvents = 0;
  let busy = false;
  // Open model for the host: it acts on its clock, whatever the viewers are doing.
  const hostTimer = setInterval(() => {
    if (busy) return;
    busy = true;
    ctx.api
      .hostAction(host, dropId, "restock", { qty: 1 })
      .then((a) => {
        if (a.status === 200) hostEvents += 1;
      })
      .finally(() => {
        busy = false;
      });
  }, p.hostEveryMs);
  try {
    await rampingSessions(
      pool,
      rampHoldStages(p.viewers, p.rampS, p.holdS),
      { kind: "watch", room: ctx.room },
      tokens,
      (target) => {
        const t = pool.tallies();
        ctx.progress.update(
          "viewers",
          t.open,
          p.viewers,
          `target ${target}, ${hostEvents} host events, ${t.metrics.drop_events ?? 0} delivered`,
        );
      },
    );
    clearInterval(hostTimer);
    const { dumps } = await pool.stop();
    for (const d of dumps) ctx.recorder.merge(d);
    await ctx.api.hostAction(host, dropId, "end");
    return {
      result: (m) => ({
        viewers: p.viewers,
        hostEvents,
        dropEvents: m.drop_events?.values.count ?? 0,
        deliveryP95Ms: m.drop_delivery_ms?.values["p(95)"] ?? 0,
        deliveryP99Ms: m.drop_delivery_ms?.values["p(99)"] ?? 0,
      }),
      series: sampler.stop(),
    };
  } finally {
    clearInterval(hostTimer);
    sampler.stop();
    pool.kill();
  }
}
