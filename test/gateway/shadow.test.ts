import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServerFrame } from "../../protocol/index.ts";
import { type GatewayStack, startGatewayStack } from "../harness/gateway.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

let g: GatewayStack;
let admin: string;

beforeAll(async () => {
  g = await startGatewayStack({ shadow: true });
  admin = await g.token("ops-admin", "admin");
}, 120_000);

afterAll(async () => {
  await g?.stop();
});

async function api(method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(`${g.server.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the test reads whatever JSON the API answered
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function shadowTokens(role: "viewer" | "host", count: number, rooms: string[] = []): Promise<string[]> {
  const r = await api("POST", "/api/v1/admin/shadow/tokens", admin, { role, count, rooms });
  expect(r.status).toBe(201);
  return r.body.tokens as string[];
}

type Ack = Extract<ServerFrame, { t: "ack" }>;
type DropFrame = Extract<ServerFrame, { t: "drop" }>;
type StockFrame = Extract<ServerFrame, { t: "stock" }>;

describe("shadow (load-test) traffic", () => {
  it("only admins mint shadow tokens or flip the kill switch", async () => {
    const viewer = await g.token("plain-viewer");
    const host = await g.token("plain-host", "host", ["any"]);
    for (const t of [viewer, host]) {
      expect(
        (await api("POST", "/api/v1/admin/shadow/tokens", t, { role: "viewer", count: 1 })).body.error.code,
      ).toBe("FORBIDDEN");
      expect((await api("PUT", "/api/v1/admin/shadow", t, { enabled: false })).status).toBe(403);
    }
    expect(
      (await api("POST", "/api/v1/admin/shadow/tokens", undefined, { role: "viewer", count: 1 })).status,
    ).toBe(401);
    // Bad requests get 400 with the field named; an admin shadow token does not exist.
    expect(
      (await api("POST", "/api/v1/admin/shadow/tokens", admin, { role: "admin", count: 1 })).status,
    ).toBe(400);
    expect(
      (await api("POST", "/api/v1/admin/shadow/tokens", admin, { role: "viewer", count: 0 })).status,
    ).toBe(400);
    expect((await api("PUT", "/api/v1/admin/shadow", admin, { enabled: "no" })).status).toBe(400);
    expect((await api("GET", "/api/v1/admin/shadow", admin)).body).toEqual({ enabled: true, lane: true });
  });

  it("a shadow spike sells shadow stock only: the live drop's stock, orders and GMV are untouched; the kill switch stops shadow buys", async () => {
    const room = "spike-room";
    // The same drop id in both lanes: they are different drops in different key spaces.
    const live = dropDefinition({ roomId: room, initialStock: 10, perUserLimit: 1 });
    await g.stack.engine.createDrop(live);
    const liveBuyer = await g.token("real-buyer");
    const realHold = await api("POST", `/api/v1/drops/${live.dropId}/buy`, liveBuyer, {
      qty: 1,
      idempotencyKey: key(),
    });
    expect(realHold.status).toBe(201);
    await expect.poll(() => g.stack.store.count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    const liveOrdersBefore = await g.stack.store.list({ dropId: live.dropId });
    const liveStatusBefore = await g.stack.engine.status(live.dropId);
    const liveSummaryBefore = await g.stack.store.dropSummary(live.dropId);

    const [shadowHost] = await shadowTokens("host", 1, [room]);
    const { product, initialStock: _stock, roomId: _room, ...rest } = live;
    const created = await api("POST", `/api/v1/rooms/${room}/drops`, shadowHost, {
      ...rest,
      product,
      initialStock: 20,
      perUserLimit: 1,
    });
    expect(created.status).toBe(201);
    expect(created.body.drop.initial).toBe(20);

    // A live viewer and shadow viewers in the same room: each sees its own lane's drop only.
    const liveViewer = await TestSocket.connect(g.server.url, await g.token("live-watcher"));
    liveViewer.send({ t: "join", room });
    const liveJoined = await liveViewer.next<Extract<ServerFrame, { t: "joined" }>>((f) => f.t === "joined");
    expect(liveJoined.drops.map((d) => d.available)).toEqual([9]);

    const buyers = await Promise.all(
      (await shadowTokens("viewer", 40)).map((t) => TestSocket.connect(g.server.url, t)),
    );
    for (const b of buyers) b.send({ t: "join", room });
    const joined = await Promise.all(
      buyers.map((b) => b.next<Extract<ServerFrame, { t: "joined" }>>((f) => f.t === "joined")),
    );
    for (const j of joined) expect(j.drops.map((d) => d.available)).toEqual([20]);

    // Everyone buys at once: 40 shadow buyers, 20 shadow units.
    const acks = await Promise.all(
      buyers.map(async (b, i) => {
        b.send({ t: "buy", reqId: `r${i}`, dropId: live.dropId, qty: 1, idempotencyKey: key() });
        return b.next<Ack>((f) => f.t === "ack" && f.reqId === `r${i}`);
      }),
    );
    const held = acks.filter((a) => a.ok);
    expect(held).toHaveLength(20);
    expect(acks.filter((a) => !a.ok).every((a) => !a.ok && a.code === "SOLD_OUT")).toBe(true);

    // Every acknowledged shadow hold becomes a shadow order (audit endpoint, shadow host token).
    await expect
      .poll(
        async () => (await api("GET", `/api/v1/drops/${live.dropId}/orders`, shadowHost)).body.orders?.length,
        {
          timeout: 15_000,
        },
      )
      .toBe(20);
    // The audit pages: 20 orders at 7 a page are 3 pages, each order once, in reservation-id order.
    const paged: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const query: string = after === null ? "?limit=7" : `?limit=7&after=${encodeURIComponent(after)}`;
      const page = await api("GET", `/api/v1/drops/${live.dropId}/orders${query}`, shadowHost);
      expect(page.status).toBe(200);
      paged.push(...page.body.orders.map((o: { reservationId: string }) => o.reservationId));
      expect(page.body.truncated).toBe(page.body.next !== null);
      after = page.body.next;
      pages++;
    } while (after !== null && pages < 10);
    expect(pages).toBe(3);
    expect(paged).toEqual([...paged].sort());
    expect(new Set(paged)).toEqual(
      new Set(held.map((a) => (a.ok && a.result.kind === "buy" ? a.result.reservationId : ""))),
    );
    // Bad paging input is 400 INVALID_INPUT.
    for (const query of ["?limit=0", "?limit=501", "?limit=ten", "?after=bad%20id", "?colour=red"]) {
      const bad = await api("GET", `/api/v1/drops/${live.dropId}/orders${query}`, shadowHost);
      expect([query, bad.status, bad.body.error?.code]).toEqual([query, 400, "INVALID_INPUT"]);
    }

    // A shadow buyer pays in the sandbox: its order is paid in the shadow lane.
    const payer = buyers[acks.indexOf(held[0]!)]!;
    const reservationId = held[0]!.ok && held[0]!.result.kind === "buy" ? held[0]!.result.reservationId : "";
    payer.send({ t: "pay", reqId: "pay1", reservationId, token: "tok_success", idempotencyKey: key() });
    const paid = await payer.next<Ack>((f) => f.t === "ack" && f.reqId === "pay1");
    expect(paid.ok).toBe(true);
    await payer.next(
      (f) => f.t === "order" && f.reservationId === reservationId && f.status === "paid",
      10_000,
    );

    // The live lane saw none of it: stock, orders, GMV, and the live viewer's frames.
    const liveStatusAfter = await g.stack.engine.status(live.dropId);
    expect({ ...liveStatusAfter, serverTime: 0 }).toEqual({ ...liveStatusBefore, serverTime: 0 });
    expect(await g.stack.store.list({ dropId: live.dropId })).toEqual(liveOrdersBefore);
    expect(await g.stack.store.dropSummary(live.dropId)).toEqual(liveSummaryBefore);
    expect((await g.stack.store.list({ dropId: live.dropId })).some((o) => o.userId.startsWith("lt-"))).toBe(
      false,
    );
    // The live viewer may get the live drop's own frames, never a shadow one. The node may append
    // the live drop's creation and hold to the room log after the viewer's snapshot (v2) was read:
    // those come with their older versions (v1, v2), which a client ignores. Every count it saw is
    // one of the live drop's versions: 10 units in all, at most the one real hold.
    const liveOnly = (c: { available: number; held: number; sold: number; v: number }) =>
      c.available + c.held + c.sold === 10 && c.held <= 1 && c.sold === 0 && c.v <= liveStatusBefore.version;
    const liveDropFrames = liveViewer.frames.filter((f): f is DropFrame => f.t === "drop");
    for (const f of liveDropFrames) expect(liveOnly(f.drop), JSON.stringify(f.drop)).toBe(true);
    const stock = liveViewer.frames.filter((f): f is StockFrame => f.t === "stock");
    for (const f of stock) expect(liveOnly(f) && f.dropId === live.dropId, JSON.stringify(f)).toBe(true);
    expect(liveJoined.drops[0]).toMatchObject({
      available: 9,
      held: 1,
      sold: 0,
      v: liveStatusBefore.version,
    });
    // Likewise a toast, if any, is the real buyer's (the live hold), never a shadow buyer's.
    const toasts = liveViewer.frames.filter((f) => f.t === "toast");
    expect(toasts.length).toBeLessThanOrEqual(1);
    // Rooms see a masked hint of the buyer: "re***" for real-buyer (shadow buyers are lt-…).
    for (const f of toasts) expect(f).toMatchObject({ dropId: live.dropId, buyer: "re***", qty: 1 });
    // The live audit of the same drop id lists the one real order only.
    const liveHost = await g.token("real-host", "host", [room]);
    const liveAudit = await api("GET", `/api/v1/drops/${live.dropId}/orders`, liveHost);
    expect(liveAudit.body.orders.map((o: { reservationId: string }) => o.reservationId)).toEqual([
      realHold.body.reservationId,
    ]);

    // Kill switch: every shadow request is refused at once; live traffic goes on.
    expect((await api("PUT", "/api/v1/admin/shadow", admin, { enabled: false })).body.enabled).toBe(false);
    const late = buyers[39]!;
    late.send({ t: "buy", reqId: "late", dropId: live.dropId, qty: 1, idempotencyKey: key() });
    const refused = await late.next((f) => f.t === "error" && f.reqId === "late");
    expect(refused).toMatchObject({ code: "SHADOW_DISABLED" });
    const [lateToken] = await shadowTokens("viewer", 1);
    const httpBuy = await api("POST", `/api/v1/drops/${live.dropId}/buy`, lateToken, {
      qty: 1,
      idempotencyKey: key(),
    });
    expect(httpBuy).toMatchObject({ status: 403, body: { error: { code: "SHADOW_DISABLED" } } });
    await expect(TestSocket.connect(g.server.url, lateToken!)).rejects.toThrow("upgrade refused: 403");
    const liveAgain = await api("POST", `/api/v1/drops/${live.dropId}/buy`, await g.token("real-buyer-2"), {
      qty: 1,
      idempotencyKey: key(),
    });
    expect(liveAgain.status).toBe(201);
    expect((await api("PUT", "/api/v1/admin/shadow", admin, { enabled: true })).body.enabled).toBe(true);

    for (const s of [liveViewer, ...buyers]) s.close();
  }, 120_000);
});
