import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  bestOffset,
  CLIENT_FRAME_TYPES,
  type ClientFrame,
  type CouponStatus,
  clockOffset,
  decodeClientFrame,
  decodeServerFrame,
  encodeServerFrame,
  type ServerFrame,
  serverFrameSchema,
  WIRE_LIMITS,
  WireErrorCode,
} from "../../protocol/index.ts";

const MAX = WIRE_LIMITS.maxFrameBytes;

/** One valid frame per client frame type and per action kind. */
const validClientFrames: ClientFrame[] = [
  { t: "join", room: "room-1" },
  { t: "leave", room: "room-1" },
  { t: "chat", room: "room-1", text: "hello 👋 你好", clientMsgId: "m-1" },
  { t: "buy", reqId: "r1", dropId: "drop_1", qty: 2, idempotencyKey: "buy:u1:1" },
  { t: "waitlist", reqId: "r3", dropId: "drop_1", qty: 1, idempotencyKey: "wait:u1:1" },
  { t: "bid", reqId: "b1", dropId: "drop_1", maxMinor: 12_500, idempotencyKey: "bid:u1:1" },
  { t: "pay", reqId: "r2", reservationId: "drop_1.17", token: "tok_success", idempotencyKey: "pay-1" },
  {
    t: "pay",
    reqId: "r5",
    reservationId: "drop_1.18",
    token: "tok_success",
    idempotencyKey: "pay-2",
    couponClaimId: "room-1.LIVE10.3",
  },
  { t: "coupon", reqId: "c1", room: "room-1", code: "LIVE10", idempotencyKey: "coupon:u1:1" },
  { t: "ping", reqId: "p1", clientTime: 1_718_000_000_123.25 },
  { t: "resume", room: "room-1", epoch: "e7", offset: "1718000000000-0" },
  { t: "delay", room: "room-1", ms: 3_000, source: "hls" },
  { t: "moderation", room: "room-1", action: { kind: "delete", messageId: "1718000000000-3" } },
  {
    t: "moderation",
    reqId: "mod-1",
    room: "room-1",
    action: { kind: "timeout", userId: "u:9", seconds: 600 },
  },
  { t: "moderation", room: "room-1", action: { kind: "ban", userId: "guest-abc" } },
  { t: "moderation", room: "room-1", action: { kind: "unban", userId: "guest-abc" } },
  { t: "moderation", room: "room-1", action: { kind: "slowmode", seconds: 0 } },
  { t: "host", reqId: "h1", room: "room-1", action: { kind: "launch", dropId: "drop_1" } },
  { t: "host", reqId: "h2", room: "room-1", action: { kind: "pause", dropId: "drop_1" } },
  { t: "host", reqId: "h3", room: "room-1", action: { kind: "resume", dropId: "drop_1" } },
  { t: "host", reqId: "h4", room: "room-1", action: { kind: "end", dropId: "drop_1" } },
  { t: "host", reqId: "h6", room: "room-1", action: { kind: "pin", dropId: "drop_1" } },
  { t: "host", reqId: "h7", room: "room-1", action: { kind: "unpin", dropId: "drop_1" } },
  { t: "host", reqId: "h5", room: "room-1", action: { kind: "restock", dropId: "drop_1", qty: 50 } },
];

function decode(value: unknown, maxBytes: number = MAX) {
  return decodeClientFrame(JSON.stringify(value), maxBytes);
}

function expectFailure(result: ReturnType<typeof decodeClientFrame>, code: WireErrorCode, field?: string) {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.code).toBe(code);
  expect(result.message.length).toBeGreaterThan(0);
  expect(result.message.length).toBeLessThanOrEqual(160);
  if (field) expect(result.message.startsWith(`${field}:`)).toBe(true);
}

function sample(t: string): Record<string, unknown> {
  const frame = validClientFrames.find((f) => f.t === t);
  if (!frame) throw new Error(`no sample for ${t}`);
  return structuredClone(frame) as Record<string, unknown>;
}

describe("decodeClientFrame accepts", () => {
  it("a sample of every client frame type exists", () => {
    expect(new Set(validClientFrames.map((f) => f.t))).toEqual(new Set(CLIENT_FRAME_TYPES));
  });

  it.each(validClientFrames.map((f) => [`${f.t}${"action" in f ? `/${f.action.kind}` : ""}`, f] as const))(
    "a valid %s frame, as text and as binary",
    (_name, frame) => {
      const text = JSON.stringify(frame);
      for (const data of [text, new TextEncoder().encode(text), new TextEncoder().encode(text).buffer]) {
        expect(decodeClientFrame(data, MAX)).toEqual({ ok: true, frame });
      }
    },
  );

  it("chat text trimmed of surrounding whitespace", () => {
    const result = decode({ t: "chat", room: "r", text: "   hi there  ", clientMsgId: "c" });
    expect(result).toEqual({ ok: true, frame: { t: "chat", room: "r", text: "hi there", clientMsgId: "c" } });
  });

  it("chat of exactly 500 characters, counted in code points (500 emoji)", () => {
    for (const text of ["a".repeat(500), "😀".repeat(500)]) {
      const result = decode({ t: "chat", room: "r", text, clientMsgId: "c" });
      expect(result.ok).toBe(true);
    }
  });

  it("a frame of exactly maxBytes, and qty at both bounds", () => {
    const frame = { t: "join", room: "r" };
    const size = new TextEncoder().encode(JSON.stringify(frame)).length;
    expect(decode(frame, size).ok).toBe(true);
    for (const qty of [1, 1000]) expect(decode({ ...sample("buy"), qty }).ok).toBe(true);
  });
});

describe("decodeClientFrame refuses, with a code", () => {
  it("invalid JSON: BAD_FRAME", () => {
    for (const text of ["", "{", "{t:'join'}", '{"t":"join",}', "undefined", "NaN"]) {
      expectFailure(decodeClientFrame(text, MAX), WireErrorCode.BAD_FRAME);
    }
  });

  it("binary that is not UTF-8: BAD_FRAME", () => {
    for (const bytes of [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0x7b, 0x80, 0x7d]]) {
      expectFailure(decodeClientFrame(Uint8Array.from(bytes), MAX), WireErrorCode.BAD_FRAME);
    }
  });

  it("random binary garbage: BAD_FRAME every time", () => {
    for (let i = 0; i < 500; i++) {
      const bytes = randomBytes(16 + (i % 240));
      expectFailure(decodeClientFrame(bytes, MAX), WireErrorCode.BAD_FRAME);
      expectFailure(
        decodeClientFrame(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), MAX),
        WireErrorCode.BAD_FRAME,
      );
    }
  });

  it("JSON that is not an object (array, null, number, string, boolean): BAD_FRAME", () => {
    for (const value of [[{ t: "join", room: "r" }], null, 42, "join", true]) {
      expectFailure(decode(value), WireErrorCode.BAD_FRAME);
    }
  });

  it("an unknown type: UNKNOWN_TYPE; a missing or non-string t: INVALID_FRAME", () => {
    expectFailure(decode({ t: "dance", room: "r" }), WireErrorCode.UNKNOWN_TYPE);
    expectFailure(decode({ t: "__proto__" }), WireErrorCode.UNKNOWN_TYPE);
    expectFailure(decode({ t: "toString" }), WireErrorCode.UNKNOWN_TYPE);
    expectFailure(decode({ room: "r" }), WireErrorCode.INVALID_FRAME, "t");
    expectFailure(decode({ t: 1, room: "r" }), WireErrorCode.INVALID_FRAME, "t");
  });

  it("every missing required field, named in the message", () => {
    for (const t of CLIENT_FRAME_TYPES) {
      const frame = sample(t);
      for (const field of Object.keys(frame).filter(
        (k) => k !== "t" && !(t === "moderation" && k === "reqId"),
      )) {
        const { [field]: _removed, ...rest } = frame;
        expectFailure(decode(rest), WireErrorCode.INVALID_FRAME, field);
      }
    }
  });

  it("every field of the wrong type, named in the message", () => {
    for (const t of CLIENT_FRAME_TYPES) {
      const frame = sample(t);
      for (const field of Object.keys(frame).filter((k) => k !== "t")) {
        for (const wrong of [{ nested: true }, [1], null, true]) {
          const result = decode({ ...frame, [field]: wrong });
          expect(result.ok).toBe(false);
          if (!result.ok) expect(result.message.startsWith(field)).toBe(true);
        }
      }
    }
  });

  it("extra fields, at the top and inside an action: INVALID_FRAME", () => {
    for (const t of CLIENT_FRAME_TYPES)
      expectFailure(decode({ ...sample(t), extra: 1 }), WireErrorCode.INVALID_FRAME);
    const host = sample("host");
    expectFailure(
      decode({ ...host, action: { kind: "launch", dropId: "d", qty: 5 } }),
      WireErrorCode.INVALID_FRAME,
      "action",
    );
    expectFailure(
      decode({ ...sample("moderation"), action: { kind: "nuke", userId: "u" } }),
      WireErrorCode.INVALID_FRAME,
      "action.kind",
    );
  });

  it("a __proto__ key is an unknown key, and pollutes nothing", () => {
    const result = decodeClientFrame('{"t":"join","room":"r","__proto__":{"polluted":1}}', MAX);
    expectFailure(result, WireErrorCode.INVALID_FRAME);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("frames over maxBytes, measured in UTF-8 bytes: FRAME_TOO_LARGE", () => {
    const frame = { t: "join", room: "r" };
    const size = new TextEncoder().encode(JSON.stringify(frame)).length;
    expectFailure(decode(frame, size - 1), WireErrorCode.FRAME_TOO_LARGE);
    // 300 UTF-16 units but 600+ bytes of UTF-8.
    const accents = JSON.stringify({ t: "chat", room: "r", text: "é".repeat(300), clientMsgId: "c" });
    expect(accents.length).toBeLessThan(400);
    expectFailure(decodeClientFrame(accents, 400), WireErrorCode.FRAME_TOO_LARGE);
    expectFailure(decodeClientFrame(new Uint8Array(MAX + 1), MAX), WireErrorCode.FRAME_TOO_LARGE);
    expectFailure(decodeClientFrame(" ".repeat(10 * MAX), MAX), WireErrorCode.FRAME_TOO_LARGE);
  });

  it("chat over 500 characters: CHAT_TOO_LONG, with the clientMsgId to echo", () => {
    for (const text of ["a".repeat(501), "😀".repeat(501), `${" ".repeat(1990)}${"a".repeat(20)}`]) {
      const result = decode({ t: "chat", room: "r", text, clientMsgId: "mine-1" }, 64 * 1024);
      expectFailure(result, WireErrorCode.CHAT_TOO_LONG, "text");
      if (!result.ok) expect(result.reqId).toBe("mine-1");
    }
  });

  it("chat with control characters or lone surrogates, or empty after trimming: INVALID_FRAME", () => {
    for (const text of [
      "a\nb",
      "a\tb",
      "a\u0000b",
      "a\u007fb",
      "a\u0085b",
      "a\u001bb",
      "a\ud800b",
      "     ",
      "",
    ]) {
      expectFailure(
        decode({ t: "chat", room: "r", text, clientMsgId: "c" }),
        WireErrorCode.INVALID_FRAME,
        "text",
      );
    }
  });

  it("negative, zero, fractional, huge or string qty: INVALID_FRAME, with the reqId to echo", () => {
    for (const qty of [-1, 0, 1.5, 1001, 1e308, "2", -1e308]) {
      const result = decode({ ...sample("buy"), qty });
      expectFailure(result, WireErrorCode.INVALID_FRAME, "qty");
      if (!result.ok) expect(result.reqId).toBe("r1");
    }
    expectFailure(
      decodeClientFrame('{"t":"buy","reqId":"r","dropId":"d","qty":1e999,"idempotencyKey":"k"}', MAX),
      WireErrorCode.INVALID_FRAME,
      "qty",
    );
  });

  it("out-of-range action numbers and malformed ids: INVALID_FRAME", () => {
    const mod = sample("moderation");
    for (const action of [
      { kind: "timeout", userId: "u", seconds: 0 },
      { kind: "timeout", userId: "u", seconds: 86_401 },
      { kind: "slowmode", seconds: -1 },
      { kind: "slowmode", seconds: 3_601 },
    ]) {
      expectFailure(decode({ ...mod, action }), WireErrorCode.INVALID_FRAME, "action.seconds");
    }
    expectFailure(decode({ ...sample("join"), room: "a b" }), WireErrorCode.INVALID_FRAME, "room");
    expectFailure(decode({ ...sample("join"), room: "r".repeat(65) }), WireErrorCode.INVALID_FRAME, "room");
    expectFailure(
      decode({ ...sample("pay"), reservationId: "drop_1" }),
      WireErrorCode.INVALID_FRAME,
      "reservationId",
    );
    expectFailure(decode({ ...sample("resume"), offset: "12-x" }), WireErrorCode.INVALID_FRAME, "offset");
    expectFailure(decode({ ...sample("ping"), clientTime: -5 }), WireErrorCode.INVALID_FRAME, "clientTime");
    expectFailure(
      decode({ ...sample("host"), action: { kind: "restock", dropId: "d", qty: 10_000_001 } }),
      WireErrorCode.INVALID_FRAME,
      "action.qty",
    );
  });

  it("never throws, whatever the input (property test)", () => {
    const anyInput = fc.oneof(
      fc.string({ unit: "binary", maxLength: 300 }),
      fc.json({ maxDepth: 4 }),
      fc.uint8Array({ maxLength: 300 }),
      fc
        .jsonValue({ maxDepth: 3 })
        .map((v) => JSON.stringify({ t: "buy", reqId: "r", dropId: v, qty: v, idempotencyKey: v })),
      fc
        .constantFrom(...CLIENT_FRAME_TYPES)
        .chain((t) =>
          fc
            .dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }))
            .map((d) => JSON.stringify({ ...d, t })),
        ),
    );
    fc.assert(
      fc.property(anyInput, fc.integer({ min: 0, max: 400 }), (input, maxBytes) => {
        const result = decodeClientFrame(input, maxBytes);
        if (result.ok) expect(CLIENT_FRAME_TYPES.has(result.frame.t)).toBe(true);
        else expect(Object.values(WireErrorCode)).toContain(result.code);
      }),
      { numRuns: 3_000 },
    );
  });
});

const drop = {
  dropId: "drop_1",
  roomId: "room-1",
  product: {
    sku: "SKU-1",
    title: "Limited sneaker",
    priceMinor: 12_900,
    currency: "USD",
    imageUrl: "https://cdn.example.com/s.png",
  },
  state: "live" as const,
  startsAt: 1_718_000_000_000,
  endsAt: null,
  perUserLimit: 2,
  holdMs: 300_000,
  available: 48,
  held: 1,
  sold: 1,
  v: 12,
};
const message = {
  id: "1718000000000-4",
  room: "room-1",
  userId: "guest-abc",
  name: "Guest 4821",
  role: "viewer" as const,
  text: "so fast <b>wow</b>",
  at: 1_718_000_000_100,
};

/** One frame per server frame type, and every ack variant. */
const coupon: CouponStatus = {
  couponId: "room-1.LIVE10",
  roomId: "room-1",
  code: "LIVE10",
  discount: { kind: "percent", percent: 10 },
  minOrderMinor: 0,
  quota: 100,
  perBuyer: 1,
  validUntil: null,
  pinned: true,
  claimed: 3,
  redeemed: 1,
};

const serverFrames: ServerFrame[] = [
  { t: "welcome", v: 1, serverTime: 1_718_000_000_000, connId: "c-1", userId: "guest-abc", role: "viewer" },
  {
    t: "joined",
    room: "room-1",
    epoch: "e7",
    offset: "1718000000000-9",
    viewers: 1234,
    drops: [drop, { ...drop, dropId: "drop_2", endsAt: 1_718_000_600_000, state: "scheduled" }],
    chat: [message, { ...message, id: "1718000000000-5", text: "", deleted: true }],
    coupons: [coupon],
  },
  { t: "drop", room: "room-1", o: "1718000000001-0", e: "e7", drop },
  {
    t: "stock",
    room: "room-1",
    o: "1718000000002-0",
    e: "e7",
    dropId: "drop_1",
    available: 0,
    held: 3,
    sold: 47,
    state: "sold_out",
    v: 13,
  },
  { t: "chat", room: "room-1", messages: [message] },
  { t: "toast", room: "room-1", dropId: "drop_1", qty: 1, buyer: "Guest 4821" },
  { t: "viewers", room: "room-1", count: 5012 },
  {
    t: "order",
    reservationId: "drop_1.17",
    status: "paid",
    dropId: "drop_1",
    totalMinor: 25_800,
    currency: "USD",
  },
  {
    t: "drop",
    room: "room-1",
    o: "1718000000003-0",
    e: "e7",
    drop: {
      ...drop,
      fair: {
        mode: "window",
        windowMs: 3_000,
        closesAt: 1_718_000_003_000,
        seedHash: "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
        seed: null,
        allocatedAt: null,
      },
      waitlist: { length: 4, served: 1 },
    },
  },
  {
    t: "draw",
    room: "room-1",
    o: "1718000000004-0",
    e: "e7",
    dropId: "drop_1",
    mode: "window",
    seed: "abababababababababababababababababababababababababababababababab",
    stock: 50,
    units: 50,
    winners: 40,
    losers: 160,
    v: 14,
  },
  {
    t: "entry",
    dropId: "drop_1",
    entryId: "1111111111111111111111111111111111111111",
    status: "lost",
    qty: 1,
    granted: 0,
  },
  {
    t: "entry",
    dropId: "drop_1",
    entryId: "2222222222222222222222222222222222222222",
    status: "won",
    qty: 2,
    granted: 2,
    reservationId: "drop_1.18",
    deadline: 1_718_000_300_000,
  },
  {
    t: "offer",
    dropId: "drop_1",
    reservationId: "drop_1.19",
    qty: 1,
    deadline: 1_718_000_400_000,
    via: "waitlist",
  },
  {
    t: "auctionHold",
    dropId: "drop_1",
    reservationId: "drop_1.20",
    priceMinor: 12_000,
    deadline: 1_718_000_400_000,
  },
  {
    t: "auction",
    room: "room-1",
    o: "1718000000005-0",
    e: "e7",
    dropId: "drop_1",
    leader: "k3f9a1",
    priceMinor: 12_000,
    endsAt: 1_718_000_060_000,
    bids: 7,
    extended: true,
    v: 15,
  },
  {
    t: "auctionEnded",
    room: "room-1",
    o: "1718000000006-0",
    e: "e7",
    dropId: "drop_1",
    winner: "k3f9a1",
    priceMinor: 12_000,
    reserveMet: true,
    v: 16,
  },
  {
    t: "auctionEnded",
    room: "room-1",
    o: "1718000000007-0",
    e: "e7",
    dropId: "drop_2",
    reserveMet: false,
    v: 3,
  },
  {
    t: "ack",
    reqId: "b1",
    ok: true,
    result: {
      kind: "bid",
      dropId: "drop_1",
      leading: true,
      priceMinor: 12_000,
      maxMinor: 12_500,
      endsAt: 1_718_000_060_000,
      extended: false,
      bids: 7,
      minNextMinor: 12_500,
      replayed: false,
    },
  },
  {
    t: "ack",
    reqId: "r1",
    ok: true,
    result: {
      kind: "buy",
      reservationId: "drop_1.17",
      dropId: "drop_1",
      qty: 2,
      deadline: 1_718_000_300_000,
      available: 46,
      replayed: false,
    },
  },
  {
    t: "ack",
    reqId: "r2",
    ok: true,
    result: {
      kind: "pay",
      reservationId: "drop_1.17",
      status: "paid",
      totalMinor: 25_800,
      currency: "USD",
      discountMinor: 2_580,
      paidMinor: 23_220,
    },
  },
  {
    t: "ack",
    reqId: "c1",
    ok: true,
    result: { kind: "coupon", claimId: "room-1.LIVE10.3", couponId: "room-1.LIVE10", replayed: false },
  },
  { t: "coupon", room: "room-1", coupon },
  {
    t: "ack",
    reqId: "h1",
    ok: true,
    result: { kind: "host", action: "launch", dropId: "drop_1", state: "live", changed: true },
  },
  { t: "ack", reqId: "mod-1", ok: true, result: { kind: "moderation" } },
  { t: "ack", reqId: "h6", ok: true, result: { kind: "pin", dropId: "drop_1", pinned: true, changed: true } },
  {
    t: "drop",
    room: "room-1",
    o: "1718000000008-0",
    e: "e7",
    drop: { ...drop, format: "buy_now", pinned: true },
  },
  {
    t: "ack",
    reqId: "r4",
    ok: true,
    result: {
      kind: "entered",
      dropId: "drop_1",
      entryId: "3333333333333333333333333333333333333333",
      qty: 1,
      closesAt: 1_718_000_003_000,
      replayed: false,
    },
  },
  { t: "ack", reqId: "r3", ok: false, code: "SOLD_OUT", message: "sold out" },
  { t: "pong", reqId: "p1", clientTime: 1_718_000_000_123.25, serverTime: 1_718_000_005_140 },
  {
    t: "moderation",
    room: "room-1",
    action: { kind: "timeout", userId: "guest-abc", seconds: 600, until: 1_718_000_600_000 },
    by: "Mod Ann",
    at: 1_718_000_000_000,
  },
  {
    t: "moderation",
    room: "room-1",
    action: { kind: "delete", messageId: "1718000000000-5" },
    by: "Mod Ann",
    at: 1_718_000_000_000,
  },
  { t: "resync", room: "room-1", epoch: "e8", offset: "1718000000500-0", drops: [drop], coupons: [] },
  { t: "resumed", room: "room-1", epoch: "e8", offset: "1718000000500-0" },
  { t: "error", code: "RATE_LIMITED", message: "slow down" },
  { t: "error", code: "ROOM_FULL", message: "room is full", reqId: "j1", room: "room-1" },
];

describe("server frames", () => {
  it("a sample of every server frame type exists", () => {
    const types = serverFrameSchema.options.map((o) =>
      "shape" in o ? o.shape.t.value : o.options[0].shape.t.value,
    );
    expect(new Set(serverFrames.map((f) => f.t))).toEqual(new Set(types));
  });

  it.each(serverFrames.map((f) => [f.t, f] as const))(
    "%s survives encode → decode unchanged",
    (_t, frame) => {
      const text = encodeServerFrame(frame);
      expect(typeof text).toBe("string");
      expect(decodeServerFrame(text)).toEqual({ ok: true, frame });
      expect(serverFrameSchema.safeParse(JSON.parse(text)).success).toBe(true);
    },
  );

  it("fields added by a newer server are ignored, not an error", () => {
    const result = decodeServerFrame(JSON.stringify({ t: "viewers", room: "r", count: 3, trend: "up" }));
    expect(result).toEqual({ ok: true, frame: { t: "viewers", room: "r", count: 3 } });
  });

  it("malformed server frames are refused with a code", () => {
    const bad = (value: unknown) => decodeServerFrame(JSON.stringify(value));
    expect(bad({ t: "teleport" })).toMatchObject({ ok: false, code: WireErrorCode.UNKNOWN_TYPE });
    expect(bad({ ...serverFrames[3], available: -1 })).toMatchObject({
      ok: false,
      code: WireErrorCode.INVALID_FRAME,
    });
    expect(bad({ t: "ack", reqId: "r", ok: true, result: { kind: "buy" } })).toMatchObject({
      ok: false,
      code: WireErrorCode.INVALID_FRAME,
    });
    expect(bad({ t: "error", code: "NOT_A_CODE", message: "x" })).toMatchObject({
      ok: false,
      code: WireErrorCode.INVALID_FRAME,
    });
    expect(decodeServerFrame("not json")).toMatchObject({ ok: false, code: WireErrorCode.BAD_FRAME });
  });
});

describe("clock sync", () => {
  it("a sample with symmetric delay gives the true offset and the round trip", () => {
    const trueOffset = 5_000;
    const oneWay = 40;
    const clientSend = 1_000_000;
    const serverTime = clientSend + oneWay + trueOffset;
    const clientReceive = clientSend + 2 * oneWay;
    expect(clockOffset({ clientSend, serverTime, clientReceive })).toEqual({ offsetMs: 5_000, rttMs: 80 });
    // A server clock behind the client's gives a negative offset.
    expect(clockOffset({ clientSend: 1_000, serverTime: 500 + 10, clientReceive: 1_020 }).offsetMs).toBe(
      -500,
    );
  });

  it("with asymmetric delay the error stays within half the round trip", () => {
    const trueOffset = -2_345;
    const clientSend = 10_000;
    const serverTime = clientSend + 90 + trueOffset; // 90 ms up, 10 ms down
    const estimate = clockOffset({ clientSend, serverTime, clientReceive: clientSend + 100 });
    expect(Math.abs(estimate.offsetMs - trueOffset)).toBeLessThanOrEqual(estimate.rttMs / 2);
  });

  it("bestOffset picks the lowest round trip and skips unusable samples", () => {
    const samples = [
      { clientSend: 0, serverTime: 1_150, clientReceive: 300 }, // rtt 300
      { clientSend: 1_000, serverTime: 2_010, clientReceive: 1_020 }, // rtt 20, offset 1000
      { clientSend: 2_000, serverTime: 3_100, clientReceive: 2_200 }, // rtt 200
      { clientSend: 3_000, serverTime: 4_000, clientReceive: 2_990 }, // clock jumped back
      { clientSend: 4_000, serverTime: Number.NaN, clientReceive: 4_001 },
    ];
    expect(bestOffset(samples)).toEqual({ offsetMs: 1_000, rttMs: 20 });
    expect(bestOffset([])).toBeUndefined();
    expect(bestOffset([samples[3]!])).toBeUndefined();
  });
});
