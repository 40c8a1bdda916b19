import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { RedisClient } from "../../core/index.ts";
import { ClientAddress } from "../../gateway/client-address.ts";
import { GatewayServer } from "../../gateway/index.ts";
import { roomViewers } from "../../gateway/rooms/viewer-counts.ts";
import type { ServerFrame } from "../../protocol/index.ts";
import { type GatewayStack, startGatewayStack } from "../harness/gateway.ts";
import { startSocketNode } from "../harness/socket-node.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition } from "../sale-engine/fixtures.ts";

let g: GatewayStack;
let redis: RedisClient;

beforeAll(async () => {
  g = await startGatewayStack();
  redis = g.redis.client();
}, 120_000);

afterAll(async () => {
  await g?.stop();
});

/** Opens `n` sockets at once (optionally claiming an X-Forwarded-For); how many were let in. */
async function burst(url: string, token: string, n: number, forwardedFor?: string): Promise<WebSocket[]> {
  const outcomes = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<WebSocket | undefined>((resolve) => {
          const ws = new WebSocket(`${url.replace(/^http/, "ws")}/ws?token=${encodeURIComponent(token)}`, {
            headers: forwardedFor ? { "X-Forwarded-For": forwardedFor } : {},
          });
          ws.once("open", () => resolve(ws));
          ws.once("unexpected-response", () => resolve(undefined));
          ws.once("error", () => resolve(undefined));
        }),
    ),
  );
  return outcomes.filter((ws): ws is WebSocket => ws !== undefined);
}

const closeAll = async (sockets: WebSocket[]) => {
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          ws.once("close", () => resolve());
          ws.close();
        }),
    ),
  );
};

const answerFor = (room: string) => (f: ServerFrame) =>
  (f.t === "error" || f.t === "joined") && "room" in f && f.room === room;

describe("WebSocket limits", () => {
  it("a burst of 3N upgrades from one address opens exactly N sockets (the cap counts from upgrade start)", async () => {
    const cap = 25;
    const limited = await GatewayServer.create({
      ...g.options,
      port: 0,
      limits: { maxConnectionsPerIp: cap },
    });
    try {
      const token = await g.token("burst");
      const opened = await burst(limited.url, token, 3 * cap);
      expect(opened.length).toBe(cap);
      // Refused and aborted upgrades gave their slots back: after closing, a full cap opens again.
      await closeAll(opened);
      const again = await burst(limited.url, token, cap);
      expect(again.length).toBe(cap);
      await closeAll(again);
    } finally {
      await limited.close();
    }
  }, 60_000);

  it("X-Forwarded-For names the client only behind a trusted proxy", async () => {
    const cap = 3;
    const token = await g.token("proxied");
    const trusting = await startSocketNode(
      g,
      {},
      { maxConnectionsPerIp: cap, clientAddress: new ClientAddress(["127.0.0.1"]) },
    );
    const untrusting = await startSocketNode(g, {}, { maxConnectionsPerIp: cap });
    try {
      // Behind the trusted proxy, two clients have a cap each.
      const a = await burst(trusting.url, token, 2 * cap, "203.0.113.1");
      const b = await burst(trusting.url, token, 2 * cap, "203.0.113.2");
      expect([a.length, b.length]).toEqual([cap, cap]);
      // Without trust the header proves nothing: every socket counts for the peer address.
      const c = await burst(untrusting.url, token, cap, "203.0.113.3");
      const d = await burst(untrusting.url, token, cap, "203.0.113.4");
      expect(c.length + d.length).toBe(cap);
      await closeAll([...a, ...b, ...c, ...d]);
    } finally {
      trusting.close();
      untrusting.close();
    }
  }, 60_000);

  it("rooms are capped per socket and per user with TOO_MANY_ROOMS naming the room; a leave frees a place", async () => {
    const node = await startSocketNode(g, { maxRoomsPerSocket: 3, maxRoomsPerUser: 4 });
    try {
      const token = await g.token("collector");
      const [one, two] = [
        await TestSocket.connect(node.url, token),
        await TestSocket.connect(node.url, token),
      ];
      for (const room of ["cap-1", "cap-2", "cap-3"]) {
        one.send({ t: "join", room });
        expect(await one.next(answerFor(room))).toMatchObject({ t: "joined" });
      }
      one.send({ t: "join", room: "cap-4" });
      expect(await one.next(answerFor("cap-4"))).toMatchObject({ t: "error", code: "TOO_MANY_ROOMS" });
      two.send({ t: "join", room: "cap-5" });
      expect(await two.next(answerFor("cap-5"))).toMatchObject({ t: "joined" });
      two.send({ t: "join", room: "cap-6" });
      expect(await two.next(answerFor("cap-6"))).toMatchObject({ t: "error", code: "TOO_MANY_ROOMS" });
      // A resume is a join too.
      two.send({ t: "resume", room: "cap-7", epoch: "1", offset: "0-0" });
      expect(await two.next(answerFor("cap-7"))).toMatchObject({ t: "error", code: "TOO_MANY_ROOMS" });
      one.send({ t: "leave", room: "cap-1" });
      two.frames.length = 0;
      two.send({ t: "join", room: "cap-6" });
      expect(await two.next(answerFor("cap-6"))).toMatchObject({ t: "joined" });
      one.close();
      two.close();
    } finally {
      node.close();
    }
  }, 60_000);

  it("joining a made-up room writes no key; a room's log and meta expire after the idle TTL", async () => {
    const node = await startSocketNode(g, { roomIdleTtlS: 3_600 });
    try {
      const s = await TestSocket.connect(node.url, await g.token("wanderer"));
      const room = `made-up-${Date.now()}`;
      s.send({ t: "join", room });
      expect(await s.next(answerFor(room))).toMatchObject({
        t: "joined",
        epoch: "0",
        offset: "0-0",
        drops: [],
      });
      // Once the node's viewer report (every 2 s) counted the viewer, still no key of the room.
      await expect.poll(() => roomViewers(redis, g.stack.prefix, room), { timeout: 10_000 }).toBe(1);
      expect(await redis.keys(`${g.stack.prefix}:room:{${room}}*`)).toEqual([]);
      // A chat message makes the room's log: it and its meta carry the idle TTL.
      s.send({ t: "chat", room, text: "hello", clientMsgId: "m1" });
      await s.next((f) => f.t === "chat" && f.room === room);
      const base = `${g.stack.prefix}:room:{${room}}`;
      for (const k of [`${base}:log`, `${base}:meta`]) {
        const ttl = await redis.ttl(k);
        expect(ttl, k).toBeGreaterThan(3_500);
        expect(ttl, k).toBeLessThanOrEqual(3_600);
      }
      s.close();
    } finally {
      node.close();
    }
  }, 60_000);

  it("idle joined rooms cost the hub nothing per room: 30 idle rooms add no per-second Redis reads of their drops", async () => {
    const node = await startSocketNode(g, { maxRoomsPerSocket: 30, maxRoomsPerUser: 30 });
    try {
      const s = await TestSocket.connect(node.url, await g.token("idler"));
      const rooms = Array.from({ length: 30 }, (_, i) => `idle-${i}`);
      for (const room of rooms) s.send({ t: "join", room });
      for (const room of rooms) await s.next(answerFor(room));
      const smembers = async () => {
        const stats = String(await redis.info("commandstats"));
        return Number(/cmdstat_smembers:calls=(\d+)/.exec(stats)?.[1] ?? 0);
      };
      const before = await smembers();
      // A new drop in one of the rooms is still picked up (through the drop registry watch).
      const def = dropDefinition({ roomId: "idle-7" });
      await g.stack.engine.createDrop(def);
      await s.next((f) => f.t === "drop" && f.room === "idle-7", 10_000);
      // Three seconds of idling: no room's drop set was read again.
      const idleFrom = Date.now();
      await expect.poll(() => Date.now() - idleFrom >= 3_000, { timeout: 10_000 }).toBe(true);
      expect((await smembers()) - before).toBeLessThan(5);
      s.close();
    } finally {
      node.close();
    }
  }, 60_000);
});
