import { describe, expect, it } from "vitest";
import { decodeRoomLogEntry, decodeRoomMessage } from "../../protocol/index.ts";

const base = {
  drop: "d-1",
  room: "r-1",
  v: 3,
  at: 1_700_000_000_000,
  state: "live",
  available: 7,
  held: 2,
  sold: 1,
};
const placed = {
  ...base,
  type: "reservation.placed",
  reservation: "d-1.3",
  user: "u-1",
  qty: 1,
  deadline: 1_700_000_600_000,
};

describe("room log entries are decoded where they are read", () => {
  it("decodes every kind the room log holds: drop events, the drop snapshot, chat and moderation", () => {
    const entries = [
      placed,
      { ...base, type: "drop.snapshot" },
      { ...base, type: "drop.state", action: "launch", starts: 1_700_000_000_000 },
      { ...base, type: "stock.restocked", qty: 5 },
      {
        type: "chat.message",
        message: { id: "m-1", room: "r-1", userId: "u-1", name: "Ann", role: "viewer", text: "hi", at: 1 },
      },
      { type: "chat.moderation", action: { kind: "ban", userId: "u-2" }, by: "Mod", at: 2 },
    ];
    for (const entry of entries) {
      const decoded = decodeRoomLogEntry(JSON.stringify(entry));
      expect(decoded).toMatchObject({ ok: true, value: { type: entry.type } });
    }
  });

  it("answers a reason, never throws, for bad JSON, an unknown kind or a wrong field", () => {
    expect(decodeRoomLogEntry("{not json")).toEqual({ ok: false, error: "not JSON" });
    expect(decodeRoomLogEntry(JSON.stringify({ ...base, type: "drop.teleported" }))).toMatchObject({
      ok: false,
    });
    const wrong = decodeRoomLogEntry(JSON.stringify({ ...placed, held: -1 }));
    expect(wrong.ok).toBe(false);
    expect(wrong.ok ? "" : wrong.error).toMatch(/held/);
  });

  it("a channel message keeps its place in the log even when its entry is of a kind this build does not know", () => {
    const known = decodeRoomMessage(JSON.stringify({ e: "171", o: "5-0", p: "4-0", ev: placed }));
    expect(known).toMatchObject({
      ok: true,
      value: { e: "171", o: "5-0", p: "4-0", ev: { type: "reservation.placed" } },
    });
    const first = decodeRoomMessage(JSON.stringify({ e: "171", o: "1-0", p: "", ev: placed }));
    expect(first).toMatchObject({ ok: true, value: { p: "" } });
    const unknown = decodeRoomMessage(
      JSON.stringify({ e: "171", o: "6-0", p: "5-0", ev: { type: "later.kind" } }),
    );
    expect(unknown).toMatchObject({ ok: true, value: { o: "6-0", p: "5-0", ev: undefined } });
    expect(decodeRoomMessage(JSON.stringify({ e: "171", o: "not-an-offset", ev: placed }))).toMatchObject({
      ok: false,
    });
  });
});
