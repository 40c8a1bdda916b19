import { afterAll, describe, expect, it } from "vitest";
import { GatewayServer } from "../../gateway/index.ts";
import { type RoomDelayResponse, roomDelayResponseSchema, type ServerFrame } from "../../protocol/index.ts";
import { type DropStatus, SaleEngine } from "../../sale-engine/index.ts";
import { useGatewayStack } from "../harness/gateway.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition } from "../sale-engine/fixtures.ts";

const stack = useGatewayStack();
const opened: TestSocket[] = [];
const extra: { server?: GatewayServer; engine?: SaleEngine } = {};

afterAll(async () => {
  for (const s of opened) s.close();
  await extra.server?.close();
  await extra.engine?.close();
});

/** A viewer socket on `url` that joined `room`. */
async function viewerIn(url: string, room: string, userId: string): Promise<TestSocket> {
  const s = await TestSocket.connect(url, await stack().token(userId));
  opened.push(s);
  s.send({ t: "join", room });
  await s.next((f) => f.t === "joined" && f.room === room);
  return s;
}

async function delayOf(url: string, room: string, token: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}/api/v1/rooms/${room}/delay`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: await res.json() };
}

/** Polls the route (bounded) until the room's figures satisfy `done`; the last answer otherwise. */
async function delayUntil(
  url: string,
  room: string,
  done: (d: RoomDelayResponse) => boolean,
  timeoutMs = 15_000,
): Promise<RoomDelayResponse> {
  const host = await stack().token(`host-${room}`, "host", [room]);
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await delayOf(url, room, host);
    expect(status).toBe(200);
    const d = roomDelayResponseSchema.parse(body);
    if (done(d) || Date.now() > until) return d;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The answer to a delay frame (none when served): an error, or the pong of a ping sent after it. */
async function answerTo(s: TestSocket, frame: Record<string, unknown>, n: number): Promise<ServerFrame> {
  s.frames.length = 0;
  s.send(frame);
  s.send({ t: "ping", reqId: `after-${n}`, clientTime: Date.now() });
  return s.next((f) => f.t === "error" || (f.t === "pong" && f.reqId === `after-${n}`));
}

describe("room playback delay", () => {
  it("the room's distribution counts each socket's latest report, and implies p95 + margin rounded up", async () => {
    const room = "delay-mixed";
    const url = stack().server.url;
    const sockets = await Promise.all(
      Array.from({ length: 10 }, (_, i) => viewerIn(url, room, `mixed-${i}`)),
    );
    // 3 HLS viewers 3 s behind, 7 WebRTC viewers 0.3 s behind; one WebRTC viewer first said 5 s.
    sockets[9]?.send({ t: "delay", room, ms: 5_000, source: "webrtc" });
    for (const [i, s] of sockets.entries())
      s.send({ t: "delay", room, ms: i < 3 ? 3_000 : 300, source: i < 3 ? "hls" : "webrtc" });
    const d = await delayUntil(url, room, (x) => x.reports === 10 && x.maxMs === 3_000);
    expect(d).toEqual({
      room,
      reports: 10,
      p50Ms: 300,
      p90Ms: 3_000,
      p95Ms: 3_000,
      maxMs: 3_000,
      bySource: { hls: { count: 3, p95Ms: 3_000 }, webrtc: { count: 7, p95Ms: 300 } },
      // 3000 + 500 margin = 3500, already a multiple of 250.
      impliedWindowMs: 3_500,
    });
  }, 60_000);

  it("a socket that leaves, or closes, drops out of the distribution", async () => {
    const room = "delay-leave";
    const url = stack().server.url;
    const [a, b, c] = await Promise.all([0, 1, 2].map((i) => viewerIn(url, room, `leave-${i}`)));
    a?.send({ t: "delay", room, ms: 4_100, source: "hls" });
    b?.send({ t: "delay", room, ms: 200, source: "webrtc" });
    c?.send({ t: "delay", room, ms: 250, source: "webrtc" });
    expect((await delayUntil(url, room, (x) => x.reports === 3)).impliedWindowMs).toBe(4_750);
    a?.send({ t: "leave", room });
    const left = await delayUntil(url, room, (x) => x.reports === 2);
    expect(left).toMatchObject({ reports: 2, maxMs: 250, bySource: { hls: { count: 0, p95Ms: 0 } } });
    // 250 + 500 = 750.
    expect(left.impliedWindowMs).toBe(750);
    c?.close();
    const closed = await delayUntil(url, room, (x) => x.reports === 1);
    expect(closed).toMatchObject({ reports: 1, maxMs: 200, impliedWindowMs: 750 });
  }, 60_000);

  it("a room nobody reported in implies the default window", async () => {
    const d = await delayUntil(stack().server.url, "delay-quiet", () => true);
    expect(d).toMatchObject({ reports: 0, p95Ms: 0, maxMs: 0, impliedWindowMs: 3_500 });
  });

  it("bad delay frames get typed errors and count for nothing", async () => {
    const room = "delay-bad";
    const url = stack().server.url;
    const s = await viewerIn(url, room, "bad-frames");
    const bad = [
      { t: "delay", room, ms: -1, source: "hls" },
      { t: "delay", room, ms: 60_001, source: "hls" },
      { t: "delay", room, ms: 1.5, source: "hls" },
      { t: "delay", room, ms: 100, source: "dash" },
      { t: "delay", room, ms: 100, source: "hls", extra: 1 },
      { t: "delay", room: "bad room!", ms: 100, source: "hls" },
      { t: "delay", room, source: "hls" },
    ];
    for (const [n, frame] of bad.entries())
      expect(await answerTo(s, frame, n), JSON.stringify(frame)).toMatchObject({
        t: "error",
        code: "INVALID_FRAME",
      });
    expect(
      await answerTo(s, { t: "delay", room: "delay-elsewhere", ms: 100, source: "hls" }, 99),
    ).toMatchObject({ t: "error", code: "NOT_IN_ROOM", room: "delay-elsewhere" });
    // A good frame is answered by nothing: the ping after it gets its pong.
    expect(await answerTo(s, { t: "delay", room, ms: 60_000, source: "hls" }, 100)).toMatchObject({
      t: "pong",
    });
    const d = await delayUntil(url, room, (x) => x.reports === 1);
    expect(d).toMatchObject({ reports: 1, maxMs: 60_000, impliedWindowMs: 60_000 });
    expect((await delayUntil(url, "delay-elsewhere", () => true)).reports).toBe(0);
  }, 60_000);

  it("only a moderator or host of the room (or an admin) reads it", async () => {
    const g = stack();
    const room = "delay-access";
    const url = g.server.url;
    expect((await delayOf(url, room, await g.token("v", "viewer"))).status).toBe(403);
    expect((await delayOf(url, room, await g.token("h2", "host", ["other"]))).status).toBe(403);
    expect((await delayOf(url, room, await g.token("m", "moderator", [room]))).status).toBe(200);
    expect((await delayOf(url, room, await g.token("a", "admin"))).status).toBe(200);
    const res = await fetch(`${url}/api/v1/rooms/${room}/delay`);
    expect(res.status).toBe(401);
  });

  it('a drop created with fairWindowMs "auto" opens with the window the room implies', async () => {
    const g = stack();
    const room = "delay-auto";
    const url = g.server.url;
    const host = await g.token("auto-host", "host", [room]);
    const definition = () => {
      const { roomId: _room, ...def } = dropDefinition({ roomId: room, startsAt: Date.now() + 3_600_000 });
      return def;
    };
    const create = async (body: Record<string, unknown>) => {
      const res = await fetch(`${url}/api/v1/rooms/${room}/drops`, {
        method: "POST",
        headers: { authorization: `Bearer ${host}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as { created: boolean; drop: DropStatus } };
    };
    // Nobody reported yet: the default window.
    const quiet = await create({ ...definition(), fairWindowMs: "auto" });
    expect(quiet.status).toBe(201);
    expect(quiet.body.drop.fair).toMatchObject({ mode: "window", windowMs: 3_500 });
    const [a, b] = await Promise.all([viewerIn(url, room, "auto-a"), viewerIn(url, room, "auto-b")]);
    a.send({ t: "delay", room, ms: 4_200, source: "hls" });
    b.send({ t: "delay", room, ms: 350, source: "webrtc" });
    const d = await delayUntil(url, room, (x) => x.reports === 2);
    // 4200 + 500 = 4700, rounded up to 4750.
    expect(d.impliedWindowMs).toBe(4_750);
    const body = { ...definition(), fairWindowMs: "auto" };
    const auto = await create(body);
    expect(auto.status).toBe(201);
    expect(auto.body.drop.fair).toMatchObject({ mode: "window", windowMs: 4_750 });
    // A retried create is answered like any re-create, even after the room's delay moved.
    a.send({ t: "delay", room, ms: 200, source: "hls" });
    expect((await delayUntil(url, room, (x) => x.maxMs === 350)).impliedWindowMs).toBe(1_000);
    const retry = await create(body);
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ created: false, drop: { fair: { windowMs: 4_750 } } });
    // Bad values are input errors.
    for (const bad of ["manual", -1, 60_001, 1.5, null])
      expect((await create({ ...definition(), fairWindowMs: bad })).status, String(bad)).toBe(400);
    expect((await create({ ...definition(), fairWindowMs: "auto", raffleWindowMs: 120_000 })).status).toBe(
      400,
    );
  }, 60_000);

  it("two gateway nodes on one Redis share a room's distribution", async () => {
    const g = stack();
    const room = "delay-nodes";
    // Another node: its own engine object and sockets, the same Redis and key space.
    extra.engine = await SaleEngine.create({ redis: g.options.redis, prefix: g.stack.prefix });
    extra.server = await GatewayServer.create({
      ...g.options,
      engine: extra.engine,
      limits: { delaySyncMs: 100 },
    });
    const one = await viewerIn(g.server.url, room, "node-one");
    const two = await viewerIn(extra.server.url, room, "node-two");
    one.send({ t: "delay", room, ms: 2_600, source: "hls" });
    two.send({ t: "delay", room, ms: 400, source: "webrtc" });
    const both = (x: RoomDelayResponse) => x.bySource.hls.count === 1 && x.bySource.webrtc.count === 1;
    for (const url of [g.server.url, extra.server.url]) {
      const d = await delayUntil(url, room, both);
      expect(d, url).toMatchObject({ reports: 2, maxMs: 2_600, impliedWindowMs: 3_250 });
    }
    // The second node's viewer leaves: the first node sees it once the second writes its round.
    two.send({ t: "leave", room });
    const d = await delayUntil(g.server.url, room, (x) => x.reports === 1);
    expect(d).toMatchObject({ reports: 1, bySource: { webrtc: { count: 0 } } });
  }, 60_000);
});
