import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ValidationError } from "../../core/index.ts";
import { parseDriverArgs, type RunSummary } from "../../loadtest/index.ts";
import type { K6Config } from "../../loadtest/k6/lib/config-shape.ts";
import { handleSummaryFor } from "../../loadtest/k6/lib/summary.ts";
import {
  AUCTION_RUN,
  ceilingFor,
  expectedPrice,
  loadTestAuction,
  stepAt,
  winnerIsHighest,
} from "../../loadtest/lib/auction-run.ts";
import type { BidResult, InFrame } from "../../loadtest/lib/frames.ts";
import { GENERATOR_LIMITS } from "../../loadtest/lib/generator.ts";
import { runDropId } from "../../loadtest/lib/ids.ts";
import { paramsFor, SCENARIOS } from "../../loadtest/lib/scenarios.ts";
import { AUCTION_LINE_FIELDS, type MetricSummary } from "../../loadtest/lib/summary.ts";
import { auctionDefinitionSchema, type BidAnswer, type ServerFrameOf } from "../../protocol/index.ts";
import { npmLoadtest } from "../harness/npm-loadtest.ts";

// Compile-time: what the bidders read is a subset of what the server sends (root `tsc`).
type In<T extends InFrame["t"]> = Extract<InFrame, { t: T }>;
const reads = {
  auction: (f: ServerFrameOf<"auction">): In<"auction"> => f,
  auctionEnded: (f: ServerFrameOf<"auctionEnded">): In<"auctionEnded"> => f,
  auctionHold: (f: ServerFrameOf<"auctionHold">): In<"auctionHold"> => f,
  bid: (r: BidAnswer): BidResult => ({ kind: "bid", ...r }),
};

const root = path.resolve(import.meta.dirname, "../..");
const out = mkdtempSync(path.join(os.tmpdir(), "livedrop-auction-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const { increments, startPriceMinor } = AUCTION_RUN;

describe("auction load test: the verdict's proxy rule", () => {
  it("the frames a bidder reads are the protocol's (checked by tsc)", () => {
    expect(Object.keys(reads)).toEqual(["auction", "auctionEnded", "auctionHold", "bid"]);
  });

  it("the step is the last increment row at or below the price", () => {
    expect(stepAt(increments, 0)).toBe(10);
    expect(stepAt(increments, 999)).toBe(10);
    expect(stepAt(increments, 1_000)).toBe(50);
  });

  it("price: the starting price alone, else second-highest maximum plus its step, capped at the highest", () => {
    expect(expectedPrice([], startPriceMinor, increments)).toBeUndefined();
    expect(expectedPrice([700], startPriceMinor, increments)).toBe(100);
    expect(expectedPrice([700, 300], startPriceMinor, increments)).toBe(310);
    expect(expectedPrice([300, 1_200, 1_000], startPriceMinor, increments)).toBe(1_050);
    expect(expectedPrice([1_005, 1_000], startPriceMinor, increments)).toBe(1_005);
    // Equal maxima: the price is the maximum itself.
    expect(expectedPrice([900, 900], startPriceMinor, increments)).toBe(900);
  });

  it("winnerIsHighest: the highest maximum at the rule's price, nothing else", () => {
    const base = { startPriceMinor, increments };
    expect(
      winnerIsHighest({ ...base, winnerMaxMinor: 2_000, winnerPriceMinor: 1_550, otherMaxima: [1_500, 200] }),
    ).toBe(true);
    expect(
      winnerIsHighest({ ...base, winnerMaxMinor: 2_000, winnerPriceMinor: 1_500, otherMaxima: [1_500] }),
    ).toBe(false);
    expect(
      winnerIsHighest({ ...base, winnerMaxMinor: 1_400, winnerPriceMinor: 1_400, otherMaxima: [1_500] }),
    ).toBe(false);
    expect(winnerIsHighest({ ...base, winnerMaxMinor: 900, winnerPriceMinor: 900, otherMaxima: [900] })).toBe(
      true,
    );
    expect(winnerIsHighest({ ...base, winnerMaxMinor: 500, winnerPriceMinor: 100, otherMaxima: [] })).toBe(
      true,
    );
    expect(
      winnerIsHighest({ ...base, winnerMaxMinor: undefined, winnerPriceMinor: undefined, otherMaxima: [5] }),
    ).toBe(false);
  });

  it("the run's auction fits the engine's definition schema; ceilings stay in the spread", () => {
    const body = loadTestAuction(runDropId("auction"), {
      startsAt: Date.now() + 2_000,
      durationMs: 10_000,
      antiSnipeMs: 2_000,
    });
    expect(auctionDefinitionSchema.safeParse({ ...body, roomId: "loadtest" }).error?.issues ?? []).toEqual(
      [],
    );
    for (let i = 0; i < 200; i++) {
      const sniper = i % 2 === 0;
      const c = ceilingFor(sniper);
      expect(c).toBeGreaterThanOrEqual(startPriceMinor + (sniper ? AUCTION_RUN.spreadMinor * 0.9 : 0));
      expect(c).toBeLessThanOrEqual(startPriceMinor + AUCTION_RUN.spreadMinor * (sniper ? 1.1 : 1));
    }
  });
});

describe("auction load test: flags", () => {
  it("--bidders, --auction-s, --bid-window-s, --anti-snipe-ms, --lost-ack-pct set the run; out of the engine's bounds is a typed error", () => {
    const args = ["auction", "--bidders", "30", "--auction-s", "12", "--bid-window-s", "5"];
    const r = parseDriverArgs([...args, "--anti-snipe-ms", "3000", "--lost-ack-pct", "5"], {});
    expect(r.kind === "run" && r.options.overrides).toEqual({
      viewers: 30,
      auctionS: 12,
      bidWindowS: 5,
      antiSnipeMs: 3_000,
      lostAckPct: 5,
    });
    expect(() => parseDriverArgs(["auction", "--anti-snipe-ms", "500"], {})).toThrow(ValidationError);
    expect(() => parseDriverArgs(["auction", "--auction-s", "5"], {})).toThrow(ValidationError);
    expect(() => parseDriverArgs(["auction", "--lost-ack-pct", "101"], {})).toThrow(ValidationError);
  });
});

describe("auction load test: k6 script", () => {
  it("06-auction.ts runs the shared bidder and reports the same line from k6's metrics", () => {
    const source = readFileSync(path.join(root, "loadtest/k6", SCENARIOS.auction.script), "utf8");
    expect(source).toContain('from "../lib/bidder.ts"');
    expect(source).toContain('k6Options("auction", p)');
    expect(source).toContain('handleSummaryFor("auction", cfg)');
    const cfg: K6Config = {
      baseUrl: "https://staging.example.com",
      wsUrl: "wss://staging.example.com/ws",
      room: "loadtest",
      shadow: true,
      adminToken: "",
      hostToken: "",
      tokensFile: "",
      dropId: "",
      summaryDir: "reports",
      sessionS: 300,
      latePerS: 10,
      tokenBatch: 5_000,
      generatorLimits: GENERATOR_LIMITS,
      params: paramsFor("auction", "k6", { viewers: 300 }),
    };
    const trend = (values: Record<string, number>): MetricSummary => ({ type: "trend", values });
    const counter = (count: number): MetricSummary => ({ type: "counter", values: { count } });
    const metrics: Record<string, MetricSummary> = {
      viewers_connected: counter(300),
      bids: counter(900),
      bids_accepted: counter(410),
      auction_extensions: counter(7),
      auction_wins: counter(1),
      oversold: counter(0),
      auction_winner_max_minor: trend({ count: 1, max: 5_000 }),
      auction_price_minor: trend({ count: 1, max: 4_850 }),
      auction_loser_max_minor: trend({ count: 120, max: 4_800 }),
      bid_ack_ms: trend({ count: 910, "p(95)": 40, "p(99)": 90, max: 120 }),
    };
    const summarize = (m: Record<string, MetricSummary>) => {
      const text = handleSummaryFor("auction", cfg)({ metrics: m as never, setup_data: {} }).stdout ?? "";
      return JSON.parse(text.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
    };
    const line = summarize(metrics);
    expect(Object.keys(line).slice(0, 7)).toEqual(["loadtest", ...AUCTION_LINE_FIELDS]);
    expect(line).toMatchObject({
      loadtest: "auction",
      bidders: 300,
      bids: 900,
      accepted: 410,
      extensions: 7,
      winnerIsHighest: true,
      oversold: 0,
      ackP95Ms: 40,
      ackP99Ms: 90,
    });
    // A winner paying more than the rule's price, or two bidders holding the unit.
    expect(
      summarize({ ...metrics, auction_price_minor: trend({ count: 1, max: 5_000 }) }).winnerIsHighest,
    ).toBe(false);
    expect(summarize({ ...metrics, auction_wins: counter(2) })).toMatchObject({
      winnerIsHighest: false,
      oversold: 1,
    });
  });
});

describe("npm run loadtest -- auction", () => {
  it("against a private stack: the highest maximum wins at the proxy price, one unit held, replays repeat", async () => {
    const run = await npmLoadtest(["auction", "--bidders", "60", "--out", out], 300_000);
    const last = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
    expect(Object.keys(last).slice(0, 7), run.stderr).toEqual(["loadtest", ...AUCTION_LINE_FIELDS]);
    expect(last, run.stderr).toMatchObject({
      loadtest: "auction",
      bidders: 60,
      winnerIsHighest: true,
      oversold: 0,
    });
    expect(last.accepted as number, run.stderr).toBeGreaterThan(0);
    expect(last.bids as number).toBeGreaterThanOrEqual(last.accepted as number);
    // Every accepted bid the bidders saw is one the auction counted.
    expect(last.serverBids).toBe(last.accepted);
    expect(last.ackP95Ms as number).toBeGreaterThan(0);

    const summary = JSON.parse(readFileSync(path.join(out, "auction-summary.json"), "utf8")) as RunSummary;
    expect(
      summary.thresholds.filter((t) => !t.ok),
      run.stderr,
    ).toEqual([]);
    expect(summary.metrics.bid_replay_mismatch?.values.count ?? 0).toBe(0);
    expect(summary.metrics.auction_wins?.values.count).toBe(1);
    expect(existsSync(path.join(out, "auction-report.html"))).toBe(true);
    expect(run.code, run.stderr).toBe(0);
  }, 330_000);
});
