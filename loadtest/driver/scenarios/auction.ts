import { AUCTION_RUN, loadTestAuction, winnerIsHighest } from "../../lib/auction-run.ts";
import type { BidderOutcome } from "../../lib/bidder.ts";
import { runDropId } from "../../lib/ids.ts";
import type { AuctionStatusView } from "../api.ts";
import type { RunContext, ScenarioOutcome } from "../context.ts";
import { Sampler, until } from "../executors.ts";

/** How long after the planned end the auction may run on through anti-snipe extensions. */
const EXTENSION_ALLOWANCE_MS = 120_000;
/** After settle, how long the bidders get to report (their auctionHold / auctionEnded frames). */
const REPORT_WAIT_MS = 30_000;

/**
 * Auction (k6: 06-auction.ts): every bidder connects and joins; the host opens an auction whose
 * bidding opens `leadS` later and lasts `auctionS` (anti-snipe `antiSnipeMs`). In its last
 * `bidWindowS` every bidder bids and keeps raising to its random ceiling. The end check reads
 * the settled auction and its history and the backing drop's counters through the API.
 */
export async function auction(ctx: RunContext): Promise<ScenarioOutcome> {
  const p = ctx.params;
  const n = p.viewers;
  const notes: string[] = [];
  const [tokens, host] = await Promise.all([ctx.viewerTokens(n), ctx.tokens.host(ctx.room)]);
  const opened = tokens.length;
  const dropId = runDropId("auction");
  const pool = ctx.startPool(n);
  const sampler = new Sampler(pool, [
    ["sockets open", "sockets", "open"],
    ["bids accepted", "bids", "bids_accepted"],
    ["bids answered", "acks", "bid_ack_ms"],
  ]);
  try {
    pool.open(
      {
        kind: "bid",
        room: ctx.room,
        dropId,
        startPriceMinor: AUCTION_RUN.startPriceMinor,
        increments: AUCTION_RUN.increments,
        sniperShare: AUCTION_RUN.sniperShare,
        antiSnipeMs: p.antiSnipeMs,
        windowMs: p.bidWindowS * 1000,
        thinkMs: p.jitterMs,
        lostAckRate: p.lostAckPct / 100,
        settleWaitMs: REPORT_WAIT_MS,
      },
      tokens,
      true,
    );
    const ready = () =>
      Math.min(pool.tallies().metrics.join_ms ?? 0, pool.tallies().metrics.clock_rtt_ms ?? 0);
    const allIn = await until(
      () => ready() + pool.tallies().done >= opened,
      120_000,
      () =>
        ctx.progress.update("connected, joined, clock synced", ready(), n, `${pool.tallies().open} sockets`),
    );
    if (!allIn || ready() < n)
      notes.push(`only ${ready()} of ${n} bidders were in the room before the auction`);

    const startsAt = Date.now() + p.leadS * 1000;
    const definition = loadTestAuction(dropId, {
      startsAt,
      durationMs: p.auctionS * 1000,
      antiSnipeMs: p.antiSnipeMs,
    });
    await ctx.api.openAuction(ctx.room, host, definition);
    ctx.progress.log(`auction ${dropId} opens in ${p.leadS} s for ${p.auctionS} s; ${ready()} bidders`);

    // Settled: the engine's pass closed it after its (possibly extended) end.
    let status: AuctionStatusView | undefined;
    // One status read at a time: a slow answer must not pile requests up.
    let reading = false;
    await until(
      () => status?.state === "settled",
      p.leadS * 1000 + p.auctionS * 1000 + EXTENSION_ALLOWANCE_MS,
      () => {
        const t = pool.tallies();
        ctx.progress.update(
          "bids accepted",
          t.metrics.bids_accepted ?? 0,
          t.metrics.bids ?? 0,
          status?.state ?? "",
        );
        if (reading) return;
        reading = true;
        void ctx.api
          .auction(dropId, host, 1)
          .then((a) => {
            if (a.status === 200 && a.body) status = a.body.auction;
          })
          .finally(() => {
            reading = false;
          });
      },
    );
    if (status?.state !== "settled")
      notes.push(`auction ${dropId} was not settled in time: ${status?.state}`);
    // Every bidder reports once it has the end; the winner once it has its hold too. The losers
    // still waiting for a hold that is not theirs are ended once the winner has reported.
    const reported = () => {
      const t = pool.tallies();
      const winnerIn = status?.reservationId == null || (t.metrics.auction_wins ?? 0) >= 1;
      return t.done >= opened || (status?.state === "settled" && winnerIn);
    };
    await until(reported, REPORT_WAIT_MS + 10_000, () =>
      ctx.progress.update("bidders done", pool.tallies().done, n),
    );
    const { dumps, outcomes } = await pool.stop();
    for (const d of dumps) ctx.recorder.merge(d);
    const bidders = outcomes.flatMap((o) => (o.kind === "bid" ? [o] : []));

    const view = await ctx.api.must<{ auction: AuctionStatusView; history: { priceMinor: number }[] }>(
      "GET",
      `/api/v1/drops/${dropId}/auction?limit=100`,
      "audit",
      host,
    );
    const drop = await ctx.api.must<{ held: number; sold: number; initial: number; restocked: number }>(
      "GET",
      `/api/v1/drops/${dropId}`,
      "audit",
      host,
    );
    const verdict = judge(bidders, view.auction, notes);
    if (view.history[0] && view.history[0].priceMinor !== view.auction.priceMinor)
      notes.push(
        `the newest bid in the history is at ${view.history[0].priceMinor}, the auction at ${view.auction.priceMinor}`,
      );
    const wins = bidders.filter((b) => b.won).length;
    const taken = drop.held + drop.sold;
    const oversold = Math.max(0, taken - (drop.initial + drop.restocked), wins - 1);
    const sum = (k: "bids" | "accepted" | "extensions") => bidders.reduce((a, b) => a + b[k], 0);
    if (sum("accepted") !== view.auction.bids)
      notes.push(`bidders saw ${sum("accepted")} bids accepted, the auction counts ${view.auction.bids}`);
    ctx.recorder.count("oversold", oversold);
    ctx.recorder.count("units_taken", taken);
    ctx.recorder.count("auction_not_highest", verdict ? 0 : 1);
    await ctx.api.hostAction(host, dropId, "end");
    return {
      result: (m) => ({
        bidders: n,
        bids: sum("bids"),
        accepted: sum("accepted"),
        extensions: sum("extensions"),
        winnerIsHighest: verdict,
        oversold,
        ackP95Ms: m.bid_ack_ms?.values["p(95)"] ?? 0,
        ackP99Ms: m.bid_ack_ms?.values["p(99)"] ?? 0,
        serverBids: view.auction.bids,
        priceMinor: view.auction.priceMinor,
        retries: m.bid_retries?.values.count ?? 0,
        replayMismatches: m.bid_replay_mismatch?.values.count ?? 0,
      }),
      series: sampler.stop(),
      notes,
    };
  } finally {
    sampler.stop();
    pool.kill();
  }
}

/** The winner (the bidder that got the auctionHold) had the highest maximum and paid the rule's price. */
function judge(bidders: readonly BidderOutcome[], status: AuctionStatusView, notes: string[]): boolean {
  const winners = bidders.filter((b) => b.won);
  const winner = winners[0];
  if (winners.length !== 1 || !winner) {
    notes.push(`${winners.length} bidders were told they won (hold ${status.reservationId ?? "none"})`);
    return false;
  }
  if (winner.reservationId !== status.reservationId) {
    notes.push(`the winner's hold ${winner.reservationId} is not the auction's ${status.reservationId}`);
    return false;
  }
  const ok = winnerIsHighest({
    winnerMaxMinor: winner.standingMaxMinor ?? undefined,
    winnerPriceMinor: winner.priceMinor,
    otherMaxima: bidders.flatMap((b) =>
      b !== winner && b.standingMaxMinor !== null ? [b.standingMaxMinor] : [],
    ),
    startPriceMinor: AUCTION_RUN.startPriceMinor,
    increments: AUCTION_RUN.increments,
  });
  if (ok && winner.priceMinor !== status.priceMinor) {
    notes.push(`the winner's hold is at ${winner.priceMinor}, the auction's price ${status.priceMinor}`);
    return false;
  }
  return ok;
}
