import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayServer } from "../../gateway/index.ts";
import { type GatewayStack, startGatewayStack } from "../harness/gateway.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

/**
 * The route × caller table: every API route the gateway registers, called by every kind of
 * caller (anonymous; viewer; moderator and host of this room and of another; admin; each of
 * those with the shadow claim; and again with shadow traffic switched off), must give the answer
 * written here. A route added without a row here fails the first test.
 */

type Role = "viewer" | "moderator" | "host" | "admin";
interface Caller {
  readonly name: string;
  readonly role?: Role;
  /** Rooms granted: "here" is the room the routes act on. */
  readonly rooms?: "here" | "other";
}
const CALLERS: readonly Caller[] = [
  { name: "anonymous" },
  { name: "viewer", role: "viewer" },
  { name: "moderator here", role: "moderator", rooms: "here" },
  { name: "moderator elsewhere", role: "moderator", rooms: "other" },
  { name: "host here", role: "host", rooms: "here" },
  { name: "host elsewhere", role: "host", rooms: "other" },
  { name: "admin", role: "admin" },
];

/** What a caller gets: let through (any answer but 401/403), or refused with this status and code. */
type Outcome = "allowed" | { status: 401 | 403; code: string };
const UNAUTHORIZED: Outcome = { status: 401, code: "UNAUTHORIZED" };
const FORBIDDEN: Outcome = { status: 403, code: "FORBIDDEN" };
const SHADOW_OFF: Outcome = { status: 403, code: "SHADOW_DISABLED" };

/** Access rules as a caller sees them (the expectations, written out, not read from the code). */
const anyone = (): Outcome => "allowed";
const signedIn = (c: Caller): Outcome => (c.role ? "allowed" : UNAUTHORIZED);
const hostHere = (c: Caller): Outcome =>
  !c.role
    ? UNAUTHORIZED
    : c.role === "admin" || (c.role === "host" && c.rooms === "here")
      ? "allowed"
      : FORBIDDEN;
const staffHere = (c: Caller): Outcome =>
  !c.role
    ? UNAUTHORIZED
    : c.role === "admin" || ((c.role === "host" || c.role === "moderator") && c.rooms === "here")
      ? "allowed"
      : FORBIDDEN;
const adminOnly = (c: Caller): Outcome =>
  !c.role ? UNAUTHORIZED : c.role === "admin" ? "allowed" : FORBIDDEN;

interface Row {
  /** How a live caller fares; shadow callers fare the same on lanes "any", FORBIDDEN on "live". */
  readonly live: (c: Caller) => Outcome;
  readonly lanes: "any" | "live";
  readonly path: (ids: Ids) => string;
  readonly body?: (ids: Ids) => unknown;
}
interface Ids {
  readonly room: string;
  /** A drop of the room in the caller's lane. */
  readonly drop: string;
}

const ROWS: Record<string, Row> = {
  "token.guest": { live: anyone, lanes: "any", path: () => "/api/v1/tokens/guest" },
  "drop.get": { live: anyone, lanes: "any", path: (i) => `/api/v1/drops/${i.drop}` },
  "room.drops": { live: anyone, lanes: "any", path: (i) => `/api/v1/rooms/${i.room}/drops` },
  "drop.draw": { live: anyone, lanes: "any", path: (i) => `/api/v1/drops/${i.drop}/draw` },
  "drop.me": { live: signedIn, lanes: "any", path: (i) => `/api/v1/drops/${i.drop}/me` },
  "room.delay": { live: staffHere, lanes: "any", path: (i) => `/api/v1/rooms/${i.room}/delay` },
  config: { live: anyone, lanes: "any", path: () => "/api/v1/config" },
  "drop.create": {
    live: hostHere,
    lanes: "any",
    path: (i) => `/api/v1/rooms/${i.room}/drops`,
    body: () => {
      const { roomId: _room, ...rest } = dropDefinition();
      return rest;
    },
  },
  "drop.launch": { live: hostHere, lanes: "any", path: (i) => `/api/v1/drops/${i.drop}/launch` },
  "drop.pause": { live: hostHere, lanes: "any", path: (i) => `/api/v1/drops/${i.drop}/pause` },
  "drop.resume": { live: hostHere, lanes: "any", path: (i) => `/api/v1/drops/${i.drop}/resume` },
  "drop.pin": { live: hostHere, lanes: "any", path: (i) => `/api/v1/drops/${i.drop}/pin` },
  "drop.unpin": { live: hostHere, lanes: "any", path: (i) => `/api/v1/drops/${i.drop}/unpin` },
  "drop.end": { live: hostHere, lanes: "any", path: (i) => `/api/v1/drops/${i.drop}/end` },
  "drop.restock": {
    live: hostHere,
    lanes: "any",
    path: (i) => `/api/v1/drops/${i.drop}/restock`,
    body: () => ({ qty: 1 }),
  },
  "drop.orders": { live: hostHere, lanes: "any", path: (i) => `/api/v1/drops/${i.drop}/orders` },
  buy: {
    live: signedIn,
    lanes: "any",
    path: (i) => `/api/v1/drops/${i.drop}/buy`,
    body: () => ({ qty: 1, idempotencyKey: key() }),
  },
  waitlist: {
    live: signedIn,
    lanes: "any",
    path: (i) => `/api/v1/drops/${i.drop}/waitlist`,
    body: () => ({ qty: 1, idempotencyKey: key() }),
  },
  "auction.open": {
    live: hostHere,
    lanes: "any",
    path: (i) => `/api/v1/rooms/${i.room}/auctions`,
    body: () => {
      const { dropId, product } = dropDefinition();
      return {
        dropId,
        product,
        durationMs: 60_000,
        increments: [{ fromMinor: 0, stepMinor: 100 }],
        antiSnipeMs: 0,
        suddenDeath: true,
        holdMs: 60_000,
      };
    },
  },
  bid: {
    live: signedIn,
    lanes: "any",
    path: (i) => `/api/v1/drops/${i.drop}/bids`,
    body: () => ({ maxMinor: 1_000, idempotencyKey: key() }),
  },
  "auction.get": { live: anyone, lanes: "any", path: (i) => `/api/v1/drops/${i.drop}/auction` },
  "coupon.pin": {
    live: hostHere,
    lanes: "any",
    path: (i) => `/api/v1/rooms/${i.room}/coupons`,
    body: () => ({ code: "ACC10", discount: { kind: "percent", percent: 10 }, quota: 1_000 }),
  },
  "coupon.unpin": {
    live: hostHere,
    lanes: "any",
    path: (i) => `/api/v1/rooms/${i.room}/coupons/ACC10/unpin`,
  },
  "coupon.list": { live: signedIn, lanes: "any", path: (i) => `/api/v1/rooms/${i.room}/coupons` },
  "coupon.claim": {
    live: signedIn,
    lanes: "any",
    path: (i) => `/api/v1/rooms/${i.room}/coupons/ACC10/claim`,
    body: () => ({ idempotencyKey: key() }),
  },
  "order.get": { live: signedIn, lanes: "any", path: (i) => `/api/v1/orders/${i.drop}.999` },
  "order.pay": {
    live: signedIn,
    lanes: "any",
    path: (i) => `/api/v1/orders/${i.drop}.999/pay`,
    body: () => ({ token: "tok_visa", idempotencyKey: key() }),
  },
  "admin.shadow.tokens": {
    live: adminOnly,
    lanes: "live",
    path: () => "/api/v1/admin/shadow/tokens",
    body: () => ({ role: "viewer", count: 1 }),
  },
  "admin.shadow.get": { live: adminOnly, lanes: "live", path: () => "/api/v1/admin/shadow" },
  // Setting the switch to what it already is: the table runs with it on, then off.
  "admin.shadow.set": { live: adminOnly, lanes: "live", path: () => "/api/v1/admin/shadow" },
  "insights.room": { live: hostHere, lanes: "live", path: (i) => `/api/v1/rooms/${i.room}/stats` },
  "insights.ops": { live: adminOnly, lanes: "live", path: () => "/api/v1/ops/overview" },
  "audit.read": { live: adminOnly, lanes: "live", path: () => "/api/v1/admin/audit" },
  "user.export": { live: adminOnly, lanes: "live", path: () => "/api/v1/admin/users/nobody-here/export" },
  "user.erase": { live: adminOnly, lanes: "live", path: () => "/api/v1/admin/users/nobody-here/erase" },
  "report.room.hourly": {
    live: hostHere,
    lanes: "any",
    path: (i) => `/api/v1/rooms/${i.room}/reports/hourly`,
  },
  "report.room.drops": { live: hostHere, lanes: "any", path: (i) => `/api/v1/rooms/${i.room}/reports/drops` },
  "report.room.summary": {
    live: hostHere,
    lanes: "any",
    path: (i) => `/api/v1/rooms/${i.room}/reports/summary`,
  },
  "report.hourly": { live: adminOnly, lanes: "any", path: () => "/api/v1/reports/hourly" },
  "report.drops": { live: adminOnly, lanes: "any", path: () => "/api/v1/reports/drops" },
};

let g: GatewayStack;
let server: GatewayServer;
const ROOM = "acc-room";
const liveIds: Ids = { room: ROOM, drop: "acc-live-drop" };
const shadowIds: Ids = { room: ROOM, drop: "acc-shadow-drop" };

beforeAll(async () => {
  g = await startGatewayStack({ shadow: true });
  // Generous limits: the table makes a few hundred calls from one address and a few users.
  server = await GatewayServer.create({
    ...g.options,
    limits: { guestTokenBurst: 10_000, apiAddressBurst: 10_000, apiUserBurst: 10_000 },
  });
  const shadow = g.options.shadow;
  if (!shadow) throw new Error("the table needs the shadow lane");
  await g.stack.engine.createDrop(dropDefinition({ dropId: liveIds.drop, roomId: ROOM }));
  await shadow.engine.createDrop(dropDefinition({ dropId: shadowIds.drop, roomId: ROOM }));
}, 120_000);

afterAll(async () => {
  await server?.close();
  await g?.stop();
});

async function tokenOf(c: Caller, shadow: boolean): Promise<string | undefined> {
  if (!c.role) return undefined;
  const rooms = c.rooms === "here" ? [ROOM] : c.rooms === "other" ? ["acc-elsewhere"] : [];
  return g.tokens.issue({
    userId: `acc-${c.name.replace(/ /g, "-")}${shadow ? "-lt" : ""}`,
    role: c.role,
    rooms,
    ttlSeconds: 600,
    shadow,
  });
}

async function call(name: string, row: Row, ids: Ids, token: string | undefined, switchOn: boolean) {
  const rule = server.routeTable.find((r) => r.name === name);
  if (!rule) throw new Error(`no route ${name}`);
  const body = name === "admin.shadow.set" ? { enabled: switchOn } : row.body ? row.body(ids) : undefined;
  const res = await fetch(`${server.url}${row.path(ids)}`, {
    method: rule.method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: json.error?.code };
}

function check(got: { status: number; code: string | undefined }, want: Outcome, where: string): void {
  if (want === "allowed") {
    expect([401, 403, 429], `${where}: ${got.status} ${got.code}`).not.toContain(got.status);
  } else {
    expect({ status: got.status, code: got.code }, where).toEqual(want);
  }
}

describe("every route × every caller × every lane", () => {
  it("every registered route has a row in the table, and every row a route", () => {
    const registered = server.routeTable.map((r) => r.name).sort();
    expect(registered).toEqual(Object.keys(ROWS).sort());
    for (const r of server.routeTable) expect(r.lanes, r.name).toBe(ROWS[r.name]?.lanes);
  });

  it("live callers get the role rule of each route", async () => {
    for (const [name, row] of Object.entries(ROWS))
      for (const c of CALLERS)
        check(
          await call(name, row, liveIds, await tokenOf(c, false), true),
          row.live(c),
          `${name} ${c.name}`,
        );
  });

  it("shadow callers get the same rule on routes of both lanes and FORBIDDEN on live-only ones", async () => {
    for (const [name, row] of Object.entries(ROWS))
      for (const c of CALLERS.filter((x) => x.role)) {
        const want = row.lanes === "live" ? FORBIDDEN : row.live(c);
        check(
          await call(name, row, shadowIds, await tokenOf(c, true), true),
          want,
          `${name} shadow ${c.name}`,
        );
      }
  });

  it("with shadow traffic switched off every shadow call is SHADOW_DISABLED, admins' too", async () => {
    await server.shadowSwitch.set(false);
    try {
      for (const [name, row] of Object.entries(ROWS))
        for (const c of CALLERS.filter((x) => x.role)) {
          check(
            await call(name, row, shadowIds, await tokenOf(c, true), false),
            SHADOW_OFF,
            `${name} shadow ${c.name}`,
          );
          // Live callers are untouched by the switch.
          check(
            await call(name, row, liveIds, await tokenOf(c, false), false),
            row.live(c),
            `${name} ${c.name}`,
          );
        }
    } finally {
      await server.shadowSwitch.set(true);
    }
  });
});
