import { describe, expect, it } from "vitest";
import { decodeAllocate, decodeReserve } from "../../sale-engine/replies.ts";

describe("fair-window script replies", () => {
  it("reserve.lua's entry answer decodes as entered, a malformed one as MALFORMED_REPLY", () => {
    expect(decodeReserve([2, "ab", 1])).toEqual({ ok: true, entered: true, entryId: "ab", replayed: true });
    expect(decodeReserve([2, "ab", 0])).toMatchObject({ entered: true, replayed: false });
    expect(decodeReserve([2, 7, 0])).toMatchObject({ ok: false, code: "MALFORMED_REPLY" });
    expect(decodeReserve([1, "d.1", 5, 3, 0])).toMatchObject({ ok: true, reservationId: "d.1" });
  });

  it("allocate.lua's answers decode to counts, a due time, or a refusal", () => {
    expect(decodeAllocate([1, 1, 2, 3, 4, 5])).toEqual({
      ok: true,
      allocatedNow: true,
      winners: 2,
      losers: 3,
      units: 4,
      stock: 5,
    });
    expect(decodeAllocate([1, 0, 0, 0, 0, 0])).toMatchObject({ ok: true, allocatedNow: false });
    expect(decodeAllocate([0, "NOT_STARTED", 1234])).toEqual({ ok: false, code: "NOT_STARTED", dueAt: 1234 });
    expect(decodeAllocate([0, "DRAW_MISMATCH"])).toEqual({ ok: false, code: "DRAW_MISMATCH" });
    expect(decodeAllocate("nonsense" as never)).toMatchObject({ ok: false, code: "MALFORMED_REPLY" });
  });
});
