import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClient } from "../../core/index.ts";
import type { ServerFrame } from "../../protocol/index.ts";
import { type GatewayStack, startGatewayStack } from "../harness/gateway.ts";
import { startSocketNode } from "../harness/socket-node.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

let g: GatewayStack;
let admin: RedisClient;

beforeAll(async () => {
  g = await startGatewayStack();
  admin = g.redis.client();
  admin.on("error", () => {});
}, 120_000);

afterAll(async () => {
  await g?.stop();
});

/** Pauses every client of the stack's Redis (the gateway's too) for `ms`: Redis "away". */
async function pauseRedis(ms: number): Promise<void> {
  await admin.call("CLIENT", "PAUSE", String(ms), "ALL");
}

/** Resolves once Redis answers again. */
async function redisBack(): Promise<void> {
  await expect.poll(() => admin.ping(), { timeout: 20_000, interval: 200 }).toBe("PONG");
}

const errorOf = (room: string) => (f: ServerFrame) =>
  (f.t === "error" || f.t === "joined") && "room" in f && f.room === room;

describe("WebSocket gateway while Redis is away", () => {
  it("a room step that never settles is abandoned: every later join is answered within 5 s, and the room works again after", async () => {
    const node = await startSocketNode(g, { roomStepTimeoutMs: 1_000 });
    const room = "stuck-room";
    try {
      const first = await TestSocket.connect(node.url, await g.token("stuck-1"));
      first.send({ t: "join", room });
      await first.next((f) => f.t === "joined");
      const [second, third, fresh] = await Promise.all([
        TestSocket.connect(node.url, await g.token("stuck-2")),
        TestSocket.connect(node.url, await g.token("stuck-3")),
        TestSocket.connect(node.url, await g.token("stuck-4")),
      ]);
      await pauseRedis(7_000);
      const sentAt = Date.now();
      second.send({ t: "join", room });
      const answer = await second.next(errorOf(room), 5_000);
      expect(answer).toMatchObject({ t: "error", code: "UNAVAILABLE", room, retryable: true });
      // Queued behind a step that has not settled (Redis still paused): answered all the same.
      const thirdSentAt = Date.now();
      third.send({ t: "join", room });
      expect(await third.next(errorOf(room), 5_000)).toMatchObject({ code: "UNAVAILABLE", room });
      expect(Date.now() - thirdSentAt).toBeLessThan(5_000);
      // A room nobody is in yet: its subscription cannot be made, and the join hears so in time.
      fresh.send({ t: "join", room: "fresh-room" });
      expect(await fresh.next(errorOf("fresh-room"), 5_000)).toMatchObject({ code: "UNAVAILABLE" });
      expect(Date.now() - sentAt).toBeLessThan(7_000); // still inside the pause
      await redisBack();
      // The room's order moved on: a join after Redis is back gets its snapshot.
      third.frames.length = 0;
      third.send({ t: "join", room });
      expect(await third.next(errorOf(room), 5_000)).toMatchObject({ t: "joined", room });
      const metrics = await node.metrics.registry.metrics();
      expect(metrics).toMatch(/livedrop_gateway_room_step_timeouts_total\{kind="join"\} [1-9]/);
      expect(metrics).toMatch(/livedrop_gateway_room_enter_failures_total\{kind="join"\} [1-9]/);
      for (const s of [first, second, third, fresh]) s.close();
    } finally {
      await redisBack();
      node.close();
    }
  }, 60_000);

  it("a buy gets the retryable UNAVAILABLE ack within the dependency deadline; the same key later returns the hold", async () => {
    const node = await startSocketNode(g, { dependencyTimeoutMs: 1_000 });
    try {
      const def = dropDefinition({ roomId: "away-room", initialStock: 5, perUserLimit: 1 });
      await g.stack.engine.createDrop(def);
      await g.stack.engine.launch(def.dropId);
      const buyer = await TestSocket.connect(node.url, await g.token("away-buyer"));
      const idempotencyKey = key();
      await pauseRedis(4_000);
      const sentAt = Date.now();
      buyer.send({ t: "buy", reqId: "b1", dropId: def.dropId, qty: 1, idempotencyKey });
      const ack = await buyer.next((f) => f.t === "ack" && f.reqId === "b1", 5_000);
      expect(Date.now() - sentAt).toBeLessThan(3_000);
      expect(ack).toMatchObject({ ok: false, code: "UNAVAILABLE", retryable: true });
      await redisBack();
      // The reserve that was waiting in Redis did run after the pause: the retry finds it.
      buyer.send({ t: "buy", reqId: "b2", dropId: def.dropId, qty: 1, idempotencyKey });
      expect(await buyer.next((f) => f.t === "ack" && f.reqId === "b2")).toMatchObject({
        ok: true,
        result: { kind: "buy", replayed: true, qty: 1 },
      });
      expect(await g.stack.engine.status(def.dropId)).toMatchObject({ held: 1, available: 4 });
      buyer.close();
    } finally {
      await redisBack();
      node.close();
    }
  }, 60_000);
});
