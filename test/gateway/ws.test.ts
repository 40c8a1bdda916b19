import { describe, expect, it } from "vitest";
import { GatewayServer } from "../../gateway/index.ts";
import { compareIds } from "../../gateway/rooms/room-log.ts";
import type { ServerFrame } from "../../protocol/index.ts";
import { useGatewayStack } from "../harness/gateway.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

const g = useGatewayStack();

type Offsetted = Extract<ServerFrame, { o: string }>;
const isRoomEvent =
  (room: string) =>
  (f: ServerFrame): f is Offsetted =>
    (f.t === "drop" || f.t === "stock") && f.room === room;

async function connectMany(n: number, room: string): Promise<TestSocket[]> {
  const sockets: TestSocket[] = [];
  for (let i = 0; i < n; i += 200) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(200, n - i) }, async (_, j) => {
        const s = await TestSocket.connect(g().server.url, await g().token(`viewer-${room}-${i + j}`));
        s.send({ t: "join", room });
        await s.next((f) => f.t === "joined");
        return s;
      }),
    );
    sockets.push(...batch);
  }
  return sockets;
}

/** The room log's offsets after `after`, straight from Redis. */
async function logOffsets(room: string, after: string): Promise<string[]> {
  const entries = await g().redis.client().xrange(`${g().stack.prefix}:room:{${room}}:log`, `(${after}`, "+");
  return entries.map(([id]) => id);
}

describe("WebSocket gateway", () => {
  it("refuses an upgrade without a valid token (401)", async () => {
    await expect(TestSocket.connect(g().server.url, "nonsense")).rejects.toThrow("upgrade refused: 401");
  });

  it("limits connections per client address (429 once the limit is reached, a slot frees on close)", async () => {
    const limited = await GatewayServer.create({
      ...g().options,
      port: 0,
      limits: { maxConnectionsPerIp: 2 },
    });
    try {
      const token = await g().token("many");
      const [one, two] = [
        await TestSocket.connect(limited.url, token),
        await TestSocket.connect(limited.url, token),
      ];
      await expect(TestSocket.connect(limited.url, token)).rejects.toThrow("upgrade refused: 429");
      one.close();
      await one.closed;
      const three = await TestSocket.connect(limited.url, token);
      two.close();
      three.close();
    } finally {
      await limited.close();
    }
  });

  it("fans drop and stock events out to 2,000 sockets in a room, every one in log order", async () => {
    const room = "fanout";
    const sockets = await connectMany(2_000, room);
    const joinedAt = (await sockets[0]!.next<Extract<ServerFrame, { t: "joined" }>>((f) => f.t === "joined"))
      .offset;
    const def = dropDefinition({
      roomId: room,
      initialStock: 100,
      perUserLimit: 5,
      startsAt: Date.now() + 3_600_000,
    });
    await g().stack.engine.createDrop(def);
    // The gateway follows new drops of a room within a second: wait until the snapshot is logged.
    await expect.poll(async () => (await logOffsets(room, joinedAt)).length, { timeout: 5_000 }).toBe(1);
    await g().stack.engine.launch(def.dropId);
    for (let i = 0; i < 5; i++)
      await g().stack.engine.reserve({
        dropId: def.dropId,
        userId: `buyer-${i}`,
        qty: 1,
        idempotencyKey: key(),
      });
    await g().stack.engine.pause(def.dropId);
    await g().stack.engine.restock(def.dropId, 10);
    await g().stack.engine.resume(def.dropId);

    await expect.poll(async () => (await logOffsets(room, joinedAt)).length, { timeout: 5_000 }).toBe(10);
    const expected = await logOffsets(room, joinedAt);
    // Drop frames (snapshot, launch, pause, restock, resume) are never paced; stock frames are
    // coalesced per drop, so a socket sees a subset of them, always in log order.
    await expect
      .poll(() => sockets[0]!.frames.filter(isRoomEvent(room)).at(-1)?.o, { timeout: 15_000 })
      .toBe(expected.at(-1));
    const dropLevel = new Set(
      sockets[0]!.frames
        .filter(isRoomEvent(room))
        .filter((f) => f.t === "drop")
        .map((f) => f.o),
    );
    for (const s of sockets) {
      await expect
        .poll(() => s.frames.filter(isRoomEvent(room)).at(-1)?.o, { timeout: 15_000 })
        .toBe(expected.at(-1));
      const got = s.frames.filter(isRoomEvent(room)).map((f) => f.o);
      expect(got.every((o) => expected.includes(o))).toBe(true);
      expect([...got].sort(compareIds)).toEqual(got);
      expect(new Set(got).size).toBe(got.length);
      for (const o of dropLevel) expect(got).toContain(o);
    }
    expect(dropLevel.size).toBe(5);
    const last = sockets[1_999]!.frames.filter(isRoomEvent(room)).at(-1);
    expect(last).toMatchObject({
      t: "drop",
      drop: { dropId: def.dropId, state: "live", available: 105, held: 5, product: def.product },
    });
    for (const s of sockets) s.close();
  }, 120_000);

  it("a client that reconnects resumes from its offset and misses nothing; a stale epoch gets a resync", async () => {
    const room = "resume";
    const def = dropDefinition({ roomId: room, initialStock: 50, perUserLimit: 5 });
    await g().stack.engine.createDrop(def);
    // Another viewer stays in the room, so this node keeps logging the room's events meanwhile.
    const watcher = await TestSocket.connect(g().server.url, await g().token("watcher"));
    watcher.send({ t: "join", room });
    await watcher.next((f) => f.t === "joined");
    const first = await TestSocket.connect(g().server.url, await g().token("resumer"));
    first.send({ t: "join", room });
    const joined = await first.next<Extract<ServerFrame, { t: "joined" }>>((f) => f.t === "joined");
    expect(joined.drops.map((d) => d.dropId)).toEqual([def.dropId]);
    await g().stack.engine.reserve({ dropId: def.dropId, userId: "a", qty: 1, idempotencyKey: key() });
    const seen = await first.next<Offsetted>((f) => isRoomEvent(room)(f) && f.t === "stock");
    first.close();
    await first.closed;

    // Missed while away.
    await g().stack.engine.reserve({ dropId: def.dropId, userId: "b", qty: 2, idempotencyKey: key() });
    await g().stack.engine.pause(def.dropId);
    await expect.poll(async () => (await logOffsets(room, seen.o)).length, { timeout: 5_000 }).toBe(2);
    const missed = await logOffsets(room, seen.o);
    expect(missed.length).toBeGreaterThanOrEqual(2);

    const second = await TestSocket.connect(g().server.url, await g().token("resumer"));
    second.send({ t: "resume", room, epoch: seen.e, offset: seen.o });
    await expect
      .poll(() => second.frames.filter(isRoomEvent(room)).length, { timeout: 5_000 })
      .toBeGreaterThanOrEqual(missed.length);
    expect(
      second.frames
        .filter(isRoomEvent(room))
        .map((f) => f.o)
        .slice(0, missed.length),
    ).toEqual(missed);
    expect(second.frames.filter(isRoomEvent(room)).at(-1)).toMatchObject({
      t: "drop",
      drop: { state: "paused", held: 3 },
    });

    const third = await TestSocket.connect(g().server.url, await g().token("resumer"));
    third.send({ t: "resume", room, epoch: "someOtherEpoch", offset: seen.o });
    const resync = await third.next<Extract<ServerFrame, { t: "resync" }>>((f) => f.t === "resync");
    expect(resync).toMatchObject({
      room,
      epoch: seen.e,
      drops: [{ dropId: def.dropId, state: "paused", held: 3 }],
    });
    second.close();
    third.close();
    watcher.close();
  });

  it("bad frames get typed error frames, a flood is rate limited, an oversize frame closes the socket; others keep being served", async () => {
    const bad = await TestSocket.connect(g().server.url, await g().token("mallory"));
    const cases: [string | Buffer, string][] = [
      ["{not json", "BAD_FRAME"],
      [Buffer.from([0xff, 0xfe, 0x00, 0x81]), "BAD_FRAME"],
      ['{"t":"teleport"}', "UNKNOWN_TYPE"],
      ['{"t":"join","room":42}', "INVALID_FRAME"],
      ['{"t":"buy","reqId":"r1","dropId":"x","qty":-1,"idempotencyKey":"k"}', "INVALID_FRAME"],
      ["[1,2,3]", "BAD_FRAME"],
    ];
    for (const [data, code] of cases) {
      const before = bad.frames.length;
      bad.sendRaw(data);
      const frame = await bad.next((f) => f.t === "error" && bad.frames.indexOf(f) >= before);
      expect(frame, String(data)).toMatchObject({ t: "error", code });
    }
    // A flood: far more than 20 frames a second.
    for (let i = 0; i < 100; i++) bad.send({ t: "ping", reqId: `p${i}`, clientTime: Date.now() });
    await bad.next((f) => f.t === "error" && f.code === "RATE_LIMITED");

    const good = await TestSocket.connect(g().server.url, await g().token("alice"));
    const oversize = await TestSocket.connect(g().server.url, await g().token("bob"));
    oversize.sendRaw(JSON.stringify({ t: "join", room: "x".repeat(20_000) }));
    const closed = await oversize.closed;
    expect([1006, 1009]).toContain(closed.code);
    good.send({ t: "ping", reqId: "still-here", clientTime: 1 });
    expect(await good.next((f) => f.t === "pong" && f.reqId === "still-here")).toMatchObject({
      clientTime: 1,
    });
    bad.close();
    good.close();
  });

  it("a buy race over WebSocket: 1,000 sockets, 50 units, exactly 50 holds; each buyer gets its answer in one round trip", async () => {
    const room = "race";
    const def = dropDefinition({ roomId: room, initialStock: 50, perUserLimit: 1 });
    await g().stack.engine.createDrop(def);
    const sockets = await connectMany(1_000, room);
    const acks = await Promise.all(
      sockets.map(async (s, i) => {
        s.send({ t: "buy", reqId: `b${i}`, dropId: def.dropId, qty: 1, idempotencyKey: key() });
        return s.next<Extract<ServerFrame, { t: "ack" }>>(
          (f) => f.t === "ack" && f.reqId === `b${i}`,
          30_000,
        );
      }),
    );
    expect(acks.filter((a) => a.ok)).toHaveLength(50);
    expect(new Set(acks.filter((a) => !a.ok).map((a) => (a.ok ? "" : a.code)))).toEqual(
      new Set(["SOLD_OUT"]),
    );
    expect(await g().stack.engine.status(def.dropId)).toMatchObject({ held: 50, available: 0 });
    for (const s of sockets) s.close();
  }, 120_000);

  it("host commands are checked on the server: a viewer, a moderator or another room's host is refused", async () => {
    const room = "hosted";
    const def = dropDefinition({ roomId: room, initialStock: 5 });
    await g().stack.engine.createDrop(def);
    const attempts: [string, "viewer" | "moderator" | "host", string[]][] = [
      ["v", "viewer", []],
      ["m", "moderator", [room]],
      ["h2", "host", ["elsewhere"]],
    ];
    for (const [user, role, rooms] of attempts) {
      const s = await TestSocket.connect(g().server.url, await g().token(user, role, rooms));
      for (const action of [
        { kind: "pause", dropId: def.dropId },
        { kind: "restock", dropId: def.dropId, qty: 10 },
        { kind: "end", dropId: def.dropId },
      ] as const) {
        const reqId = `${user}-${action.kind}`;
        s.send({ t: "host", reqId, room, action });
        expect(await s.next((f) => f.t === "ack" && f.reqId === reqId)).toMatchObject({
          ok: false,
          code: "FORBIDDEN",
        });
      }
      // Naming a room the host does hold, but a drop of another room, is refused too.
      s.close();
    }
    const foreign = await TestSocket.connect(g().server.url, await g().token("h3", "host", ["other-room"]));
    foreign.send({
      t: "host",
      reqId: "x",
      room: "other-room",
      action: { kind: "pause", dropId: def.dropId },
    });
    expect(await foreign.next((f) => f.t === "ack" && f.reqId === "x")).toMatchObject({
      ok: false,
      code: "FORBIDDEN",
    });
    foreign.close();
    expect(await g().stack.engine.status(def.dropId)).toMatchObject({ state: "live", restocked: 0 });

    const host = await TestSocket.connect(g().server.url, await g().token("h1", "host", [room]));
    host.send({ t: "host", reqId: "p", room, action: { kind: "pause", dropId: def.dropId } });
    expect(await host.next((f) => f.t === "ack" && f.reqId === "p")).toMatchObject({
      ok: true,
      result: { kind: "host", action: "pause", state: "paused", changed: true },
    });
    host.close();
  });

  it("buy and pay over one socket: the ack comes back, then the order updates follow on the same socket", async () => {
    const room = "checkout";
    const def = dropDefinition({ roomId: room, initialStock: 3 });
    await g().stack.engine.createDrop(def);
    const s = await TestSocket.connect(g().server.url, await g().token("shopper"));
    s.send({ t: "buy", reqId: "b", dropId: def.dropId, qty: 1, idempotencyKey: key() });
    const ack = await s.next<Extract<ServerFrame, { t: "ack" }>>((f) => f.t === "ack" && f.reqId === "b");
    if (!ack.ok || ack.result.kind !== "buy") throw new Error(`buy refused: ${JSON.stringify(ack)}`);
    const reservationId = ack.result.reservationId;
    await s.next(
      (f) => f.t === "order" && f.reservationId === reservationId && f.status === "pending_payment",
    );
    s.send({ t: "pay", reqId: "p1", reservationId, token: "tok_declined", idempotencyKey: key() });
    expect(await s.next((f) => f.t === "ack" && f.reqId === "p1")).toMatchObject({
      ok: false,
      code: "PAYMENT_DECLINED",
    });
    s.send({ t: "pay", reqId: "p2", reservationId, token: "tok_success", idempotencyKey: key() });
    expect(await s.next((f) => f.t === "ack" && f.reqId === "p2")).toMatchObject({
      ok: true,
      result: { kind: "pay", status: "paid", totalMinor: def.product.priceMinor },
    });
    await s.next((f) => f.t === "order" && f.reservationId === reservationId && f.status === "paid");
    s.close();
  });
});
