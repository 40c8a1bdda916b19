import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type LivedropError,
  NotFoundError,
  type RedisClient,
  RejectedError,
  ValidationError,
} from "../../core/index.ts";
import type { DropDefinition } from "../../protocol/index.ts";
import { SaleEngine } from "../../sale-engine/index.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, key } from "./fixtures.ts";

// Bad input gets a typed error and nothing changed: every case below captures the whole
// key space of the engine (and the status of a busy drop) before the call and compares after.

let redis: PrivateRedis;
let raw: RedisClient;
let engine: SaleEngine;
let prefix: string;
/** A live drop with history: one confirmed sale, one held reservation, recorded refusals. */
let def: DropDefinition;
let heldId: string;
let confirmedId: string;
let userCounter = 0;

function freshUser(): string {
  userCounter += 1;
  return `user-${userCounter}`;
}

beforeAll(async () => {
  redis = await startPrivateRedis();
  raw = redis.client();
  prefix = uniquePrefix("bad");
  engine = await SaleEngine.create({ redis: redis.client(), prefix });
  def = dropDefinition({ initialStock: 1_000, perUserLimit: 2 });
  await engine.createDrop(def);
  const sold = await engine.reserve({ dropId: def.dropId, userId: "seed-1", qty: 2, idempotencyKey: key() });
  await engine.confirm(sold.reservationId);
  confirmedId = sold.reservationId;
  heldId = (await engine.reserve({ dropId: def.dropId, userId: "seed-2", qty: 1, idempotencyKey: key() }))
    .reservationId;
  // A recorded refusal (per-user limit), so the idempotency hash is not empty.
  await expect(
    engine.reserve({ dropId: def.dropId, userId: "seed-1", qty: 1, idempotencyKey: key() }),
  ).rejects.toMatchObject({ code: "LIMIT_EXCEEDED" });
});

afterAll(async () => {
  await engine?.close();
  await redis?.stop();
});

/** Every key under the engine's prefix with its full content. */
async function keyspace(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const k of (await raw.keys(`${prefix}:*`)).sort()) {
    const type = await raw.type(k);
    if (type === "hash") out[k] = await raw.hgetall(k);
    else if (type === "zset") out[k] = await raw.zrange(k, 0, -1, "WITHSCORES");
    else if (type === "stream") out[k] = await raw.xrange(k, "-", "+");
    else if (type === "string") out[k] = await raw.get(k);
    else out[k] = type;
  }
  return out;
}

/** Every reservation of a drop, by the public API: ids are `<dropId>.<n>`, n = 1, 2, ... gap-free. */
async function reservationsOf(dropId: string) {
  const out = [];
  for (let n = 1; ; n++) {
    const found = await engine.reservation(`${dropId}.${n}`).catch((e: unknown) => {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    });
    if (!found) return out;
    out.push(found);
  }
}

/** Keys of one drop (whatever the layout, they carry the drop's hash tag). */
function keysOfDrop(dropId: string): Promise<string[]> {
  return raw.keys(`${prefix}:*{${dropId}}*`);
}

/** What must not change: the drop's status (but for the clock), its reservations and the key space. */
async function snapshot(dropId = def.dropId) {
  const { serverTime, ...status } = await engine.status(dropId);
  expect(serverTime).toBeGreaterThan(0);
  const reservations = await reservationsOf(dropId);
  const users = [...new Set(reservations.map((r) => r.userId))];
  return {
    status,
    reservations,
    units: await Promise.all(users.map(async (u) => [u, await engine.unitsOfUser(dropId, u)])),
    holds: await raw.zcard(engine.keys.drop(dropId).holds),
    drops: await engine.listDrops(),
    keyspace: await keyspace(),
  };
}

type ErrorClass = new (...args: never[]) => LivedropError;

/** Runs `call`, which must fail with `type`/`code` (and `details`), and checks nothing changed. */
async function refusedUnchanged(
  call: () => Promise<unknown>,
  type: ErrorClass,
  code: string,
  details?: Record<string, unknown>,
): Promise<LivedropError> {
  const before = await snapshot();
  const error = await call().then(
    (value) => {
      throw new Error(`expected a ${type.name} ${code}, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  expect(error).toMatchObject(details ? { code, details } : { code });
  expect(await snapshot()).toEqual(before);
  return error as LivedropError;
}

/** A schema refusal: ValidationError INVALID_INPUT naming the field (`""`: the value itself). */
async function invalid(call: () => Promise<unknown>, field: string): Promise<void> {
  const error = await refusedUnchanged(call, ValidationError, "INVALID_INPUT");
  const problems = (error.details?.problems ?? []) as string[];
  expect(problems.length).toBeGreaterThan(0);
  if (field) expect(problems.some((p) => p.startsWith(`${field}:`) || p.startsWith(`${field}.`))).toBe(true);
}

function reserveWith(overrides: Record<string, unknown>) {
  return engine.reserve({
    dropId: def.dropId,
    userId: freshUser(),
    qty: 1,
    idempotencyKey: key(),
    ...overrides,
  } as never);
}

const UNKNOWN = "no-such-drop";

describe("an unknown drop or reservation gets NotFoundError and nothing changed", () => {
  it("reserve() on an unknown drop gets DROP_NOT_FOUND and records no answer", async () => {
    await refusedUnchanged(
      () => engine.reserve({ dropId: UNKNOWN, userId: "u1", qty: 1, idempotencyKey: key() }),
      NotFoundError,
      "DROP_NOT_FOUND",
      { dropId: UNKNOWN },
    );
    expect(await keysOfDrop(UNKNOWN)).toEqual([]);
  });

  it.each([
    ["confirm() of a reservation of an unknown drop", () => engine.confirm(`${UNKNOWN}.1`)],
    ["release() of a reservation of an unknown drop", () => engine.release(`${UNKNOWN}.1`)],
    ["reservation() of a reservation of an unknown drop", () => engine.reservation(`${UNKNOWN}.1`)],
    ["confirm() of an unknown reservation of a known drop", () => engine.confirm(`${def.dropId}.999`)],
    ["release() of an unknown reservation of a known drop", () => engine.release(`${def.dropId}.999`)],
    [
      "reservation() of an unknown reservation of a known drop",
      () => engine.reservation(`${def.dropId}.999`),
    ],
  ])("%s gets RESERVATION_NOT_FOUND", async (_name, call) => {
    await refusedUnchanged(call, NotFoundError, "RESERVATION_NOT_FOUND");
    expect(await keysOfDrop(UNKNOWN)).toEqual([]);
  });

  it.each([
    ["restock()", () => engine.restock(UNKNOWN, 5)],
    ["pause()", () => engine.pause(UNKNOWN)],
    ["resume()", () => engine.resume(UNKNOWN)],
    ["end()", () => engine.end(UNKNOWN)],
    ["status()", () => engine.status(UNKNOWN)],
  ])("%s of an unknown drop gets DROP_NOT_FOUND", async (_name, call) => {
    await refusedUnchanged(call, NotFoundError, "DROP_NOT_FOUND", { dropId: UNKNOWN });
    expect(await keysOfDrop(UNKNOWN)).toEqual([]);
  });
});

describe("reserve() with a bad quantity gets INVALID_INPUT and nothing changed", () => {
  it.each([
    ["0", 0],
    ["negative (-1)", -1],
    ["fractional (1.5)", 1.5],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["-Infinity", Number.NEGATIVE_INFINITY],
    ["huge (1e12)", 1e12],
    ["above the engine-wide ceiling (1001)", 1_001],
    ['the string "1"', "1"],
    ["null", null],
    ["missing", undefined],
  ])("qty %s gets INVALID_INPUT, and the idempotency key stays unused", async (_name, qty) => {
    const userId = freshUser();
    const idempotencyKey = key();
    await invalid(() => engine.reserve({ dropId: def.dropId, userId, idempotencyKey, qty } as never), "qty");
    // Nothing was recorded for the key: a valid request with it is evaluated afresh.
    const ok = await engine.reserve({ dropId: def.dropId, userId, qty: 1, idempotencyKey });
    expect(ok).toMatchObject({ userId, qty: 1, replayed: false });
    await engine.release(ok.reservationId);
  });

  it("qty above the drop's per-user limit gets INVALID_INPUT reason QTY_ABOVE_LIMIT, not recorded", async () => {
    const userId = freshUser();
    const idempotencyKey = key();
    for (const qty of [3, 1_000]) {
      await refusedUnchanged(
        () => engine.reserve({ dropId: def.dropId, userId, qty, idempotencyKey }),
        ValidationError,
        "INVALID_INPUT",
        { reason: "QTY_ABOVE_LIMIT", perUserLimit: 2, dropId: def.dropId, replayed: false },
      );
    }
    expect(await engine.unitsOfUser(def.dropId, userId)).toBe(0);
    // Not recorded: the same key with a quantity within the limit is a fresh, successful hold.
    const ok = await engine.reserve({ dropId: def.dropId, userId, qty: 2, idempotencyKey });
    expect(ok).toMatchObject({ userId, qty: 2, replayed: false });
    expect(await engine.reserve({ dropId: def.dropId, userId, qty: 2, idempotencyKey })).toEqual({
      ...ok,
      replayed: true,
    });
    expect(await engine.unitsOfUser(def.dropId, userId)).toBe(2);
    await engine.release(ok.reservationId);
  });

  it("qty above a per-user limit of 1 is not reported as a replayed answer", async () => {
    const one = dropDefinition({ perUserLimit: 1 });
    await engine.createDrop(one);
    const before = await snapshot(one.dropId);
    await expect(
      engine.reserve({ dropId: one.dropId, userId: "u1", qty: 2, idempotencyKey: key() }),
    ).rejects.toMatchObject({
      code: "INVALID_INPUT",
      details: { reason: "QTY_ABOVE_LIMIT", perUserLimit: 1, replayed: false },
    });
    expect(await snapshot(one.dropId)).toEqual(before);
  });
});

const BAD_DROP_IDS: [string, unknown][] = [
  ["empty", ""],
  ["65 characters", "d".repeat(65)],
  ["10 kB", "d".repeat(10_240)],
  ["with a space", "drop 1"],
  ["with '{'", "drop{1"],
  ["a hash tag", "{drop}"],
  ["with '|'", "drop|1"],
  ["with '.'", "drop.1"],
  ["with ':'", "drop:1"],
  ["with a newline", "drop\n1"],
  ["with a trailing newline", "drop-1\n"],
  ["unicode", "dröp-1"],
  ["a number", 1],
  ["null", null],
];

const BAD_USER_IDS: [string, unknown][] = [
  ["empty", ""],
  ["129 characters", "u".repeat(129)],
  ["10 kB", "u".repeat(10_240)],
  ["with a space", "user 1"],
  ["with '{'", "user{1"],
  ["with '|'", "user|1"],
  ["with a newline", "user\n1"],
  ["with a trailing newline", "user-1\n"],
  ["unicode", "üser-1"],
  ["a number", 1],
];

const BAD_KEYS: [string, unknown][] = [
  ["empty", ""],
  ["129 characters", "k".repeat(129)],
  ["10 kB", "k".repeat(10_240)],
  ["with a space", "key 1"],
  ["with '{'", "key{1"],
  ["with '|'", "key|1"],
  ["with '@'", "key@1"],
  ["with a newline", "key\n1"],
  ["with a trailing newline", "key-1\n"],
  ["unicode", "kéy-1"],
  ["a number", 1],
];

describe("malformed ids get INVALID_INPUT and nothing changed", () => {
  it.each(BAD_DROP_IDS)("reserve() with a dropId %s gets INVALID_INPUT", async (_name, dropId) => {
    await invalid(() => reserveWith({ dropId }), "dropId");
  });

  it.each(BAD_USER_IDS)("reserve() with a userId %s gets INVALID_INPUT", async (_name, userId) => {
    await invalid(() => reserveWith({ userId }), "userId");
  });

  it.each(BAD_KEYS)(
    "reserve() with an idempotencyKey %s gets INVALID_INPUT",
    async (_name, idempotencyKey) => {
      await invalid(() => reserveWith({ idempotencyKey }), "idempotencyKey");
    },
  );

  it.each(BAD_DROP_IDS)(
    "status/restock/pause/resume/end/expireDue/unitsOfUser with a dropId %s get INVALID_INPUT",
    async (_name, dropId) => {
      const id = dropId as string;
      await invalid(() => engine.status(id), "");
      await invalid(() => engine.restock(id, 1), "");
      await invalid(() => engine.pause(id), "");
      await invalid(() => engine.resume(id), "");
      await invalid(() => engine.end(id), "");
      await invalid(() => engine.expireDue(id, 10), "");
      await invalid(() => engine.unitsOfUser(id, "seed-1"), "");
    },
  );

  it.each([
    ["empty", ""],
    ["without a sequence", "drop-1"],
    ["with sequence 0", "drop-1.0"],
    ["with a leading zero", "drop-1.01"],
    ["with a negative sequence", "drop-1.-1"],
    ["with a 17-digit sequence", `drop-1.${"9".repeat(17)}`],
    ["with a 65-character drop id", `${"d".repeat(65)}.1`],
    ["of 10 kB", `${"d".repeat(10_240)}.1`],
    ["with a space", "drop 1.1"],
    ["with '{'", "{drop}.1"],
    ["with '|'", "drop|x.1"],
    ["with a trailing newline", "drop-1.1\n"],
    ["with a newline", "drop\n1.1"],
    ["unicode", "dröp.1"],
    ["a number", 1.1],
  ])("confirm/release/reservation with a reservation id %s get INVALID_INPUT", async (_name, rid) => {
    const id = rid as string;
    await invalid(() => engine.confirm(id), "");
    await invalid(() => engine.release(id), "");
    await invalid(() => engine.reservation(id), "");
  });

  it("a held reservation id with a trailing newline does not confirm or release the hold", async () => {
    await invalid(() => engine.confirm(`${heldId}\n`), "");
    await invalid(() => engine.release(` ${heldId}`), "");
    await invalid(() => engine.confirm(`${heldId}|C`), "");
    expect((await engine.reservation(heldId)).status).toBe("held");
    expect((await engine.reservation(confirmedId)).status).toBe("confirmed");
  });
});

describe("reserve() with a malformed request object gets INVALID_INPUT and nothing changed", () => {
  it("an object with an extra field is refused (strict)", async () => {
    await invalid(() => reserveWith({ price: 0 }), "");
    await invalid(() => reserveWith({ reservationId: `${def.dropId}.1` }), "");
  });

  it.each([
    ["userId", { userId: undefined }],
    ["idempotencyKey", { idempotencyKey: undefined }],
    ["dropId", { dropId: undefined }],
  ])("a request without %s is refused", async (field, overrides) => {
    await invalid(() => reserveWith(overrides), field);
  });

  it.each([
    ["null", null],
    ["a string", "reserve"],
    ["an array", []],
  ])("a request that is %s is refused", async (_name, request) => {
    await invalid(() => engine.reserve(request as never), "");
  });
});

describe("createDrop() with a bad definition gets INVALID_INPUT and creates nothing", () => {
  const product = dropDefinition().product;
  // One clock reading: two Date.now() calls may differ and make "equal" unequal.
  const inAMinute = Date.now() + 60_000;
  const cases: [string, string, Record<string, unknown>][] = [
    ["a negative price", "product.priceMinor", { product: { ...product, priceMinor: -1 } }],
    ["a fractional price", "product.priceMinor", { product: { ...product, priceMinor: 12.5 } }],
    ["a price above the ceiling", "product.priceMinor", { product: { ...product, priceMinor: 1e13 } }],
    ["a NaN price", "product.priceMinor", { product: { ...product, priceMinor: Number.NaN } }],
    ['currency "usd"', "product.currency", { product: { ...product, currency: "usd" } }],
    ['currency "US"', "product.currency", { product: { ...product, currency: "US" } }],
    ['currency "USDT"', "product.currency", { product: { ...product, currency: "USDT" } }],
    [
      'imageUrl "javascript:alert(1)"',
      "product.imageUrl",
      { product: { ...product, imageUrl: "javascript:alert(1)" } },
    ],
    [
      "a data: imageUrl",
      "product.imageUrl",
      { product: { ...product, imageUrl: "data:text/html,<script>alert(1)</script>" } },
    ],
    [
      "an ftp imageUrl",
      "product.imageUrl",
      { product: { ...product, imageUrl: "ftp://cdn.example.com/a.jpg" } },
    ],
    [
      "an imageUrl that is not a URL",
      "product.imageUrl",
      { product: { ...product, imageUrl: "sneaker.jpg" } },
    ],
    [
      "an imageUrl over 2048 characters",
      "product.imageUrl",
      { product: { ...product, imageUrl: `https://cdn.example.com/${"a".repeat(2_048)}.jpg` } },
    ],
    ["a title of 201 characters", "product.title", { product: { ...product, title: "t".repeat(201) } }],
    ["a title of 10 kB", "product.title", { product: { ...product, title: "t".repeat(10_240) } }],
    ["an empty title", "product.title", { product: { ...product, title: "" } }],
    ["a title of only spaces", "product.title", { product: { ...product, title: "    " } }],
    ["a title with a control character", "product.title", { product: { ...product, title: "a\u0000b" } }],
    ["a title with a newline", "product.title", { product: { ...product, title: "a\nb" } }],
    ["a sku of 65 characters", "product.sku", { product: { ...product, sku: "s".repeat(65) } }],
    ["a sku of 10 kB", "product.sku", { product: { ...product, sku: "s".repeat(10_240) } }],
    ["a sku with '|'", "product.sku", { product: { ...product, sku: "SKU|1" } }],
    ["an unknown product field", "product", { product: { ...product, stock: 5 } }],
    ["no product", "product", { product: undefined }],
    ["an unknown top-level field", "", { soldOut: false }],
    ["a roomId of 10 kB", "roomId", { roomId: "r".repeat(10_240) }],
    ["a roomId with '{'", "roomId", { roomId: "room{1}" }],
    ["a dropId of 65 characters", "dropId", { dropId: "d".repeat(65) }],
    ["a dropId with a newline", "dropId", { dropId: "drop\n1" }],
    ["holdMs 999 (below 1000)", "holdMs", { holdMs: 999 }],
    ["holdMs 0", "holdMs", { holdMs: 0 }],
    ["holdMs -1000", "holdMs", { holdMs: -1_000 }],
    ["holdMs 1500.5", "holdMs", { holdMs: 1_500.5 }],
    ["holdMs above 24 h", "holdMs", { holdMs: 24 * 60 * 60 * 1000 + 1 }],
    ["initialStock -1", "initialStock", { initialStock: -1 }],
    ["initialStock 1.5", "initialStock", { initialStock: 1.5 }],
    ["initialStock above 10,000,000", "initialStock", { initialStock: 10_000_001 }],
    ["initialStock Infinity", "initialStock", { initialStock: Number.POSITIVE_INFINITY }],
    ['initialStock "10"', "initialStock", { initialStock: "10" }],
    ["perUserLimit 0", "perUserLimit", { perUserLimit: 0 }],
    ["perUserLimit 1001", "perUserLimit", { perUserLimit: 1_001 }],
    ["a negative startsAt", "startsAt", { startsAt: -1 }],
    ["a fractional startsAt", "startsAt", { startsAt: Date.now() + 0.5 }],
    ["endsAt equal to startsAt", "endsAt", { startsAt: inAMinute, endsAt: inAMinute }],
    ["endsAt before startsAt", "endsAt", { startsAt: inAMinute, endsAt: inAMinute - 30_000 }],
  ];

  it.each(cases)("a definition with %s gets INVALID_INPUT", async (_name, field, overrides) => {
    const bad = { ...dropDefinition(), ...overrides } as DropDefinition;
    await invalid(() => engine.createDrop(bad), field);
    if (typeof bad.dropId === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(bad.dropId)) {
      await expect(engine.status(bad.dropId)).rejects.toMatchObject({ code: "DROP_NOT_FOUND" });
      expect(await keysOfDrop(bad.dropId)).toEqual([]);
    }
  });

  it("endsAt in the past (no startsAt) gets INVALID_INPUT from the server clock check", async () => {
    const bad = dropDefinition({ endsAt: 1_000 });
    await refusedUnchanged(() => engine.createDrop(bad), ValidationError, "INVALID_INPUT", {
      reason: "INVALID_INPUT",
      dropId: bad.dropId,
    });
    await expect(engine.status(bad.dropId)).rejects.toMatchObject({ code: "DROP_NOT_FOUND" });
    expect(await engine.listDrops()).not.toContain(bad.dropId);
  });

  it("a bad definition reusing an existing drop id gets INVALID_INPUT and the drop is untouched", async () => {
    await invalid(() => engine.createDrop({ ...def, holdMs: 10 }), "holdMs");
    await invalid(
      () => engine.createDrop({ ...def, product: { ...def.product, currency: "eur" } }),
      "product",
    );
  });
});

describe("restock() with a bad quantity gets INVALID_INPUT and nothing changed", () => {
  it.each([
    ["0", 0],
    ["negative (-5)", -5],
    ["fractional (2.5)", 2.5],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["over 10,000,000", 10_000_001],
    ["huge (1e12)", 1e12],
    ['the string "5"', "5"],
  ])("restock qty %s gets INVALID_INPUT", async (_name, qty) => {
    await invalid(() => engine.restock(def.dropId, qty as number), "");
  });

  it("a restock past the 1,000,000,000 total ceiling gets STOCK_OVERFLOW and nothing changed", async () => {
    const big = dropDefinition({ initialStock: 10_000_000 });
    await engine.createDrop(big);
    for (let i = 0; i < 99; i++) await engine.restock(big.dropId, 10_000_000);
    const before = await snapshot(big.dropId);
    expect(before.status).toMatchObject({ initial: 10_000_000, restocked: 990_000_000 });
    await expect(engine.restock(big.dropId, 1)).rejects.toBeInstanceOf(RejectedError);
    await expect(engine.restock(big.dropId, 1)).rejects.toMatchObject({
      code: "STOCK_OVERFLOW",
      details: { dropId: big.dropId, maxRestock: 0 },
    });
    expect(await snapshot(big.dropId)).toEqual(before);
  });
});

describe("expireDue() with a bad batch size gets INVALID_INPUT and expires nothing", () => {
  const due = dropDefinition({ holdMs: 1_000 });
  let dueId: string;

  beforeAll(async () => {
    await engine.createDrop(due);
    dueId = (await engine.reserve({ dropId: due.dropId, userId: "u1", qty: 1, idempotencyKey: key() }))
      .reservationId;
    await new Promise((resolve) => setTimeout(resolve, 1_100));
  });

  it.each([
    ["0", 0],
    ["negative (-1)", -1],
    ["fractional (1.5)", 1.5],
    ["NaN", Number.NaN],
    ["above 10,000", 10_001],
    ['the string "10"', "10"],
  ])("batch %s gets INVALID_INPUT while a hold is due", async (_name, batch) => {
    const before = await snapshot(due.dropId);
    expect(before.holds).toBe(1);
    await invalid(() => engine.expireDue(due.dropId, batch as number), "");
    expect(await snapshot(due.dropId)).toEqual(before);
    expect((await engine.reservation(dueId)).status).toBe("held");
  });

  it("the hold really was due: a valid sweep of batch 1 expires it", async () => {
    expect((await engine.expireDue(due.dropId, 1)).expired).toEqual([dueId]);
    expect((await engine.reservation(dueId)).status).toBe("expired");
  });
});

describe("the busy drop is exactly as the set-up left it", () => {
  it("status, reservations and per-user units are unchanged by all the bad input above", async () => {
    const s = await engine.status(def.dropId);
    expect(s.sold).toBe(2);
    expect(s.held).toBe(1);
    expect(s.available + s.held + s.sold).toBe(s.initial + s.restocked);
    expect(await engine.reservation(heldId)).toMatchObject({ status: "held", userId: "seed-2", qty: 1 });
    expect(await engine.reservation(confirmedId)).toMatchObject({
      status: "confirmed",
      userId: "seed-1",
      qty: 2,
    });
    expect(await engine.unitsOfUser(def.dropId, "seed-1")).toBe(2);
    expect(await engine.unitsOfUser(def.dropId, "seed-2")).toBe(1);
  });
});
