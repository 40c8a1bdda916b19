import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorBodySchema } from "../../protocol/index.ts";
import { type GatewayStack, startGatewayStack } from "../harness/gateway.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

/**
 * Every API route answers what its protocol/ schema says: one successful call of each (in an
 * order where each finds what it needs), its body parsed with the schema the route registered.
 * A route without a response schema, or without a call here, fails the first test.
 */

const ROOM = "contract-room";
const DROP = "contract-drop";
/** A drop drawn before the calls run (a fair window of two seconds, one entry). */
const FAIR_DROP = "contract-fair-drop";
/** A buy-it-now drop: pinned, then unpinned. */
const BUY_NOW_DROP = "contract-buy-now";
/** An auction opened over the API, then bid on and read. */
const AUCTION = "contract-auction";
/** A drop with no stock (sold out from the start): it takes waitlist tickets. */
const SOLD_OUT_DROP = "contract-sold-out-drop";

let g: GatewayStack;
let host = "";
let viewer = "";
let admin = "";
/** Filled as the calls go: the hold the viewer placed. */
let reservationId = "";

interface Call {
  readonly method: string;
  readonly path: () => string;
  readonly token?: () => string;
  readonly body?: () => unknown;
  /** Retried until it answers 2xx (the order is written asynchronously). */
  readonly eventually?: boolean;
}

const { roomId: _room, ...dropFields } = dropDefinition({ dropId: DROP, roomId: ROOM, initialStock: 10 });

/** One call per route name, in the order they run. */
const CALLS: Record<string, Call> = {
  "token.guest": { method: "POST", path: () => "/api/v1/tokens/guest" },
  config: { method: "GET", path: () => "/api/v1/config" },
  "drop.create": {
    method: "POST",
    path: () => `/api/v1/rooms/${ROOM}/drops`,
    token: () => host,
    body: () => ({ ...dropFields, startsAt: Date.now() + 3_600_000 }),
  },
  "drop.get": { method: "GET", path: () => `/api/v1/drops/${DROP}` },
  "room.drops": { method: "GET", path: () => `/api/v1/rooms/${ROOM}/drops` },
  "drop.draw": { method: "GET", path: () => `/api/v1/drops/${FAIR_DROP}/draw` },
  "drop.me": { method: "GET", path: () => `/api/v1/drops/${FAIR_DROP}/me`, token: () => viewer },
  "room.delay": { method: "GET", path: () => `/api/v1/rooms/${ROOM}/delay`, token: () => host },
  "drop.launch": { method: "POST", path: () => `/api/v1/drops/${DROP}/launch`, token: () => host },
  buy: {
    method: "POST",
    path: () => `/api/v1/drops/${DROP}/buy`,
    token: () => viewer,
    body: () => ({ qty: 1, idempotencyKey: key() }),
  },
  waitlist: {
    method: "POST",
    path: () => `/api/v1/drops/${SOLD_OUT_DROP}/waitlist`,
    token: () => viewer,
    body: () => ({ qty: 1, idempotencyKey: key() }),
  },
  // The room is on air (DROP was launched): its coupon is claimable.
  "coupon.pin": {
    method: "POST",
    path: () => `/api/v1/rooms/${ROOM}/coupons`,
    token: () => host,
    body: () => ({
      code: "CONTRACT5",
      discount: { kind: "amount", amountMinor: 500, currency: "USD" },
      quota: 10,
    }),
  },
  "coupon.list": { method: "GET", path: () => `/api/v1/rooms/${ROOM}/coupons`, token: () => viewer },
  "coupon.claim": {
    method: "POST",
    path: () => `/api/v1/rooms/${ROOM}/coupons/CONTRACT5/claim`,
    token: () => viewer,
    body: () => ({ idempotencyKey: key() }),
  },
  "coupon.unpin": {
    method: "POST",
    path: () => `/api/v1/rooms/${ROOM}/coupons/CONTRACT5/unpin`,
    token: () => host,
  },
  "drop.pin": { method: "POST", path: () => `/api/v1/drops/${BUY_NOW_DROP}/pin`, token: () => host },
  "drop.unpin": { method: "POST", path: () => `/api/v1/drops/${BUY_NOW_DROP}/unpin`, token: () => host },
  "auction.open": {
    method: "POST",
    path: () => `/api/v1/rooms/${ROOM}/auctions`,
    token: () => host,
    body: () => ({
      dropId: AUCTION,
      product: dropFields.product,
      durationMs: 3_600_000,
      increments: [{ fromMinor: 0, stepMinor: 100 }],
      antiSnipeMs: 0,
      suddenDeath: true,
      holdMs: 60_000,
    }),
  },
  bid: {
    method: "POST",
    path: () => `/api/v1/drops/${AUCTION}/bids`,
    token: () => viewer,
    body: () => ({ maxMinor: dropFields.product.priceMinor + 500, idempotencyKey: key() }),
  },
  "auction.get": { method: "GET", path: () => `/api/v1/drops/${AUCTION}/auction` },
  "order.get": {
    method: "GET",
    path: () => `/api/v1/orders/${reservationId}`,
    token: () => viewer,
    eventually: true,
  },
  "order.pay": {
    method: "POST",
    path: () => `/api/v1/orders/${reservationId}/pay`,
    token: () => viewer,
    body: () => ({ token: "tok_success", idempotencyKey: key() }),
  },
  "drop.pause": { method: "POST", path: () => `/api/v1/drops/${DROP}/pause`, token: () => host },
  "drop.resume": { method: "POST", path: () => `/api/v1/drops/${DROP}/resume`, token: () => host },
  "drop.restock": {
    method: "POST",
    path: () => `/api/v1/drops/${DROP}/restock`,
    token: () => host,
    body: () => ({ qty: 5 }),
  },
  "drop.orders": { method: "GET", path: () => `/api/v1/drops/${DROP}/orders`, token: () => host },
  "insights.room": { method: "GET", path: () => `/api/v1/rooms/${ROOM}/stats`, token: () => host },
  "insights.ops": { method: "GET", path: () => "/api/v1/ops/overview", token: () => admin },
  "admin.shadow.get": { method: "GET", path: () => "/api/v1/admin/shadow", token: () => admin },
  "audit.read": { method: "GET", path: () => "/api/v1/admin/audit?limit=5", token: () => admin },
  "user.export": {
    method: "GET",
    path: () => "/api/v1/admin/users/contract-user/export",
    token: () => admin,
  },
  "user.erase": { method: "POST", path: () => "/api/v1/admin/users/contract-user/erase", token: () => admin },
  "admin.shadow.set": {
    method: "PUT",
    path: () => "/api/v1/admin/shadow",
    token: () => admin,
    body: () => ({ enabled: true }),
  },
  "admin.shadow.tokens": {
    method: "POST",
    path: () => "/api/v1/admin/shadow/tokens",
    token: () => admin,
    body: () => ({ role: "viewer", count: 2 }),
  },
  "drop.end": { method: "POST", path: () => `/api/v1/drops/${DROP}/end`, token: () => host },
  "report.room.hourly": {
    method: "GET",
    path: () => `/api/v1/rooms/${ROOM}/reports/hourly`,
    token: () => host,
  },
  "report.room.drops": {
    method: "GET",
    path: () => `/api/v1/rooms/${ROOM}/reports/drops`,
    token: () => host,
  },
  "report.room.summary": {
    method: "GET",
    path: () => `/api/v1/rooms/${ROOM}/reports/summary`,
    token: () => host,
  },
  "report.hourly": { method: "GET", path: () => "/api/v1/reports/hourly", token: () => admin },
  "report.drops": { method: "GET", path: () => "/api/v1/reports/drops", token: () => admin },
};

beforeAll(async () => {
  g = await startGatewayStack();
  host = await g.token("contract-host", "host", [ROOM]);
  viewer = await g.token("contract-viewer");
  admin = await g.token("contract-admin", "admin");
  const engine = g.stack.engine;
  await engine.createDrop(dropDefinition({ dropId: FAIR_DROP, roomId: ROOM, fairWindowMs: 2_000 }));
  await engine.buy({ dropId: FAIR_DROP, userId: "contract-entrant", qty: 1, idempotencyKey: key() });
  await engine.createDrop(dropDefinition({ dropId: SOLD_OUT_DROP, roomId: ROOM, initialStock: 0 }));
  await engine.createDrop(dropDefinition({ dropId: BUY_NOW_DROP, roomId: ROOM, format: "buy_now" }));
  // The order pipeline's sweeper allocates the window once it has passed.
  for (let tries = 0; (await engine.fairDraw(FAIR_DROP)) === null; tries++) {
    if (tries >= 200) throw new Error("the fair window was not allocated within 10 s");
    await new Promise((r) => setTimeout(r, 50));
  }
}, 120_000);

afterAll(async () => {
  await g?.stop();
});

async function send(c: Call): Promise<{ status: number; body: unknown }> {
  const body = c.body?.();
  const res = await fetch(`${g.server.url}${c.path()}`, {
    method: c.method,
    headers: {
      ...(c.token ? { authorization: `Bearer ${c.token()}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

describe("HTTP API contracts (protocol/ schemas)", () => {
  it("every route declares its response schema and has a call here", () => {
    const table = g.server.routeTable;
    expect(table.filter((r) => !r.response).map((r) => r.name)).toEqual([]);
    expect(table.map((r) => r.name).sort()).toEqual(Object.keys(CALLS).sort());
  });

  it("each route's successful answer parses with its schema", async () => {
    for (const [name, call] of Object.entries(CALLS)) {
      const rule = g.server.routeTable.find((r) => r.name === name);
      if (!rule?.response) throw new Error(`route ${name} has no response schema`);
      expect(rule.method, name).toBe(call.method);
      let answer = await send(call);
      for (let tries = 0; call.eventually && answer.status === 404 && tries < 100; tries++) {
        await new Promise((r) => setTimeout(r, 50));
        answer = await send(call);
      }
      expect(answer.status, `${name}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
      const parsed = rule.response.safeParse(answer.body);
      expect(parsed.success, `${name}: ${parsed.error?.message}`).toBe(true);
      if (name === "buy") reservationId = (answer.body as { reservationId: string }).reservationId;
    }
  });

  it("refusals carry the error body", async () => {
    const refused = await send({ method: "POST", path: () => `/api/v1/drops/${DROP}/buy`, body: () => ({}) });
    expect(refused.status).toBe(401);
    expect(errorBodySchema.safeParse(refused.body).success).toBe(true);
  });
});
