import type { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenService } from "../../auth/index.ts";
import { childLogger, connectSubscriber, type RedisClient } from "../../core/index.ts";
import { GatewayServer } from "../../gateway/index.ts";
import type { ServerFrame } from "../../protocol/index.ts";
import { type OrderStack, startOrderStack } from "../harness/order-stack.ts";
import { type PrivatePostgres, startPrivatePostgres } from "../harness/postgres.ts";
import { type PrivateRedisCluster, startPrivateRedisCluster } from "../harness/redis.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

// Rooms whose channels hash to slots on different masters of the 3-master cluster.
const ROOMS = ["cl-a", "cl-b", "cl-c", "cl-d", "cl-e", "cl-f"];

let cluster: PrivateRedisCluster;
let pg: PrivatePostgres;
let stack: OrderStack;
let tokens: TokenService;
const subscribers: RedisClient[] = [];
const nodes: GatewayServer[] = [];

async function startNode(): Promise<GatewayServer> {
  // The same connection the gateway node opens from REDIS_CLUSTER_NODES: sharded subscribers.
  const subscriber = connectSubscriber({ clusterNodes: cluster.cluster.hostPorts });
  subscriber.on("error", () => {});
  subscribers.push(subscriber);
  const redis = cluster.client();
  redis.on("error", () => {});
  const server = await GatewayServer.create({
    host: "127.0.0.1",
    port: 0,
    redis,
    store: stack.store,
    engine: stack.engine,
    checkout: stack.checkout,
    tokens,
    guestTokenTtlS: 3600,
    subscriber,
    keyPrefix: stack.prefix,
    log: childLogger("test-gateway-cluster"),
  });
  nodes.push(server);
  return server;
}

beforeAll(async () => {
  [cluster, pg] = await Promise.all([startPrivateRedisCluster(), startPrivatePostgres()]);
  stack = await startOrderStack({
    redisEnv: { REDIS_CLUSTER_NODES: cluster.cluster.hostPorts.join(",") },
    redisClient: cluster.client(),
    databaseUrl: pg.url,
  });
  tokens = await TokenService.create({ secret: "c".repeat(48) });
  await startNode();
  await startNode();
}, 120_000);

afterAll(async () => {
  for (const n of nodes) await n.close();
  for (const s of subscribers) s.disconnect();
  await stack?.stop();
  await Promise.all([cluster?.stop(), pg?.stop()]);
});

type RoomEvent = Extract<ServerFrame, { t: "drop" | "stock" }>;

describe("gateway on a 3-master Redis Cluster (sharded pub/sub)", () => {
  it("two nodes share rooms spread over every master: drop, stock and chat reach both nodes' viewers", async () => {
    // The room channels really land on more than one master.
    const probe = cluster.client() as Cluster;
    await probe.ping();
    const owners = new Set(
      await Promise.all(
        ROOMS.map(async (room) => {
          const slot = (await probe.cluster("KEYSLOT", `{${room}}`)) as number;
          return probe.slots[slot]?.[0];
        }),
      ),
    );
    expect(owners.size).toBeGreaterThan(1);

    const viewers: { room: string; socket: TestSocket }[] = [];
    for (const room of ROOMS)
      for (const [i, node] of nodes.entries()) {
        const socket = await TestSocket.connect(
          node.url,
          await tokens.issue({ userId: `v-${room}-${i}`, role: "viewer", rooms: [], ttlSeconds: 600 }),
        );
        socket.send({ t: "join", room });
        await socket.next((f) => f.t === "joined");
        viewers.push({ room, socket });
      }

    const drops = new Map<string, string>();
    for (const room of ROOMS) {
      const def = dropDefinition({
        roomId: room,
        initialStock: 10,
        perUserLimit: 5,
        startsAt: Date.now() + 3_600_000,
      });
      await stack.engine.createDrop(def);
      drops.set(room, def.dropId);
    }
    // Each node follows new drops of its rooms within a second.
    for (const { room, socket } of viewers)
      await socket.next((f) => f.t === "drop" && f.drop.dropId === drops.get(room), 5_000);
    for (const room of ROOMS) {
      const dropId = drops.get(room)!;
      await stack.engine.launch(dropId);
      for (let i = 0; i < 3; i++)
        await stack.engine.reserve({ dropId, userId: `b-${i}`, qty: 1, idempotencyKey: key() });
    }
    for (const { room, socket } of viewers) {
      const dropId = drops.get(room)!;
      await expect
        .poll(
          () => {
            const last = socket.frames
              .filter((f): f is RoomEvent => (f.t === "drop" || f.t === "stock") && f.room === room)
              .at(-1);
            return last?.t === "stock" ? last.held : last?.t === "drop" ? last.drop.held : -1;
          },
          { timeout: 10_000 },
        )
        .toBe(3);
      const launch = socket.frames.find(
        (f) => f.t === "drop" && f.drop.dropId === dropId && f.drop.state === "live",
      );
      expect(launch).toBeDefined();
    }

    // Chat written on node 0 reaches the room's viewer on node 1, on every master.
    for (const room of ROOMS) {
      const [writer, reader] = viewers.filter((v) => v.room === room);
      writer!.socket.send({ t: "chat", room, text: `hello ${room}`, clientMsgId: key().slice(0, 16) });
      await reader!.socket.next(
        (f) => f.t === "chat" && f.messages.some((m) => m.text === `hello ${room}`),
        5_000,
      );
    }
    for (const v of viewers) v.socket.close();
  }, 120_000);
});
