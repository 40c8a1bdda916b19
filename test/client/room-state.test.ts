import { describe, expect, it } from "vitest";
import { followStock } from "../../client/src/shared/buy-refusal.ts";
import { compareOffsets } from "../../client/src/shared/offsets.ts";
import {
  applyFrame,
  type DropView,
  effectiveState,
  emptyRoom,
  isHeart,
  MAX_CHAT,
  mergeChat,
  pinnedDrop,
} from "../../client/src/shared/room-state.ts";
import type { ChatMessage, DropSnapshot } from "../../protocol/index.ts";

const drop = (over: Partial<DropSnapshot> = {}): DropSnapshot => ({
  dropId: "d1",
  roomId: "r1",
  product: { sku: "s", title: "Shoe", priceMinor: 1999, currency: "USD", imageUrl: "https://x.test/a.png" },
  state: "scheduled",
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
const msg = (id: string, text = "hi"): ChatMessage => ({
  id,
  room: "r1",
  userId: "u",
  name: "U",
  role: "viewer",
  text,
  at: 1,
});

describe("client room state", () => {
  it("room offsets compare as numbers, not as text", () => {
    expect(compareOffsets("9-0", "10-0")).toBeLessThan(0);
    expect(compareOffsets("10-2", "10-10")).toBeLessThan(0);
    expect(compareOffsets("1718000000000-5", "1718000000000-5")).toBe(0);
    expect(compareOffsets("1718000000001-0", "1718000000000-9")).toBeGreaterThan(0);
  });

  it("a scheduled drop turns live exactly at T0 on the server clock, sold out when nothing is left", () => {
    expect(effectiveState(drop(), 9_999)).toBe("scheduled");
    expect(effectiveState(drop(), 10_000)).toBe("live");
    expect(effectiveState(drop({ available: 0 }), 10_000)).toBe("sold_out");
    expect(effectiveState(drop({ state: "paused" }), 20_000)).toBe("paused");
    expect(effectiveState(drop({ state: "live", endsAt: 15_000 }), 15_000)).toBe("ended");
  });

  it("stock frames older than the drop's version are ignored; newer ones update the counts", () => {
    let s = applyFrame(
      emptyRoom("r1"),
      { t: "joined", room: "r1", epoch: "e", offset: "1-0", viewers: 2, drops: [drop({ v: 5 })], chat: [] },
      1,
    );
    const stale = applyFrame(
      s,
      {
        t: "stock",
        room: "r1",
        o: "2-0",
        e: "e",
        dropId: "d1",
        available: 9,
        held: 0,
        sold: 0,
        state: "live",
        v: 4,
      },
      2,
    );
    expect(stale).toBe(s);
    s = applyFrame(
      s,
      {
        t: "stock",
        room: "r1",
        o: "3-0",
        e: "e",
        dropId: "d1",
        available: 1,
        held: 2,
        sold: 0,
        state: "live",
        v: 6,
      },
      3,
    );
    expect(s.drops.get("d1")).toMatchObject({ available: 1, held: 2, state: "live", v: 6 });
  });

  it("a drop announced live records when this client learned of it (the HLS reveal waits for it)", () => {
    let s = applyFrame(
      emptyRoom("r1"),
      { t: "joined", room: "r1", epoch: "e", offset: "1-0", viewers: 0, drops: [], chat: [] },
      100,
    );
    s = applyFrame(s, { t: "drop", room: "r1", o: "2-0", e: "e", drop: drop({ v: 1 }) }, 5_000);
    expect(s.drops.get("d1")?.announcedAt).toBe(5_000);
    s = applyFrame(
      s,
      { t: "drop", room: "r1", o: "3-0", e: "e", drop: drop({ v: 2, state: "paused" }) },
      6_000,
    );
    expect(s.drops.get("d1")?.announcedAt).toBe(5_000);
    s = applyFrame(
      s,
      { t: "drop", room: "r1", o: "4-0", e: "e", drop: drop({ v: 3, state: "live" }) },
      7_000,
    );
    expect(s.drops.get("d1")?.announcedAt).toBe(7_000);
  });

  it("chat: the sender's echo and the room batch are shown once; deletes leave a tombstone; memory is bounded", () => {
    expect(mergeChat([msg("a")], [msg("a"), msg("b")]).map((m) => m.id)).toEqual(["a", "b"]);
    let s = applyFrame(emptyRoom("r1"), { t: "chat", room: "r1", messages: [msg("a", "<b>x</b>")] }, 1);
    s = applyFrame(
      s,
      { t: "moderation", room: "r1", action: { kind: "delete", messageId: "a" }, by: "Host", at: 2 },
      2,
    );
    expect(s.chat[0]).toMatchObject({ id: "a", text: "", deleted: true });
    const many = Array.from({ length: MAX_CHAT + 50 }, (_, i) => msg(`m${i}`));
    expect(mergeChat([], many)).toHaveLength(MAX_CHAT);
  });

  it("pins the live drop first, then the next scheduled one", () => {
    const drops: DropView[] = [
      { ...drop({ dropId: "old", state: "ended", startsAt: 1 }), announcedAt: 0 },
      { ...drop({ dropId: "next", startsAt: 50_000 }), announcedAt: 0 },
      { ...drop({ dropId: "later", startsAt: 90_000 }), announcedAt: 0 },
    ];
    expect(pinnedDrop(drops, 20_000)?.dropId).toBe("next");
    expect(
      pinnedDrop(
        [...drops, { ...drop({ dropId: "now", state: "live", startsAt: 0 }), announcedAt: 0 }],
        20_000,
      )?.dropId,
    ).toBe("now");
    expect(isHeart(" ❤️ ")).toBe(true);
    expect(isHeart("❤️ nice")).toBe(false);
  });
});

describe("a buy refusal on the drop card", () => {
  const soldOut = { dropId: "d1", code: "SOLD_OUT", floor: 2 };

  it("stands while frames of earlier holds count the stock down", () => {
    const after1 = followStock(soldOut, "d1", 1);
    expect(after1).toEqual({ ...soldOut, floor: 1 });
    expect(followStock(after1, "d1", 1)).toBe(after1);
    expect(followStock(after1, "d1", 0)).toEqual({ ...soldOut, floor: 0 });
  });

  it("goes once stock comes back above the fewest units seen since", () => {
    const atZero = followStock(soldOut, "d1", 0);
    expect(followStock(atZero, "d1", 1)).toBeUndefined();
    expect(followStock(soldOut, "d1", 3)).toBeUndefined();
  });

  it("keeps a per-user limit for the drop, and ignores other drops", () => {
    const limit = { dropId: "d1", code: "LIMIT_EXCEEDED", floor: 0 };
    expect(followStock(limit, "d1", 50)).toBe(limit);
    expect(followStock(soldOut, "d2", 50)).toBe(soldOut);
    expect(followStock(undefined, "d1", 5)).toBeUndefined();
  });
});
