import { describe, expect, it } from "vitest";
import { auctionsOf } from "../../gateway/commands/index.ts";
import type { AuctionViewResponse, ServerFrame, ServerFrameOf } from "../../protocol/index.ts";
import { useGatewayStack } from "../harness/gateway.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition, key, until } from "../sale-engine/fixtures.ts";

const g = useGatewayStack();

type Ack = ServerFrameOf<"ack">;
type AuctionFrame = ServerFrameOf<"auction">;

async function joined(userId: string, room: string): Promise<TestSocket> {
  const socket = await TestSocket.connect(g().server.url, await g().token(userId));
  socket.send({ t: "join", room });
  await socket.next((f) => f.t === "joined" && f.room === room);
  return socket;
}

async function api(path: string, token: string | undefined, body?: unknown) {
  const res = await fetch(`${g().server.url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

function bidOver(s: TestSocket, reqId: string, dropId: string, maxMinor: number): Promise<Ack> {
  s.send({ t: "bid", reqId, dropId, maxMinor, idempotencyKey: key() });
  return s.next<Ack>((f: ServerFrame) => f.t === "ack" && f.reqId === reqId);
}

describe("auctions through the gateway", () => {
  it("two viewers bid over WebSocket and one over HTTP; the room sees the standing and the end; the winner gets a hold at the winning price", async () => {
    const room = "auction-room";
    const { dropId, product } = dropDefinition({ roomId: room });
    const host = await g().token("auction-host", "host", [room]);
    const [alice, bob, watcher] = await Promise.all([
      joined("bidder-alice", room),
      joined("bidder-bob", room),
      joined("auction-watcher", room),
    ]);
    // Ends 6 s from now (server clock): the shortest bidding time is 10 s, so it started earlier.
    const endsIn = 6_000;
    const durationMs = 10_000;
    const opened = await api(`/api/v1/rooms/${room}/auctions`, host, {
      dropId,
      product: { ...product, priceMinor: 1_000 },
      startsAt: (await g().stack.engine.serverTime()) - durationMs + endsIn,
      durationMs,
      increments: [{ fromMinor: 0, stepMinor: 100 }],
      antiSnipeMs: 0,
      suddenDeath: true,
      holdMs: 60_000,
    });
    expect(opened.status).toBe(201);
    expect(opened.json).toMatchObject({ opened: true, auction: { state: "live", priceMinor: 1_000 } });

    expect(await bidOver(alice, "a1", dropId, 1_500)).toMatchObject({
      ok: true,
      result: { kind: "bid", leading: true, priceMinor: 1_000, bids: 1 },
    });
    expect(await bidOver(bob, "b1", dropId, 2_000)).toMatchObject({
      ok: true,
      result: { kind: "bid", leading: true, priceMinor: 1_600, bids: 2 },
    });
    // A bid below the next acceptable one is refused with a typed code.
    expect(await bidOver(alice, "a2", dropId, 1_200)).toMatchObject({ ok: false, code: "BID_TOO_LOW" });

    const carol = await g().token("bidder-carol");
    const overHttp = await api(`/api/v1/drops/${dropId}/bids`, carol, {
      maxMinor: 1_800,
      idempotencyKey: key(),
    });
    expect(overHttp.status).toBe(201);
    expect(overHttp.json).toMatchObject({ leading: false, priceMinor: 1_900, bids: 3, minNextMinor: 2_000 });
    const low = await api(`/api/v1/drops/${dropId}/bids`, carol, { maxMinor: 100, idempotencyKey: key() });
    expect(low.status).toBe(409);
    expect(low.json).toMatchObject({ error: { code: "BID_TOO_LOW", details: { minMinor: 2_000 } } });

    // The public view: bob leads, masked; the history, newest first, masks every bidder.
    const view = (await api(`/api/v1/drops/${dropId}/auction`, undefined)).json as AuctionViewResponse;
    expect(view.auction).toMatchObject({ state: "live", priceMinor: 1_900, bids: 3 });
    const bobMask = view.auction.leader;
    expect(bobMask).toEqual(expect.any(String));
    expect(bobMask).not.toContain("bob");
    expect(view.history.map((h) => h.priceMinor)).toEqual([1_900, 1_600, 1_000]);
    const newest = (await api(`/api/v1/drops/${dropId}/auction?limit=1`, undefined))
      .json as AuctionViewResponse;
    expect(newest.history).toEqual(view.history.slice(0, 1));
    for (const h of view.history) {
      expect(h.user).not.toMatch(/alice|bob|carol/);
      expect(h).not.toHaveProperty("maxMinor");
    }

    // The room's frames are coalesced, but the newest standing always arrives.
    const last = await watcher.next<AuctionFrame>(
      (f) => f.t === "auction" && f.dropId === dropId && f.bids === 3,
    );
    expect(last).toMatchObject({ leader: bobMask, priceMinor: 1_900, endsAt: view.auction.endsAt });
    expect(last.extended).toBe(false);

    // After the end the auction settles (the worker's pass; settle is idempotent).
    const auctions = await auctionsOf(g().stack.engine);
    const settle = await until(async () => {
      const r = await auctions.settle(dropId);
      return r.settled ? r : undefined;
    }, 30_000);
    expect(settle).toMatchObject({ winner: "bidder-bob", priceMinor: 1_900, reserveMet: true });
    const ended = await watcher.next<ServerFrameOf<"auctionEnded">>(
      (f) => f.t === "auctionEnded" && f.dropId === dropId,
    );
    expect(ended).toMatchObject({ winner: bobMask, priceMinor: 1_900, reserveMet: true });
    // The winner hears their hold, at their price, on their socket.
    const hold = await bob.next<ServerFrameOf<"auctionHold">>(
      (f) => f.t === "auctionHold" && f.dropId === dropId,
    );
    expect(hold).toMatchObject({ priceMinor: 1_900, reservationId: settle.reservationId });
    expect(hold.deadline).toBeGreaterThan(Date.now());
    expect(alice.frames.some((f) => f.t === "auctionHold")).toBe(false);
    // A page that was away when it settled reads the same hold over HTTP; the loser has none.
    const bobMe = await api(`/api/v1/drops/${dropId}/me`, await g().token("bidder-bob"));
    expect(bobMe.json.auctionHold).toEqual({
      reservationId: hold.reservationId,
      priceMinor: 1_900,
      deadline: hold.deadline,
    });
    const aliceMe = await api(`/api/v1/drops/${dropId}/me`, await g().token("bidder-alice"));
    expect(aliceMe.json.auctionHold).toBeNull();
    // Its order, through the same pipeline as any hold, is priced at the winning bid.
    const order = await until(async () => (await g().stack.store.get(hold.reservationId)) ?? undefined);
    expect(order).toMatchObject({ userId: "bidder-bob", totalMinor: 1_900, qty: 1 });
    bob.send({
      t: "pay",
      reqId: "pay",
      reservationId: hold.reservationId,
      token: "tok_success",
      idempotencyKey: key(),
    });
    expect(await bob.next((f) => f.t === "ack" && f.reqId === "pay")).toMatchObject({
      ok: true,
      result: { kind: "pay", status: "paid", totalMinor: 1_900 },
    });
    expect(await bidOver(alice, "a3", dropId, 5_000)).toMatchObject({ ok: false, code: "AUCTION_ENDED" });
    // Paid: nothing is left to restore.
    expect(
      (await api(`/api/v1/drops/${dropId}/me`, await g().token("bidder-bob"))).json.auctionHold,
    ).toBeNull();
    for (const s of [alice, bob, watcher]) s.close();
  });

  it("a winner who lets the hold go hands the unit to the runner-up, who hears it at their own highest bid", async () => {
    const room = "auction-room-3";
    const { dropId, product } = dropDefinition({ roomId: room });
    const [ann, ben] = await Promise.all([joined("runner-ann", room), joined("runner-ben", room)]);
    const auctions = await auctionsOf(g().stack.engine);
    await auctions.open({
      dropId,
      roomId: room,
      product: { ...product, priceMinor: 2_000 },
      startsAt: (await g().stack.engine.serverTime()) - 10_000 + 3_000,
      durationMs: 10_000,
      increments: [{ fromMinor: 0, stepMinor: 200 }],
      antiSnipeMs: 0,
      suddenDeath: true,
      holdMs: 60_000,
    });
    expect(await bidOver(ann, "a1", dropId, 5_000)).toMatchObject({ ok: true });
    expect(await bidOver(ben, "b1", dropId, 3_000)).toMatchObject({ ok: true, result: { leading: false } });
    const won = await until(async () => {
      const r = await auctions.settle(dropId);
      return r.settled ? r : undefined;
    }, 30_000);
    expect(won).toMatchObject({ winner: "runner-ann", priceMinor: 3_200, runnerUps: 1 });
    await ann.next((f) => f.t === "auctionHold" && f.dropId === dropId && f.priceMinor === 3_200);

    await g().stack.engine.release(won.reservationId ?? "");
    const handed = await ben.next<ServerFrameOf<"auctionHold">>(
      (f) => f.t === "auctionHold" && f.dropId === dropId,
    );
    expect(handed.priceMinor).toBe(3_000);
    expect(handed.reservationId).not.toBe(won.reservationId);
    // One frame for one hold: no list-price `offer` beside it (it would go out first).
    expect(ben.frames.some((f) => f.t === "offer")).toBe(false);
    ann.close();
    ben.close();
  });

  it("an unknown auction is 404 AUCTION_NOT_FOUND; a viewer may not open one", async () => {
    const missing = await api("/api/v1/drops/no-such-auction/auction", undefined);
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ error: { code: "AUCTION_NOT_FOUND" } });
    const viewer = await g().token("auction-viewer");
    const { dropId, product } = dropDefinition();
    const refused = await api("/api/v1/rooms/auction-room-2/auctions", viewer, {
      dropId,
      product,
      durationMs: 60_000,
      increments: [{ fromMinor: 0, stepMinor: 100 }],
      antiSnipeMs: 0,
      suddenDeath: true,
      holdMs: 60_000,
    });
    expect(refused.status).toBe(403);
    // A host's malformed definition is a typed 400.
    const host = await g().token("auction-host-2", "host", ["auction-room-2"]);
    const bad = await api("/api/v1/rooms/auction-room-2/auctions", host, { dropId: "x-1", durationMs: 5 });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: { code: "INVALID_INPUT" } });
  });
});
