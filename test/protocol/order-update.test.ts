import { describe, expect, it } from "vitest";
import { decodeOrderUpdate, encodeOrderUpdate, type OrderUpdate } from "../../protocol/index.ts";

const update: OrderUpdate = {
  type: "order.paid",
  reservationId: "drop-1.7",
  dropId: "drop-1",
  roomId: "room-1",
  userId: "dana",
  qty: 2,
  totalMinor: 2_400,
  currency: "USD",
  status: "paid",
  at: 1_718_000_000_000,
};

describe("order update codec", () => {
  it("decodes what it encodes", () => {
    expect(decodeOrderUpdate(encodeOrderUpdate(update))).toEqual({ ok: true, value: update });
  });

  it("answers a reason, never throws, for text that is not an order update", () => {
    const bad: [string, RegExp][] = [
      ["not json", /not JSON/],
      ["[]", /expected object/],
      [JSON.stringify({ ...update, type: "order.lost" }), /^type:/],
      [JSON.stringify({ ...update, status: "gone" }), /^status:/],
      [JSON.stringify({ ...update, reservationId: "no-sequence" }), /^reservationId:/],
      [JSON.stringify({ ...update, qty: 0 }), /^qty:/],
      [JSON.stringify({ ...update, totalMinor: -1 }), /^totalMinor:/],
      [JSON.stringify({ ...update, userId: undefined }), /^userId:/],
    ];
    for (const [payload, reason] of bad) {
      const decoded = decodeOrderUpdate(payload);
      expect(decoded.ok, payload).toBe(false);
      if (!decoded.ok) expect(decoded.error, payload).toMatch(reason);
    }
  });
});
