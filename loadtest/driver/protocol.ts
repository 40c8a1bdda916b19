import type { BuyOutcome, ShopOutcome } from "../lib/behaviours.ts";
import type { BidderOptions, BidderOutcome } from "../lib/bidder.ts";
import type { RecorderDump } from "./recorder.ts";

/** Messages between the driver and its load worker processes (over the fork IPC channel). */

/** What a session does, as data (it crosses the process boundary). */
export type BehaviourSpec =
  | { readonly kind: "watch"; readonly room: string }
  | {
      readonly kind: "flashBuy";
      readonly room: string;
      readonly dropId: string;
      readonly qty: number;
      readonly jitterMs: number;
      readonly orderWaitMs: number;
    }
  | { readonly kind: "chat"; readonly room: string; readonly everyMs: number; readonly stayMs?: number }
  | {
      readonly kind: "shop";
      readonly room: string;
      readonly dropId: string;
      readonly qty: number;
      readonly orderWaitMs: number;
      readonly payOverHttp: boolean;
    }
  /** A bidder; its ceiling is drawn in the worker (starting price + random share of the spread). */
  | ({ readonly kind: "bid"; readonly sniperShare: number; readonly antiSnipeMs: number } & Omit<
      BidderOptions,
      "ceilingMinor" | "sniper" | "snipeLeadMs" | "random"
    >);

export type ToWorker =
  | { readonly type: "init"; readonly wsUrl: string; readonly baseUrl: string; readonly wanted: string[] }
  /**
   * Open one session per token; `firstRef` numbers them (outcomes carry the number). `planned`:
   * they are planned viewers, so each one that joins counts in viewers_connected.
   */
  | {
      readonly type: "open";
      readonly spec: BehaviourSpec;
      readonly tokens: string[];
      readonly firstRef: number;
      readonly planned: boolean;
    }
  /** End `count` of the open sessions doing `kind` (a ramp going down; others keep going). */
  | { readonly type: "close"; readonly count: number; readonly kind: BehaviourSpec["kind"] }
  /** End everything and report. */
  | { readonly type: "stop" };

export type Outcome =
  | ({ readonly kind: "flashBuy"; readonly ref: number } & BuyOutcome)
  | ({ readonly kind: "shop"; readonly ref: number } & ShopOutcome)
  | ({ readonly kind: "bid"; readonly ref: number } & BidderOutcome);

export interface Tallies {
  /** Sessions open now. */
  readonly open: number;
  /** Sessions whose behaviour finished (outcomes). */
  readonly done: number;
  /** Per metric: samples, sums or tallies so far. */
  readonly metrics: Record<string, number>;
}

export type FromWorker =
  | ({ readonly type: "progress" } & Tallies)
  | {
      readonly type: "final";
      readonly dump: RecorderDump;
      readonly outcomes: Outcome[];
      /** Sockets the server closed or refused, by close code or error. */
      readonly closes: Record<string, number>;
    };
