import { loadTestDrop } from "../../lib/drop.ts";
import { runDropId } from "../../lib/ids.ts";
import { auditDrop } from "../audit.ts";
import type { RunContext, ScenarioOutcome } from "../context.ts";
import { until } from "../executors.ts";

/**
 * Smoke (k6: 01-smoke.ts): health, a guest token, a host drop, then each viewer goes buy → order
 * → pay → paid (every other one pays over HTTP) while a second socket of it chats. Every check
 * must pass.
 */
export async function smoke(ctx: RunContext): Promise<ScenarioOutcome> {
  const p = ctx.params;
  const check = (ok: boolean) => ctx.recorder.rate("checks", ok);
  check((await ctx.api.readyz()).status === 200);
  if (!ctx.tokens.shadow) check((await ctx.api.guestToken()).status === 201);
  const [tokens, host] = await Promise.all([ctx.viewerTokens(p.viewers), ctx.tokens.host(ctx.room)]);
  const dropId = runDropId("smoke");
  await ctx.api.createDrop(ctx.room, host, loadTestDrop(dropId, Math.max(p.stock, p.viewers)));
  check((await ctx.api.drop(dropId, "browse", tokens[0])).status === 200);
  // A shopper without a token did not get through (its token failure is counted already).
  for (let i = tokens.length; i < p.viewers; i++) {
    ctx.recorder.rate("journey_ok", false);
    check(false);
  }

  const pool = ctx.startPool(p.viewers * 2);
  try {
    tokens.forEach((t, i) => {
      const spec = {
        kind: "shop",
        room: ctx.room,
        dropId,
        qty: 1,
        orderWaitMs: p.orderWaitMs,
        payOverHttp: i % 2 === 1,
      } as const;
      pool.open(spec, [t], true);
    });
    pool.open({ kind: "chat", room: ctx.room, everyMs: 1_200, stayMs: 4_000 }, tokens, false);
    await until(
      () => pool.tallies().done >= tokens.length && pool.tallies().open === 0,
      p.orderWaitMs + 20_000,
      () => ctx.progress.update("shoppers done", pool.tallies().done, p.viewers),
    );
    const { dumps, outcomes } = await pool.stop();
    for (const d of dumps) ctx.recorder.merge(d);
    const acked: string[] = [];
    for (const o of outcomes) {
      if (o.kind !== "shop") continue;
      check(o.ok);
      if (!o.reservationId) continue;
      acked.push(o.reservationId);
      check((await ctx.api.order(host, o.reservationId)).body?.order.status === "paid");
    }
    const audit = await auditDrop(ctx.api, host, dropId, acked, p.orderWaitMs);
    ctx.recorder.count("oversold", audit.oversold);
    ctx.recorder.count("holds_without_order", audit.holdsWithoutOrder);
    check(audit.holdsWithoutOrder === 0 && audit.oversold === 0);
    await ctx.api.hostAction(host, dropId, "end");
    return {
      result: (m) => ({
        viewers: p.viewers,
        paid: m.journey_ok?.values.passes ?? 0,
        checksFailed: m.checks?.values.fails ?? 0,
        oversold: audit.oversold,
      }),
    };
  } finally {
    pool.kill();
  }
}
