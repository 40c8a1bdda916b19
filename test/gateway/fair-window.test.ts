import { describe, expect, it } from "vitest";
import { compareIds } from "../../gateway/rooms/room-log.ts";
import {
  buyResponseSchema,
  type DrawResponse,
  drawResponseSchema,
  dropMeResponseSchema,
  type ServerFrame,
  type ServerFrameOf,
} from "../../protocol/index.ts";
import { keySpace } from "../../sale-engine/index.ts";
import { useGatewayStack } from "../harness/gateway.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

const g = useGatewayStack();

/** The product's promise: every entrant hears their result within this long after the window closes. */
const RESULT_WITHIN_MS = 250;
/** Long enough that every test buy sent after the launch lands inside it on a loaded machine. */
const WINDOW_MS = 2_000;

type Ack = ServerFrameOf<"ack">;
type Entry = ServerFrameOf<"entry">;

async function api(path: string, init: { token?: string; body?: unknown } = {}) {
  const res = await fetch(`${g().server.url}${path}`, {
    method: init.body === undefined ? "GET" : "POST",
    headers: {
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A socket in `room` that notes when (local clock) each of its `entry` frames arrived. */
async function entrant(userId: string, room: string) {
  const socket = await TestSocket.connect(g().server.url, await g().token(userId));
  const arrivals: number[] = [];
  socket.ws.on("message", (data) => {
    if ((JSON.parse(data.toString()) as ServerFrame).t === "entry") arrivals.push(Date.now());
  });
  socket.send({ t: "join", room });
  await socket.next((f) => f.t === "joined" && f.room === room);
  return { userId, socket, arrivals };
}

/** Server clock (Redis TIME) minus this process's clock, ms. */
async function clockOffset(): Promise<number> {
  const before = Date.now();
  const server = await g().stack.engine.serverTime();
  return server - (before + Date.now()) / 2;
}

/** Waits (bounded) until the sweeper has allocated the drop's window. */
async function allocated(dropId: string): Promise<void> {
  await expect
    .poll(() => g().stack.engine.fairDraw(dropId), { timeout: 10_000, interval: 50 })
    .not.toBeNull();
}

describe("fair window over the gateway", () => {
  it("entries are acked at once, every entrant hears their result within W + 250 ms, winners pay, the draw verifies", async () => {
    const room = "fair-room";
    const def = dropDefinition({
      roomId: room,
      initialStock: 3,
      perUserLimit: 1,
      fairWindowMs: WINDOW_MS,
      startsAt: Date.now() + 3_600_000,
    });
    await g().stack.engine.createDrop(def);
    const entrants = await Promise.all(Array.from({ length: 8 }, (_, i) => entrant(`fair-${i}`, room)));
    const host = await g().token("fair-host", "host", [room]);
    expect((await api(`/api/v1/drops/${def.dropId}/launch`, { token: host, body: {} })).status).toBe(200);

    const keys = entrants.map(() => key());
    for (const [i, { socket }] of entrants.entries())
      socket.send({
        t: "buy",
        reqId: `b${i}`,
        dropId: def.dropId,
        qty: 1,
        idempotencyKey: keys[i] as string,
      });
    const acks = await Promise.all(
      entrants.map(({ socket }, i) => socket.next<Ack>((f) => f.t === "ack" && f.reqId === `b${i}`)),
    );
    const status = await g().stack.engine.status(def.dropId);
    const closesAt = status.fair?.closesAt as number;
    expect(closesAt).toBe(status.startsAt + WINDOW_MS);
    for (const ack of acks)
      expect(ack).toMatchObject({
        ok: true,
        result: { kind: "entered", dropId: def.dropId, qty: 1, closesAt, replayed: false },
      });

    // The same key again: the same entry, replayed.
    const first = entrants[0] as Awaited<ReturnType<typeof entrant>>;
    first.socket.send({
      t: "buy",
      reqId: "again",
      dropId: def.dropId,
      qty: 1,
      idempotencyKey: keys[0] as string,
    });
    const again = await first.socket.next<Ack>((f) => f.t === "ack" && f.reqId === "again");
    const entryIdOf = (a: Ack) => (a.ok && a.result.kind === "entered" ? a.result.entryId : "");
    expect(again).toMatchObject({ ok: true, result: { kind: "entered", replayed: true } });
    expect(entryIdOf(again)).toBe(entryIdOf(acks[0] as Ack));

    // Every entrant's result, and the room's draw frame; waited for with a bound well past the promise.
    const results = await Promise.all(
      entrants.map(({ socket }) =>
        socket.next<Entry>((f) => f.t === "entry" && f.dropId === def.dropId, 15_000),
      ),
    );
    const draws = await Promise.all(
      entrants.map(({ socket }) =>
        socket.next<ServerFrameOf<"draw">>((f) => f.t === "draw" && f.dropId === def.dropId),
      ),
    );
    const offset = await clockOffset();
    const lateness = entrants.map(({ arrivals }) => (arrivals[0] as number) + offset - closesAt);
    console.info(
      `fair window results: ms after the window closed ${JSON.stringify(lateness.map(Math.round))}`,
    );
    for (const late of lateness) expect(late).toBeLessThanOrEqual(RESULT_WITHIN_MS);

    for (const [i, r] of results.entries()) expect(r.entryId).toBe(entryIdOf(acks[i] as Ack));
    const winners = results.filter((r) => r.status === "won");
    expect(winners).toHaveLength(3);
    for (const w of winners) {
      expect(w).toMatchObject({ granted: 1 });
      expect(w.reservationId).toMatch(new RegExp(`^${def.dropId}\\.`));
      expect(w.deadline).toBeGreaterThan(closesAt);
    }
    for (const l of results.filter((r) => r.status === "lost")) {
      expect(l.granted).toBe(0);
      expect(l.reservationId).toBeUndefined();
    }
    expect(draws[0]).toMatchObject({ mode: "window", stock: 3, units: 3, winners: 3, losers: 5 });
    // The room's counts at the draw reached every socket before the draw frame: nothing older follows it.
    for (const { socket } of entrants) {
      const at = socket.frames.findIndex((f) => f.t === "draw" && f.dropId === def.dropId);
      const stock = socket.frames.filter(
        (f): f is ServerFrameOf<"stock"> => f.t === "stock" && f.dropId === def.dropId,
      );
      const before = socket.frames.slice(0, at).filter((f) => f.t === "stock" && f.dropId === def.dropId);
      expect(before.at(-1)).toMatchObject({ available: 0, held: 3 });
      for (const f of stock) expect(compareIds(f.o, (draws[0] as ServerFrameOf<"draw">).o)).not.toBe(0);
      for (const f of socket.frames.slice(at + 1))
        if (f.t === "stock" && f.dropId === def.dropId)
          expect(compareIds(f.o, (draws[0] as ServerFrameOf<"draw">).o)).toBeGreaterThan(0);
    }

    // The public draw: the revealed seed, every entry, the server's check.
    const draw = await api(`/api/v1/drops/${def.dropId}/draw`);
    expect(draw.status).toBe(200);
    expect(drawResponseSchema.safeParse(draw.body).success).toBe(true);
    const published = draw.body as unknown as DrawResponse;
    expect(published).toMatchObject({ dropId: def.dropId, mode: "window", stock: 3, verified: { ok: true } });
    expect(published.seed).toBe(draws[0]?.seed);
    expect(published.entries).toHaveLength(8);
    expect(published.entries.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const r of results)
      expect(published.entries.find((e) => e.entry === r.entryId)?.granted).toBe(r.granted);

    // The ops funnel counts the entries (not the replay) beside the buy clicks (the replay is one).
    await expect
      .poll(
        async () => {
          const stats = (await api(`/api/v1/rooms/${room}/stats`, { token: host })).body as {
            drops: { dropId: string; buyClicks: number; entries: number }[];
            totals: { entries: number };
          };
          const drop = stats.drops.find((d) => d.dropId === def.dropId);
          return { clicks: drop?.buyClicks, entries: drop?.entries, total: stats.totals.entries };
        },
        { timeout: 10_000, interval: 200 },
      )
      .toEqual({ clicks: 9, entries: 8, total: 8 });

    // What a reconnecting client reads: the same results, over HTTP.
    for (const [i, r] of results.entries()) {
      const me = await api(`/api/v1/drops/${def.dropId}/me`, {
        token: await g().token((entrants[i] as Awaited<ReturnType<typeof entrant>>).userId),
      });
      expect(dropMeResponseSchema.safeParse(me.body).success).toBe(true);
      expect(me).toMatchObject({
        status: 200,
        body: {
          dropId: def.dropId,
          entries: [
            {
              entryId: r.entryId,
              status: r.status,
              granted: r.granted,
              reservationId: r.reservationId ?? null,
            },
          ],
          waitlist: null,
        },
      });
    }

    // Winners pay for what they won.
    await Promise.all(
      results.map(async (r, i) => {
        if (r.status !== "won") return;
        const { socket } = entrants[i] as Awaited<ReturnType<typeof entrant>>;
        await socket.next(
          (f) => f.t === "order" && f.reservationId === r.reservationId && f.status === "pending_payment",
        );
        socket.send({
          t: "pay",
          reqId: `p${i}`,
          reservationId: r.reservationId as string,
          token: "tok_success",
          idempotencyKey: key(),
        });
        expect(await socket.next((f) => f.t === "ack" && f.reqId === `p${i}`)).toMatchObject({
          ok: true,
          result: { kind: "pay", status: "paid" },
        });
      }),
    );
    for (const { socket } of entrants) socket.close();
  });

  it("an HTTP buy in the window answers the entry; the draw is 409 DRAW_OPEN until it closes, 404 without one", async () => {
    const def = dropDefinition({ roomId: "fair-http", fairWindowMs: 60_000 });
    await g().stack.engine.createDrop(def);
    const viewer = await g().token("fair-http-viewer");
    const body = { qty: 1, idempotencyKey: key() };
    const entered = await api(`/api/v1/drops/${def.dropId}/buy`, { token: viewer, body });
    expect(entered.status).toBe(201);
    const status = await g().stack.engine.status(def.dropId);
    expect(entered.body).toMatchObject({
      kind: "entered",
      dropId: def.dropId,
      qty: 1,
      closesAt: status.fair?.closesAt,
      replayed: false,
    });
    expect(buyResponseSchema.safeParse(entered.body).success).toBe(true);
    const replayed = await api(`/api/v1/drops/${def.dropId}/buy`, { token: viewer, body });
    expect(replayed).toMatchObject({ status: 200, body: { entryId: entered.body.entryId, replayed: true } });

    expect(await api(`/api/v1/drops/${def.dropId}/me`, { token: viewer })).toMatchObject({
      status: 200,
      body: {
        entries: [{ entryId: entered.body.entryId, status: "entered", reservationId: null, granted: 0 }],
      },
    });
    expect(await api(`/api/v1/drops/${def.dropId}/draw`)).toMatchObject({
      status: 409,
      body: { error: { code: "DRAW_OPEN" } },
    });
    const fcfs = dropDefinition({ roomId: "fair-http" });
    await g().stack.engine.createDrop(fcfs);
    expect(await api(`/api/v1/drops/${fcfs.dropId}/draw`)).toMatchObject({
      status: 404,
      body: { error: { code: "DROP_NOT_FOUND" } },
    });
    expect((await api("/api/v1/drops/no-such-drop/draw")).status).toBe(404);
    expect((await api("/api/v1/drops/no-such-drop/me", { token: viewer })).status).toBe(404);
    expect((await api(`/api/v1/drops/${def.dropId}/me`)).status).toBe(401);
  });

  it("a draw edited in Redis after the fact is reported as not matching", async () => {
    const def = dropDefinition({
      roomId: "fair-tamper",
      initialStock: 1,
      perUserLimit: 1,
      fairWindowMs: WINDOW_MS,
    });
    await g().stack.engine.createDrop(def);
    await Promise.all(
      ["t-1", "t-2", "t-3"].map((userId) =>
        g().stack.engine.buy({ dropId: def.dropId, userId, qty: 1, idempotencyKey: key() }),
      ),
    );
    await allocated(def.dropId);
    expect((await api(`/api/v1/drops/${def.dropId}/draw`)).body).toMatchObject({ verified: { ok: true } });

    // Swap the first two entries' recorded outcomes (winner and loser), as a dishonest operator might.
    const entriesKey = keySpace(g().stack.prefix).drop(def.dropId).entries;
    const redis = g().redis.client();
    try {
      const raw = await redis.hgetall(entriesKey);
      const byPosition = Object.entries(raw).sort(
        ([, x], [, y]) => Number(x.split("|")[6]) - Number(y.split("|")[6]),
      );
      const [a, va] = byPosition[0] as [string, string];
      const [b, vb] = byPosition[1] as [string, string];
      const outcome = (v: string) => v.split("|").slice(3, 6);
      const withOutcome = (v: string, o: string[]) =>
        [...v.split("|").slice(0, 3), ...o, v.split("|")[6]].join("|");
      await redis.hset(entriesKey, a, withOutcome(va, outcome(vb)), b, withOutcome(vb, outcome(va)));
    } finally {
      redis.disconnect();
    }
    // Each node reuses its last check for GATEWAY_DRAW_CACHE_MS (1 s): the next one catches it.
    await expect
      .poll(async () => (await api(`/api/v1/drops/${def.dropId}/draw`)).body.verified, {
        timeout: 10_000,
        interval: 200,
      })
      .toMatchObject({ ok: false, reason: expect.stringMatching(/granted/) });
  });

  it("a raffle shows its mode and close in the snapshot; a user's second buy answers their one entry", async () => {
    const room = "fair-raffle";
    const def = dropDefinition({ roomId: room, raffleWindowMs: 60_000 });
    await g().stack.engine.createDrop(def);
    const { socket } = await entrant("raffle-1", room);
    const joined = socket.frames.find((f): f is ServerFrameOf<"joined"> => f.t === "joined");
    const snapshot = joined?.drops.find((d) => d.dropId === def.dropId);
    expect(snapshot?.fair).toMatchObject({ mode: "raffle", windowMs: 60_000, seed: null, allocatedAt: null });
    expect(snapshot?.fair?.closesAt).toBe((snapshot?.startsAt ?? 0) + 60_000);

    socket.send({ t: "buy", reqId: "r1", dropId: def.dropId, qty: 1, idempotencyKey: key() });
    socket.send({ t: "buy", reqId: "r2", dropId: def.dropId, qty: 1, idempotencyKey: key() });
    const first = await socket.next<Ack>((f) => f.t === "ack" && f.reqId === "r1");
    const second = await socket.next<Ack>((f) => f.t === "ack" && f.reqId === "r2");
    const closesAt = snapshot?.fair?.closesAt;
    expect(first).toMatchObject({ ok: true, result: { kind: "entered", closesAt, replayed: false } });
    expect(second).toMatchObject({ ok: true, result: { kind: "entered", closesAt, replayed: true } });
    const id = (a: Ack) => (a.ok && a.result.kind === "entered" ? a.result.entryId : "");
    expect(id(second)).toBe(id(first));
    expect(await api(`/api/v1/drops/${def.dropId}/draw`)).toMatchObject({
      status: 409,
      body: { error: { code: "DRAW_OPEN" } },
    });
    socket.close();
  });
});
