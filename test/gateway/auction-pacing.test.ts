import { describe, expect, it } from "vitest";
import { RoomPacer } from "../../gateway/ws/room-pacer.ts";
import type { ServerFrameOf } from "../../protocol/index.ts";

type Paced = ServerFrameOf<"stock" | "auction">;

const auctionFrame = (bids: number): ServerFrameOf<"auction"> => ({
  t: "auction",
  room: "r",
  o: `1718000000000-${bids}`,
  e: "e1",
  dropId: "a-1",
  leader: `mask-${bids}`,
  priceMinor: 1_000 + bids * 100,
  endsAt: 1_718_000_060_000,
  bids,
  extended: false,
  v: bids,
});

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("auction frames are coalesced like stock frames", () => {
  it("a burst of bids sends the first at once and then only the newest standing, per auction", async () => {
    const sent: Paced[] = [];
    const pacer = new RoomPacer((_room, frame) => sent.push(frame));
    try {
      for (let bids = 1; bids <= 50; bids++) pacer.stock(auctionFrame(bids));
      // A stock frame of the same drop id is paced apart: it neither waits for nor replaces the auction's.
      pacer.stock({
        t: "stock",
        room: "r",
        o: "1718000000000-99",
        e: "e1",
        dropId: "a-1",
        available: 0,
        held: 1,
        sold: 0,
        state: "paused",
        v: 0,
      });
      expect(sent.map((f) => [f.t, f.v])).toEqual([
        ["auction", 1],
        ["stock", 0],
      ]);
      await until(() => sent.some((f) => f.t === "auction" && f.v === 50));
      const auctions = sent.filter((f): f is ServerFrameOf<"auction"> => f.t === "auction");
      expect(auctions.map((f) => f.bids)).toEqual([1, 50]);
      expect(auctions[1]).toMatchObject({ leader: "mask-50", priceMinor: 6_000 });
      // The end supersedes a standing still waiting: it is never sent after it.
      pacer.stock(auctionFrame(51));
      pacer.stock(auctionFrame(52));
      pacer.superseded("r", "a-1", "auction");
      // A later standing still gets out, and the dropped one never did.
      pacer.stock(auctionFrame(53));
      await until(() => sent.some((f) => f.t === "auction" && f.v === 53));
      expect(sent.filter((f) => f.t === "auction").map((f) => f.v)).not.toContain(52);
    } finally {
      pacer.close();
    }
  });
});
