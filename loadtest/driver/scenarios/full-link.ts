import { loadTestDrop } from "../../lib/drop.ts";
import { runDropId } from "../../lib/ids.ts";
import { arrivalStages, rampHoldStages } from "../../lib/scenarios.ts";
import { auditDrop } from "../audit.ts";
import type { RunContext, ScenarioOutcome } from "../context.ts";
import { rampingArrivals, rampingSessions, Sampler, until } from "../executors.ts";

/**
 * Full link (k6: 05-full-link.ts): background viewers ramp up while shoppers arrive at a rate
 * (open model); each reads the drop over HTTP, then buys over WebSocket, waits for its order,
 * pays in the sandbox (every other one over HTTP) and waits for paid.
 */
export async function fullLink(ctx: RunContext): Promise<ScenarioOutcome> {
  const p = ctx.params;
  const shoppers = Math.max(20, Math.ceil(p.arrivalsPerS * 10));
  const [watchers, minted, host] = await Promise.all([
    ctx.viewerTokens(p.viewers),
    ctx.tokens.viewers(shoppers),
    ctx.tokens.host(ctx.room),
  ]);
  // Shoppers arrive on top of the planned viewers and take turns with these tokens, as k6 VUs do.
  const buyers = minted.tokens;
  const buyerNote = minted.error
    ? [`shopper tokens: ${minted.tokens.length} of ${shoppers} (${minted.error})`]
    : [];
  const dropId = runDropId("full-link");
  await ctx.api.createDrop(ctx.room, host, loadTestDrop(dropId, p.stock, { perUserLimit: 1_000 }));
  const pool = ctx.startPool(p.viewers + p.arrivalsPerS * 5);
  const sampler = new Sampler(pool, [
    ["sockets open", "sockets", "open"],
    ["journeys finished", "shoppers", "journey_ok"],
    ["units held", "units", "holds"],
  ]);
  try {
    let skipped = 0;
    const shop = (i: number) => {
      // Like the k6 shopper: read the drop over HTTP first, then go through the socket.
      const token = buyers[i % Math.max(1, buyers.length)];
      if (!token) {
        skipped += 1;
        ctx.recorder.count("viewer_failures", 1, { reason: "token" });
        ctx.recorder.rate("journey_ok", false);
        return;
      }
      void ctx.api.drop(dropId, "browse", token);
      const spec = {
        kind: "shop",
        room: ctx.room,
        dropId,
        qty: 1,
        orderWaitMs: p.orderWaitMs,
        payOverHttp: i % 2 === 1,
      } as const;
      pool.open(spec, [token], false);
    };
    const [, arrived] = await Promise.all([
      rampingSessions(
        pool,
        rampHoldStages(p.viewers, p.rampS, p.holdS),
        { kind: "watch", room: ctx.room },
        watchers,
        () => undefined,
      ),
      rampingArrivals(arrivalStages(p.arrivalsPerS, p.rampS, p.holdS), shop, (started) => {
        const t = pool.tallies();
        ctx.progress.update(
          "shoppers done",
          t.done,
          started,
          `${t.open} sockets, ${t.metrics.holds ?? 0} held`,
        );
      }),
    ]);
    await until(
      () => pool.tallies().done + skipped >= arrived,
      p.orderWaitMs + 10_000,
      () => ctx.progress.update("shoppers done", pool.tallies().done + skipped, arrived),
    );
    const { dumps, outcomes } = await pool.stop();
    for (const d of dumps) ctx.recorder.merge(d);
    const acked = outcomes.flatMap((o) => (o.kind === "shop" && o.reservationId ? [o.reservationId] : []));
    const audit = await auditDrop(ctx.api, host, dropId, acked, p.orderWaitMs);
    ctx.recorder.count("holds_without_order", audit.holdsWithoutOrder);
    ctx.recorder.count("orders_missing", audit.ordersMissing);
    ctx.recorder.count("oversold", audit.oversold);
    ctx.recorder.count("units_taken", audit.taken);
    await ctx.api.hostAction(host, dropId, "end");
    return {
      result: (m) => ({
        viewers: p.viewers,
        shoppers: arrived,
        paid: m.journey_ok?.values.passes ?? 0,
        sold: audit.status.sold,
        oversold: audit.oversold,
        paidP95Ms: m.paid_e2e_ms?.values["p(95)"] ?? 0,
        holdsWithoutOrder: audit.holdsWithoutOrder,
      }),
      series: sampler.stop(),
      notes: buyerNote,
    };
  } finally {
    sampler.stop();
    pool.kill();
  }
}
