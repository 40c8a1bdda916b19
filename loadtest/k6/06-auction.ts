// Auction: bidders join the room; setup() opens an auction whose bidding starts LEAD_S later
// and lasts AUCTION_S (anti-snipe ANTI_SNIPE_MS). In its last BID_WINDOW_S every bidder bids and
// keeps raising to a random proxy ceiling; snipers bid theirs just before the end. The verdict
// (winnerIsHighest) comes from the bidders' own maxima, in handleSummary.
//   k6 run -e BASE_URL=… -e TOKENS_FILE=/abs/tokens.json -e VIEWERS=2000 loadtest/k6/06-auction.ts
import exec from "k6/execution";
import type { Options } from "k6/options";
import { AUCTION_RUN, ceilingFor, snipeLeadMs } from "../lib/auction-run.ts";
import { bidder } from "../lib/bidder.ts";
import { auditAuction, setupAuction } from "./lib/auction.ts";
import { loadConfig } from "./lib/config.ts";
import { endDrop, type RunData } from "./lib/drop.ts";
import { calibrateProbe, probe, probeScenario, vusOf } from "./lib/generator.ts";
import { handleSummaryFor, k6Options } from "./lib/summary.ts";
import { setupTokens, tokenPool } from "./lib/tokens.ts";
import { openViewer } from "./lib/viewer.ts";

const cfg = loadConfig("auction");
const pool = tokenPool(cfg);
const p = cfg.params;
/** Room for anti-snipe extensions past the planned end. */
const EXTENSION_S = 120;
const scenarios = {
  // Closed: a fixed crowd, each connecting once and bidding through the auction.
  bidders: {
    executor: "per-vu-iterations" as const,
    exec: "bidderVu",
    vus: p.viewers,
    iterations: 1,
    maxDuration: `${Math.ceil(p.leadS + p.auctionS + EXTENSION_S + p.orderWaitMs / 1000)}s`,
  },
  generator: probeScenario(p.leadS + p.auctionS + 30),
};

export const options: Options = {
  ...k6Options("auction", p),
  setupTimeout: "5m",
  teardownTimeout: "5m",
  scenarios,
};

export function setup(): RunData {
  const probeData = calibrateProbe();
  return {
    ...setupAuction(cfg),
    ...setupTokens(cfg, pool, vusOf(scenarios)),
    probe: probeData,
  };
}

export function bidderVu(data: RunData): void {
  // A VU without a token or a connection is counted (viewer_failures) and ends here.
  const viewer = openViewer(cfg, pool, data, `a${exec.vu.idInTest}`);
  if (!viewer) return;
  const { session } = viewer;
  const sniper = Math.random() < AUCTION_RUN.sniperShare;
  const options = {
    room: cfg.room,
    dropId: data.dropId,
    startPriceMinor: AUCTION_RUN.startPriceMinor,
    increments: AUCTION_RUN.increments,
    ceilingMinor: ceilingFor(sniper),
    windowMs: p.bidWindowS * 1000,
    thinkMs: p.jitterMs,
    sniper,
    snipeLeadMs: snipeLeadMs(p.antiSnipeMs),
  };
  bidder(session, { ...options, lostAckRate: p.lostAckPct / 100, settleWaitMs: p.orderWaitMs }, () =>
    session.end(),
  );
}

export function generatorProbe(data: RunData): void {
  probe(data.probe);
}

export function teardown(data: RunData): void {
  auditAuction(cfg, data);
  endDrop(cfg, data);
}

export const handleSummary = handleSummaryFor("auction", cfg);
