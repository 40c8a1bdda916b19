import { describe, expect, it } from "vitest";
import { ErrorCode, isLivedropError } from "../../core/index.ts";
import { scriptError } from "../../sale-engine/index.ts";
import {
  decodeConfirm,
  decodeCreate,
  decodeExpire,
  decodeRelease,
  decodeReserve,
  decodeReserveBatch,
  decodeRestock,
  decodeStatus,
  decodeTransition,
} from "../../sale-engine/replies.ts";

// Each script's positional answer becomes one typed union; anything else is MALFORMED_REPLY,
// which the engine turns into an INTERNAL error, never a wrong answer.

describe("Lua reply decoders", () => {
  it("reserve: a hold, the per-user limit of QTY_ABOVE_LIMIT, the replay flag of other refusals", () => {
    expect(decodeReserve([1, "d.7", 1_700, 3, 1])).toEqual({
      ok: true,
      reservationId: "d.7",
      deadline: 1_700,
      available: 3,
      replayed: true,
    });
    expect(decodeReserve([0, "QTY_ABOVE_LIMIT", 2])).toEqual({
      ok: false,
      code: "QTY_ABOVE_LIMIT",
      perUserLimit: 2,
    });
    expect(decodeReserve([0, "SOLD_OUT", 0])).toEqual({ ok: false, code: "SOLD_OUT", replayed: false });
    expect(
      decodeReserveBatch(
        [
          [1, "d.1", 5, 0, 0],
          [0, "SOLD_OUT", 0],
        ],
        2,
      ).map((r) => r.ok),
    ).toEqual([true, false]);
    // A batch answer of the wrong length fails every request rather than answering the wrong buyer.
    expect(decodeReserveBatch([[1, "d.1", 5, 0, 0]], 2).map((r) => (r.ok ? "ok" : r.code))).toEqual([
      "MALFORMED_REPLY",
      "MALFORMED_REPLY",
    ]);
  });

  it("the other scripts: answers and refusals with their extra value", () => {
    expect(decodeCreate([1, 0, 1_000])).toEqual({ ok: true, created: false, startsAt: 1_000 });
    expect(decodeConfirm([0, "ALREADY_RELEASED", "X"])).toEqual({
      ok: false,
      code: "ALREADY_RELEASED",
      status: "expired",
    });
    expect(decodeConfirm([1, 1])).toEqual({ ok: true, replayed: true });
    expect(decodeRelease([1, 0, "X"])).toEqual({ ok: true, replayed: false, status: "expired" });
    expect(decodeExpire([1, 5_000, 1, "d.1", "d.2"])).toEqual({
      ok: true,
      serverTime: 5_000,
      settled: true,
      expired: ["d.1", "d.2"],
    });
    expect(decodeRestock([0, "STOCK_OVERFLOW", 12])).toEqual({
      ok: false,
      code: "STOCK_OVERFLOW",
      maxRestock: 12,
    });
    expect(decodeRestock([0, "ENDED"])).toEqual({ ok: false, code: "ENDED" });
    expect(decodeTransition([1, 1, "paused"])).toEqual({ ok: true, changed: true, state: "paused" });
    const status = decodeStatus([1, 9, "live", "{}", "room-1", "active", "100", "0"]);
    expect(status).toMatchObject({ ok: true, serverTime: 9, state: "live" });
    if (status.ok)
      expect(status.fields).toMatchObject({ room: "room-1", starts: "100", ends: "0", sold: "" });
  });

  it("a reply of an unexpected shape is MALFORMED_REPLY, which maps to INTERNAL", () => {
    const odd = [[], [2, "x"], [0, 5], [1, 0, "closed"]];
    for (const reply of odd) {
      const decoded = [decodeTransition(reply), decodeStatus(reply)];
      for (const d of decoded) if (!d.ok) expect(d.code, JSON.stringify(reply)).toBe("MALFORMED_REPLY");
    }
    expect(decodeTransition([1, 0, "closed"])).toEqual({ ok: false, code: "MALFORMED_REPLY" });
    expect(decodeReserve([1, 42, 0, 0, 0])).toMatchObject({ ok: false, code: "MALFORMED_REPLY" });
    const err = scriptError("MALFORMED_REPLY");
    expect(isLivedropError(err) && err.code).toBe(ErrorCode.INTERNAL);
  });
});
