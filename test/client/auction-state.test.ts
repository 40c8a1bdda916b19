import { describe, expect, it } from "vitest";
import { en } from "../../client/src/shared/messages/en.ts";
import { zhCN } from "../../client/src/shared/messages/zh-CN.ts";
import {
  type AuctionView,
  applyAuctionFrame,
  applyBidAnswer,
  auctionFromStatus,
  auctionPhase,
  currentAuction,
  hasFormatCard,
  onDropCard,
  pinnedBuyNow,
  youLead,
} from "../../client/src/shared/room-state.ts";
import type { AuctionStatus, BidAnswer, DropSnapshot, ServerFrameOf } from "../../protocol/index.ts";

const status = (over: Partial<AuctionStatus> = {}): AuctionStatus => ({
  dropId: "a1",
  roomId: "r1",
  state: "live",
  startsAt: 1_000,
  endsAt: 61_000,
  startPriceMinor: 1_000,
  priceMinor: 1_000,
  leader: null,
  bids: 0,
  minNextMinor: 1_000,
  hasReserve: false,
  reserveMet: null,
  reservationId: null,
  serverTime: 2_000,
  ...over,
});

const frame = (over: Partial<ServerFrameOf<"auction">> = {}): ServerFrameOf<"auction"> => ({
  t: "auction",
  room: "r1",
  o: "1-0",
  e: "e1",
  dropId: "a1",
  leader: "u-aaaa",
  priceMinor: 1_000,
  endsAt: 61_000,
  bids: 1,
  extended: false,
  v: 3,
  ...over,
});

const answer = (over: Partial<BidAnswer> = {}): BidAnswer => ({
  dropId: "a1",
  leading: true,
  priceMinor: 1_000,
  maxMinor: 2_000,
  endsAt: 61_000,
  extended: false,
  bids: 1,
  minNextMinor: 1_100,
  replayed: false,
  ...over,
});

const drop = (over: Partial<DropSnapshot>): DropSnapshot => ({
  dropId: "d1",
  roomId: "r1",
  product: { sku: "s", title: "Shoe", priceMinor: 1999, currency: "USD", imageUrl: "https://x.test/a.png" },
  state: "live",
  startsAt: 10_000,
  endsAt: null,
  perUserLimit: 1,
  holdMs: 60_000,
  available: 3,
  held: 0,
  sold: 0,
  v: 1,
  ...over,
});

describe("auction card state", () => {
  it("a leading bid says 'you lead' at once, and the leader of the room frame at that bid count is learnt as this viewer", () => {
    let v: AuctionView = auctionFromStatus(status());
    expect(youLead(v)).toBe(false);
    // The ack arrives before the room frame: the leader shown is still the old one.
    v = applyBidAnswer(v, answer());
    expect(youLead(v)).toBe(true);
    expect(v.myMask).toBeNull();
    v = applyAuctionFrame(v, frame({ leader: "u-mine", bids: 1 }));
    expect(v.myMask).toBe("u-mine");
    expect(youLead(v)).toBe(true);
    // Someone else outbids: no longer leading.
    v = applyAuctionFrame(v, frame({ leader: "u-other", bids: 2, priceMinor: 2_100 }));
    expect(youLead(v)).toBe(false);
    // The proxy bids for this viewer again (their mask leads after another bid).
    v = applyAuctionFrame(v, frame({ leader: "u-mine", bids: 3, priceMinor: 2_200 }));
    expect(youLead(v)).toBe(true);
  });

  it("a frame before the ack teaches the mask too; an outbid answer never leads", () => {
    let v = auctionFromStatus(status({ bids: 1, leader: "u-x", priceMinor: 1_000, minNextMinor: 1_100 }));
    v = applyAuctionFrame(v, frame({ leader: "u-mine", bids: 2, priceMinor: 1_500 }));
    v = applyBidAnswer(v, answer({ bids: 2, priceMinor: 1_500, minNextMinor: 1_600 }));
    expect(v.myMask).toBe("u-mine");
    expect(youLead(v)).toBe(true);
    const outbid = applyBidAnswer(auctionFromStatus(status()), answer({ leading: false }));
    expect(youLead(outbid)).toBe(false);
    expect(outbid.myMask).toBeNull();
  });

  it("the next minimum follows the price with the last known step; an older frame or status changes nothing", () => {
    let v = auctionFromStatus(status({ bids: 2, priceMinor: 1_500, minNextMinor: 1_600, leader: "u-x" }));
    expect(v.stepMinor).toBe(100);
    v = applyAuctionFrame(v, frame({ bids: 3, priceMinor: 1_800 }));
    expect(v.minNextMinor).toBe(1_900);
    expect(applyAuctionFrame(v, frame({ bids: 2, priceMinor: 1_500 }))).toBe(v);
    expect(auctionFromStatus(status({ bids: 1 }), v)).toBe(v);
    // Before any bid the step is unknown: the minimum is at least the price a frame shows.
    const fresh = applyAuctionFrame(auctionFromStatus(status()), frame({ bids: 1, priceMinor: 1_000 }));
    expect(fresh.minNextMinor).toBe(1_000);
  });

  it("an anti-snipe extension moves the end and shows the hint; the end never moves earlier", () => {
    let v = auctionFromStatus(status());
    v = applyAuctionFrame(v, frame({ endsAt: 70_000, extended: true }));
    expect(v.endsAt).toBe(70_000);
    expect(v.extended).toBe(true);
    v = applyAuctionFrame(v, frame({ bids: 2, endsAt: 65_000 }));
    expect(v.endsAt).toBe(70_000);
  });

  it("phases follow the server clock: live until the end, then ending until the room hears it ended", () => {
    const v = auctionFromStatus(status());
    expect(auctionPhase(v, 60_999)).toBe("live");
    expect(auctionPhase(v, 61_000)).toBe("ending");
    const scheduled = auctionFromStatus(status({ state: "scheduled", startsAt: 5_000 }));
    expect(auctionPhase(scheduled, 4_999)).toBe("scheduled");
    expect(auctionPhase(scheduled, 5_000)).toBe("live");
    expect(auctionFromStatus(status({ state: "closed" })).phase).toBe("ending");
  });

  it("the end names the masked winner and the price, or that the reserve was not met; later frames change nothing", () => {
    const ended: ServerFrameOf<"auctionEnded"> = {
      t: "auctionEnded",
      room: "r1",
      o: "2-0",
      e: "e1",
      dropId: "a1",
      winner: "u-win",
      priceMinor: 2_100,
      reserveMet: true,
      v: 9,
    };
    let v = applyAuctionFrame(auctionFromStatus(status({ bids: 2, leader: "u-win" })), ended);
    expect(v).toMatchObject({ phase: "ended", leader: "u-win", priceMinor: 2_100, reserveMet: true });
    expect(applyAuctionFrame(v, frame({ bids: 5 }))).toBe(v);
    v = applyAuctionFrame(auctionFromStatus(status({ bids: 1, leader: "u-x", hasReserve: true })), {
      ...ended,
      winner: undefined,
      priceMinor: undefined,
      reserveMet: false,
    });
    expect(v).toMatchObject({ phase: "ended", leader: null, reserveMet: false });
    // A status read before the end does not take an ended card back to live.
    expect(auctionFromStatus(status({ bids: 1 }), v)).toBe(v);
  });

  it("frames of another auction are ignored", () => {
    const v = auctionFromStatus(status());
    expect(applyAuctionFrame(v, frame({ dropId: "other" }))).toBe(v);
    expect(applyBidAnswer(v, answer({ dropId: "other" }))).toBe(v);
  });
});

describe("which card a drop sells on", () => {
  it("auctions and buy-it-now have cards of their own; buy-it-now only while pinned and not ended", () => {
    const timed = drop({ dropId: "t" });
    const give = drop({ dropId: "g", format: "giveaway" });
    const auction = drop({ dropId: "a", format: "auction", state: "paused" });
    const newer = drop({ dropId: "a2", format: "auction", state: "paused", startsAt: 20_000 });
    const pinned = drop({ dropId: "b", format: "buy_now", pinned: true });
    const unpinned = drop({ dropId: "c", format: "buy_now", pinned: false });
    const endedPin = drop({ dropId: "e", format: "buy_now", pinned: true, state: "ended" });
    const all = [timed, give, auction, newer, pinned, unpinned, endedPin];
    expect(all.filter(onDropCard).map((d) => d.dropId)).toEqual(["t", "g"]);
    expect(pinnedBuyNow(all).map((d) => d.dropId)).toEqual(["b"]);
    expect(currentAuction(all)?.dropId).toBe("a2");
    expect(hasFormatCard([timed, unpinned])).toBe(false);
    expect(hasFormatCard([timed, pinned])).toBe(true);
  });
});

describe("auction, buy-it-now and giveaway strings", () => {
  it("every one has a Simplified Chinese translation with the same placeholders", () => {
    const keys = (Object.keys(en) as (keyof typeof en)[]).filter((k) => /^(auction|pin|giveaway)\./.test(k));
    expect(keys.length).toBeGreaterThan(50);
    const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const k of keys) {
      const zh = zhCN[k];
      expect(zh, k).toBeTruthy();
      expect(placeholders(zh ?? ""), k).toEqual(placeholders(en[k]));
    }
  });
});
