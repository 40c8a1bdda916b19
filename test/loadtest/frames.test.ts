import { describe, expect, it } from "vitest";
import { loadTestDrop } from "../../loadtest/lib/drop.ts";
import { frames, type InFrame, PAYMENT_TOKENS } from "../../loadtest/lib/frames.ts";
import { idFactory, runDropId } from "../../loadtest/lib/ids.ts";
import {
  type ClientFrame,
  clientFrameSchema,
  decodeClientFrame,
  dropFieldsSchema,
  dropIdSchema,
  reqIdSchema,
  type ServerFrameOf,
  WIRE_LIMITS,
} from "../../protocol/index.ts";

// Compile-time half of the contract: what the load tests read is a subset of what the server
// sends (root `tsc` fails if a field changes type or goes away).
type In<T extends InFrame["t"]> = Extract<InFrame, { t: T }>;
const reads = {
  welcome: (f: ServerFrameOf<"welcome">): In<"welcome"> => f,
  joined: (f: ServerFrameOf<"joined">): In<"joined"> => f,
  drop: (f: ServerFrameOf<"drop">): In<"drop"> => f,
  stock: (f: ServerFrameOf<"stock">): In<"stock"> => f,
  chat: (f: ServerFrameOf<"chat">): In<"chat"> => f,
  order: (f: ServerFrameOf<"order">): In<"order"> => f,
  ack: (f: ServerFrameOf<"ack">): In<"ack"> => f,
  pong: (f: ServerFrameOf<"pong">): In<"pong"> => f,
  resync: (f: ServerFrameOf<"resync">): In<"resync"> => f,
  error: (f: ServerFrameOf<"error">): In<"error"> => f,
};

const nextId = idFactory("t");
const dropId = runDropId("spike");
const samples: ClientFrame[] = [
  frames.join("loadtest"),
  frames.leave("loadtest"),
  frames.chat("loadtest", `load test ${nextId()}`, nextId()),
  frames.buy(nextId(), dropId, 1, nextId()),
  frames.waitlist(nextId(), dropId, 1, nextId()),
  frames.bid(nextId(), dropId, 1_500, nextId()),
  frames.coupon(nextId(), "loadtest", "LIVE10", nextId()),
  frames.delay("loadtest", 3_200, "hls"),
  frames.pay(nextId(), `${dropId}.17`, PAYMENT_TOKENS.success, nextId()),
  frames.ping(nextId(), performance.timeOrigin + performance.now()),
  frames.resume("loadtest", "ep0ch", "1718000000000-3"),
  frames.host(nextId(), "loadtest", { kind: "launch", dropId }),
  frames.host(nextId(), "loadtest", { kind: "pin", dropId }),
  frames.host(nextId(), "loadtest", { kind: "restock", dropId, qty: 5 }),
];

describe("load-test frames match the protocol", () => {
  it("every builder's frame passes the protocol's zod schema and the gateway's decoder", () => {
    expect(Object.keys(reads)).toHaveLength(10);
    for (const frame of samples) {
      expect(clientFrameSchema.safeParse(frame).error?.issues ?? []).toEqual([]);
      expect(decodeClientFrame(JSON.stringify(frame), WIRE_LIMITS.maxFrameBytes)).toEqual({
        ok: true,
        frame,
      });
    }
    // Every client frame type the protocol knows has a builder.
    const built = new Set(samples.map((f) => f.t));
    for (const option of clientFrameSchema.options) {
      const t = option.shape.t.value;
      if (t !== "moderation") expect(built.has(t), t).toBe(true);
    }
  });

  it("ids and the run's drop fit the engine's schemas", () => {
    for (let i = 0; i < 1_000; i++) expect(reqIdSchema.safeParse(nextId()).success).toBe(true);
    expect(dropIdSchema.safeParse(dropId).success).toBe(true);
    const body = loadTestDrop(dropId, 200, { startsAt: Date.now() + 3_000 });
    expect(dropFieldsSchema.omit({ roomId: true }).safeParse(body).error?.issues ?? []).toEqual([]);
  });
});
