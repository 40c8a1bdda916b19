import { loadTestDrop } from "../../lib/drop.ts";
import { runDropId } from "../../lib/ids.ts";
import { auditDrop } from "../audit.ts";
import type { RunContext, ScenarioOutcome } from "../context.ts";
import { Sampler, until } from "../executors.ts";

/**
 * Flash spike (k6: 03-flash-spike.ts): every viewer connects, joins and syncs its clock; then the
 * drop is created with T0 `leadS` ahead; at T0 (+ jitter) every viewer buys once. The end check
 * goes through the API: held + sold ≤ stock, and every acknowledged hold has an order.
 */
export async function spike(ctx: RunContext): Promise<ScenarioOutcome> {
  const p = ctx.params;
  const n = p.viewers;
  const notes: string[] = [];
  const [tokens, host] = await Promise.all([ctx.viewerTokens(n), ctx.tokens.host(ctx.room)]);
  // Viewers without a token are counted already; the run waits only for the ones that can come.
  const opened = tokens.length;
  const dropId = runDropId("spike");
  const pool = ctx.startPool(n);
  const sampler = new Sampler(pool, [
    ["sockets open", "sockets", "open"],
    ["buys answered", "acks", "buy_ack_ms"],
    ["units held", "units", "holds"],
  ]);
  try {
    pool.open(
      { kind: "flashBuy", room: ctx.room, dropId, qty: 1, jitterMs: p.jitterMs, orderWaitMs: p.orderWaitMs },
      tokens,
      true,
    );
    const ready = () =>
      Math.min(pool.tallies().metrics.join_ms ?? 0, pool.tallies().metrics.clock_rtt_ms ?? 0);
    const allIn = await until(
      // A session that failed has an outcome already: it will not get ready.
      () => ready() + pool.tallies().done >= opened,
      120_000,
      () =>
        ctx.progress.update("connected, joined, clock synced", ready(), n, `${pool.tallies().open} sockets`),
    );
    if (!allIn || ready() < n) notes.push(`only ${ready()} of ${n} viewers were in the room before the drop`);
    ctx.progress.log(`${ready()} viewers counting down; T0 in ${p.leadS} s`);

    await ctx.api.createDrop(
      ctx.room,
      host,
      loadTestDrop(dropId, p.stock, { startsAt: Date.now() + p.leadS * 1000 }),
    );
    await until(
      () => pool.tallies().done >= opened,
      p.leadS * 1000 + p.jitterMs + 30_000 + p.orderWaitMs,
      () => {
        const t = pool.tallies();
        ctx.progress.update(
          "buyers done",
          t.done,
          n,
          `${t.metrics.holds ?? 0} held, ${t.metrics.sold_out ?? 0} sold out`,
        );
      },
    );
    const { dumps, outcomes } = await pool.stop();
    for (const d of dumps) ctx.recorder.merge(d);

    const acked = outcomes.flatMap((o) =>
      o.kind === "flashBuy" && o.code === "held" && o.reservationId ? [o.reservationId] : [],
    );
    ctx.progress.log(`${acked.length} holds acknowledged; auditing drop ${dropId} through the API`);
    const audit = await auditDrop(ctx.api, host, dropId, acked, p.orderWaitMs);
    ctx.recorder.count("holds_without_order", audit.holdsWithoutOrder);
    ctx.recorder.count("orders_missing", audit.ordersMissing);
    ctx.recorder.count("oversold", audit.oversold);
    ctx.recorder.count("units_taken", audit.taken);
    if (audit.via === "order lookups")
      notes.push("the gateway has no GET /drops/:id/orders: holds were looked up one by one");
    await ctx.api.hostAction(host, dropId, "end");
    return {
      result: (m) => ({
        viewers: n,
        stock: p.stock,
        sold: audit.taken,
        oversold: audit.oversold,
        ackP99Ms: m.buy_ack_ms?.values["p(99)"] ?? 0,
        holdsWithoutOrder: audit.holdsWithoutOrder,
      }),
      series: sampler.stop(),
      notes,
    };
  } finally {
    sampler.stop();
    pool.kill();
  }
}
