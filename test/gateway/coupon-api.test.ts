import { describe, expect, it } from "vitest";
import type { CouponStatus, ServerFrame, ServerFrameOf } from "../../protocol/index.ts";
import { useGatewayStack } from "../harness/gateway.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition, key, until } from "../sale-engine/fixtures.ts";

const g = useGatewayStack();

type Ack = ServerFrameOf<"ack">;
type CouponFrame = ServerFrameOf<"coupon">;

async function joined(userId: string, room: string): Promise<{ socket: TestSocket; joined: ServerFrame }> {
  const socket = await TestSocket.connect(g().server.url, await g().token(userId));
  socket.send({ t: "join", room });
  const frame = await socket.next((f) => f.t === "joined" && f.room === room);
  return { socket, joined: frame };
}

async function api(path: string, token: string | undefined, body?: unknown, method?: string) {
  const res = await fetch(`${g().server.url}${path}`, {
    method: method ?? (body === undefined ? "GET" : "POST"),
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

function claimOver(s: TestSocket, reqId: string, room: string, code: string, idempotencyKey = key()) {
  s.send({ t: "coupon", reqId, room, code, idempotencyKey });
  return s.next<Ack>((f) => f.t === "ack" && f.reqId === reqId);
}

/** A live drop in the room: what makes the gateway count the room as on air. */
async function onAir(room: string, priceMinor = 10_000) {
  const d = dropDefinition({ roomId: room });
  const def = { ...d, product: { ...d.product, priceMinor } };
  await g().stack.engine.createDrop(def);
  return def;
}

describe("coupons through the gateway", () => {
  it("a host pins over HTTP; the room hears it; viewers list and claim over WebSocket and HTTP, retries replay, the quota refuses typed; a late joiner's snapshot has it", async () => {
    const room = "coupon-room";
    await onAir(room);
    const host = await g().token("coupon-host", "host", [room]);
    const watcher = await joined("coupon-watcher", room);

    const pinned = await api(`/api/v1/rooms/${room}/coupons`, host, {
      code: "LIVE10",
      discount: { kind: "percent", percent: 10 },
      quota: 2,
    });
    expect(pinned.status).toBe(200);
    expect(pinned.json).toEqual({
      coupon: {
        couponId: `${room}.LIVE10`,
        roomId: room,
        code: "LIVE10",
        discount: { kind: "percent", percent: 10 },
        minOrderMinor: 0,
        quota: 2,
        perBuyer: 1,
        validUntil: null,
        pinned: true,
        claimed: 0,
        redeemed: 0,
      },
    });
    const frame = await watcher.socket.next<CouponFrame>((f) => f.t === "coupon" && f.room === room);
    expect(frame.coupon).toEqual(pinned.json.coupon);

    const viewer = await g().token("coupon-lister");
    const listed = await api(`/api/v1/rooms/${room}/coupons`, viewer);
    expect(listed).toEqual({ status: 200, json: { coupons: [pinned.json.coupon] } });
    expect((await api(`/api/v1/rooms/${room}/coupons`, undefined)).status).toBe(401);

    // Over WebSocket: a claim, and its retry with the same key answering the same claim.
    const k = key();
    const first = await claimOver(watcher.socket, "c1", room, "LIVE10", k);
    expect(first).toMatchObject({
      ok: true,
      result: { kind: "coupon", couponId: `${room}.LIVE10`, replayed: false },
    });
    const again = await claimOver(watcher.socket, "c2", room, "LIVE10", k);
    expect(again).toEqual({
      ...first,
      reqId: "c2",
      result: { ...(first as { result: object }).result, replayed: true },
    });
    // A second claim of the same buyer passes the per-buyer quota: typed refusal.
    expect(await claimOver(watcher.socket, "c3", room, "LIVE10")).toMatchObject({
      ok: false,
      code: "COUPON_LIMIT_REACHED",
    });

    // Over HTTP: the last claim of the quota, its replay, then the quota is used up.
    const hk = key();
    const overHttp = await api(`/api/v1/rooms/${room}/coupons/LIVE10/claim`, viewer, { idempotencyKey: hk });
    expect(overHttp.status).toBe(200);
    expect(overHttp.json).toMatchObject({
      claim: { couponId: `${room}.LIVE10`, userId: "coupon-lister", replayed: false },
    });
    const replay = await api(`/api/v1/rooms/${room}/coupons/LIVE10/claim`, viewer, { idempotencyKey: hk });
    expect(replay.json).toEqual({
      claim: { ...(overHttp.json.claim as object), replayed: true },
    });
    const third = await g().token("coupon-late");
    const exhausted = await api(`/api/v1/rooms/${room}/coupons/LIVE10/claim`, third, {
      idempotencyKey: key(),
    });
    expect(exhausted.status).toBe(409);
    expect(exhausted.json).toMatchObject({ error: { code: "COUPON_EXHAUSTED" } });
    const unknown = await api(`/api/v1/rooms/${room}/coupons/NOPE1/claim`, third, { idempotencyKey: key() });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ error: { code: "COUPON_NOT_FOUND" } });

    // A late joiner's snapshot carries the pinned coupon with its counts now.
    const late = await joined("coupon-late-joiner", room);
    expect(late.joined).toMatchObject({
      coupons: [{ code: "LIVE10", pinned: true, claimed: 2, quota: 2 }],
    });

    // Unpinned: the room hears it, the list and the next snapshot leave it out.
    const unpinned = await api(`/api/v1/rooms/${room}/coupons/LIVE10/unpin`, host, undefined, "POST");
    expect(unpinned.status).toBe(200);
    expect(unpinned.json).toMatchObject({ coupon: { code: "LIVE10", pinned: false, claimed: 2 } });
    const off = await late.socket.next<CouponFrame>((f) => f.t === "coupon" && !f.coupon.pinned);
    expect(off.coupon).toEqual(unpinned.json.coupon);
    expect((await api(`/api/v1/rooms/${room}/coupons`, viewer)).json).toEqual({ coupons: [] });
    const after = await joined("coupon-after-unpin", room);
    expect(after.joined).toMatchObject({ coupons: [] });
    for (const s of [watcher, late, after]) s.socket.close();
  });

  it("only a host of the room pins or unpins (403); bad terms are a typed 400; a room off air refuses claims", async () => {
    const room = "coupon-room-2";
    const terms = {
      code: "SAVE5",
      discount: { kind: "amount", amountMinor: 500, currency: "USD" },
      quota: 5,
    };
    const viewer = await g().token("coupon-viewer-2");
    const otherHost = await g().token("coupon-other-host", "host", ["elsewhere"]);
    for (const token of [viewer, otherHost]) {
      const refused = await api(`/api/v1/rooms/${room}/coupons`, token, terms);
      expect(refused.status).toBe(403);
      expect(refused.json).toMatchObject({ error: { code: "FORBIDDEN" } });
    }
    const host = await g().token("coupon-host-2", "host", [room]);
    const bad = await api(`/api/v1/rooms/${room}/coupons`, host, { ...terms, quota: 0 });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: { code: "INVALID_INPUT" } });
    expect((await api(`/api/v1/rooms/${room}/coupons`, host, terms)).status).toBe(200);
    expect((await api(`/api/v1/rooms/${room}/coupons/SAVE5/unpin`, viewer, undefined, "POST")).status).toBe(
      403,
    );
    // No drop under way in the room: it is not on air, so the coupon is not claimable.
    const offAir = await api(`/api/v1/rooms/${room}/coupons/SAVE5/claim`, viewer, { idempotencyKey: key() });
    expect(offAir.status).toBe(409);
    expect(offAir.json).toMatchObject({ error: { code: "COUPON_NOT_ACTIVE" } });
    const missing = await api(`/api/v1/rooms/${room}/coupons/NOPE1/unpin`, host, undefined, "POST");
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ error: { code: "COUPON_NOT_FOUND" } });
  });

  it("a viewer who resumes after a pin it missed gets the coupon frame from the room log", async () => {
    const room = "coupon-room-4";
    const host = await g().token("coupon-host-4", "host", [room]);
    const terms = (code: string) => ({ code, discount: { kind: "percent", percent: 5 }, quota: 3 });
    // The first pin makes the room's log, so the join below has an epoch to resume from.
    expect((await api(`/api/v1/rooms/${room}/coupons`, host, terms("FIRST"))).status).toBe(200);
    const first = await joined("coupon-resumer", room);
    if (first.joined.t !== "joined") throw new Error("no joined frame");
    expect(first.joined.coupons?.map((c) => c.code)).toEqual(["FIRST"]);
    first.socket.close();

    expect((await api(`/api/v1/rooms/${room}/coupons`, host, terms("SECOND"))).status).toBe(200);
    const back = await TestSocket.connect(g().server.url, await g().token("coupon-resumer"));
    back.send({ t: "resume", room, epoch: first.joined.epoch, offset: first.joined.offset });
    await back.next((f) => f.t === "resumed" && f.room === room);
    const replayed = back.frames.filter((f): f is CouponFrame => f.t === "coupon");
    expect(replayed.map((f) => [f.coupon.code, f.coupon.pinned])).toEqual([["SECOND", true]]);
    back.close();
  });

  it("a viewer pays a hold with its claim over WebSocket: the ack says what the coupon took off and what was paid", async () => {
    const room = "coupon-room-3";
    const drop = await onAir(room, 10_000);
    const host = await g().token("coupon-host-3", "host", [room]);
    const pin = { code: "TAKE15", discount: { kind: "percent", percent: 15 }, quota: 10 };
    expect((await api(`/api/v1/rooms/${room}/coupons`, host, pin)).status).toBe(200);
    const buyer = await joined("coupon-buyer", room);
    const claim = await claimOver(buyer.socket, "c1", room, "TAKE15");
    if (!claim.ok || claim.result.kind !== "coupon") throw new Error(`no claim: ${JSON.stringify(claim)}`);

    buyer.socket.send({ t: "buy", reqId: "b1", dropId: drop.dropId, qty: 2, idempotencyKey: key() });
    const bought = await buyer.socket.next<Ack>((f) => f.t === "ack" && f.reqId === "b1");
    if (!bought.ok || bought.result.kind !== "buy") throw new Error(`no hold: ${JSON.stringify(bought)}`);
    const reservationId = bought.result.reservationId;
    await until(async () => (await g().stack.store.get(reservationId)) ?? undefined);

    buyer.socket.send({
      t: "pay",
      reqId: "p1",
      reservationId,
      token: "tok_success",
      idempotencyKey: key(),
      couponClaimId: claim.result.claimId,
    });
    expect(await buyer.socket.next<Ack>((f) => f.t === "ack" && f.reqId === "p1")).toMatchObject({
      ok: true,
      result: { kind: "pay", status: "paid", totalMinor: 20_000, discountMinor: 3_000, paidMinor: 17_000 },
    });
    expect(await g().stack.store.get(reservationId)).toMatchObject({
      couponId: `${room}.TAKE15`,
      discountMinor: 3_000,
      paidMinor: 17_000,
    });
    const status = (await api(`/api/v1/rooms/${room}/coupons`, host)).json.coupons as CouponStatus[];
    expect(status[0]).toMatchObject({ code: "TAKE15", claimed: 1, redeemed: 1 });
    buyer.socket.close();
  });
});
