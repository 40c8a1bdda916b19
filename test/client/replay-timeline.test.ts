import { describe, expect, it } from "vitest";
import {
  dropOnScreen,
  offsetS,
  offsetText,
  type RoomDrop,
  replayChapters,
} from "../../client/src/replay/timeline.ts";
import type { Replay } from "../../protocol/index.ts";

const replay: Replay = {
  id: "r1-0001",
  room: "r",
  startedAt: 100_000,
  endedAt: 160_000,
  durationS: 60,
  spans: [{ at: 100_000, offsetS: 0, durationS: 60 }],
  segments: 60,
  bytes: 1,
  playlistUrl: "http://m/replays/r/r1-0001/index.m3u8",
};

const drop = (dropId: string, startsAt: number, endsAt: number | null, title = dropId): RoomDrop => ({
  dropId,
  roomId: "r",
  product: { sku: "s", title, priceMinor: 100, currency: "USD", imageUrl: "https://x.test/a.png" },
  state: "live",
  perUserLimit: 1,
  holdMs: 60_000,
  startsAt,
  endsAt,
  createdAt: 0,
  available: 1,
  held: 0,
  sold: 0,
  initial: 1,
  restocked: 0,
  version: 1,
  serverTime: 0,
});

describe("replay timeline", () => {
  it("a chapter per drop inside the recording, in time order; one opened before it starts at 0", () => {
    const chapters = replayChapters(replay, [
      drop("late", 130_000, null, "Late"),
      drop("early", 90_000, 120_000, "Early"),
      drop("before", 10_000, 50_000),
      drop("after", 170_000, null),
    ]);
    expect(chapters).toEqual([
      { at: 100_000, kind: "drop", title: "Early", dropId: "early" },
      { at: 130_000, kind: "drop", title: "Late", dropId: "late" },
    ]);
    expect(chapters.map((c) => offsetS(replay, c.at))).toEqual([0, 30]);
    expect(offsetS(replay, 999_999)).toBe(60);
  });

  it("a restart of the stream moves no later chapter: moments map through the spans, a gap to the next span", () => {
    // 20 s recorded, a 15 s break while the stream restarted, then 40 s more.
    const restarted: Replay = {
      ...replay,
      endedAt: 175_000,
      spans: [
        { at: 100_000, offsetS: 0, durationS: 20 },
        { at: 135_000, offsetS: 20, durationS: 40 },
      ],
    };
    expect(offsetS(restarted, 90_000)).toBe(0);
    expect(offsetS(restarted, 110_000)).toBe(10);
    expect(offsetS(restarted, 125_000)).toBe(20);
    expect(offsetS(restarted, 145_000)).toBe(30);
    expect(offsetS(restarted, 999_999)).toBe(60);
  });

  it("a chapter's kind is its drop's selling format", () => {
    const chapters = replayChapters(replay, [
      { ...drop("auction", 110_000, null, "Watch"), format: "auction" },
      { ...drop("pin", 120_000, null, "Case"), format: "buy_now" },
      drop("timed", 130_000, null, "Jacket"),
    ]);
    expect(chapters.map((c) => c.kind)).toEqual(["auction", "buy_now", "drop"]);
  });

  it("the card on screen is the drop started last and not ended at that program time", () => {
    const drops = [drop("a", 110_000, 140_000), drop("b", 120_000, 125_000)];
    expect(dropOnScreen(drops, undefined)).toBeUndefined();
    expect(dropOnScreen(drops, 109_999)).toBeUndefined();
    expect(dropOnScreen(drops, 110_000)?.dropId).toBe("a");
    expect(dropOnScreen(drops, 122_000)?.dropId).toBe("b");
    expect(dropOnScreen(drops, 130_000)?.dropId).toBe("a");
    expect(dropOnScreen(drops, 140_001)).toBeUndefined();
  });

  it("offsets read as m:ss, or h:mm:ss past an hour", () => {
    expect(offsetText(0)).toBe("0:00");
    expect(offsetText(65.9)).toBe("1:05");
    expect(offsetText(3_725)).toBe("1:02:05");
  });
});
