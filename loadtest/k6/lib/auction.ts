import { check, fail, sleep } from "k6";
import { type AuctionDefinitionBody, loadTestAuction } from "../../lib/auction-run.ts";
import { runDropId } from "../../lib/ids.ts";
import { api, type DropStatusView, errorCode, json } from "./api.ts";
import type { K6Config } from "./config.ts";
import type { RunData } from "./drop.ts";
import { metric } from "./metrics.ts";
import { hostToken } from "./tokens.ts";

/** How long after the planned end teardown waits for the settle (anti-snipe extensions). */
const EXTENSION_ALLOWANCE_S = 120;

interface AuctionView {
  auction?: { state: string; priceMinor: number; bids: number; reservationId: string | null };
  history?: { priceMinor: number }[];
}

/** setup(): checks the target is ready, then opens the run's auction `leadS` ahead. */
export function setupAuction(cfg: K6Config): RunData {
  const ready = api.health(cfg);
  if (!check(ready, { "target is ready": (r) => r.status === 200 }))
    fail(`${cfg.baseUrl}/readyz answered ${ready.status}: not ready, not loading it`);
  const host = hostToken(cfg);
  const p = cfg.params;
  const dropId = runDropId("auction");
  const body: AuctionDefinitionBody = loadTestAuction(dropId, {
    startsAt: Date.now() + p.leadS * 1000,
    durationMs: p.auctionS * 1000,
    antiSnipeMs: p.antiSnipeMs,
  });
  const res = api.openAuction(cfg, host, { ...body });
  if (res.status !== 201) fail(`could not open the auction: HTTP ${res.status} ${errorCode(res)}`);
  return {
    startedAt: new Date().toISOString(),
    dropId,
    hostToken: host,
    startsAt: body.startsAt,
    stock: 1,
    created: true,
  };
}

/**
 * teardown(): waits for the settle, then reads the auction's status and history and the backing
 * drop's counters: more than its one unit held or sold is oversold.
 */
export function auditAuction(cfg: K6Config, data: RunData): void {
  const p = cfg.params;
  const deadline = data.startsAt + (p.auctionS + EXTENSION_ALLOWANCE_S) * 1000;
  let view: AuctionView | undefined;
  for (;;) {
    view = json<AuctionView>(api.auction(cfg, data.dropId, data.hostToken));
    if (view?.auction?.state === "settled" || Date.now() > deadline) break;
    sleep(0.5);
  }
  check(view, {
    "auction settled": (v) => v?.auction?.state === "settled",
    "newest bid in the history is at the auction's price": (v) =>
      !v?.history?.[0] || v.history[0].priceMinor === v.auction?.priceMinor,
  });
  const drop = json<DropStatusView>(api.drop(cfg, data.dropId, "audit", data.hostToken));
  if (!drop) fail(`auction ${data.dropId}: its backing drop vanished`);
  const taken = drop.held + drop.sold;
  metric("units_taken").add(taken);
  metric("oversold").add(Math.max(0, taken - (drop.initial + drop.restocked)));
  // A sample for its threshold even when no bidder saw a mismatch (a counter never added has no data).
  metric("bid_replay_mismatch").add(0);
}
