import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TokenService } from "../../auth/index.ts";
import { appenderLeaseKey, roomKeys } from "../../gateway/keys.ts";
import { compareIds } from "../../gateway/rooms/room-log.ts";
import type { ServerFrame } from "../../protocol/index.ts";
import { type NodeStack, startNodeStack } from "../harness/gateway-process.ts";
import type { OrderStack } from "../harness/order-stack.ts";
import type { PrivateRedis } from "../harness/redis.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

const SECRET = "room-appender-secret-".padEnd(48, "x");

let nodeStack: NodeStack;
let redis: PrivateRedis;
let stack: OrderStack;
let tokens: TokenService;
const startNode = () => nodeStack.startNode();

const leaseKey = () => appenderLeaseKey(stack.prefix);
const logKey = (room: string) => roomKeys(stack.prefix, room).log;

/** The drop versions the room log holds, in log order. */
async function loggedVersions(room: string, dropId: string): Promise<number[]> {
  const entries = await redis.client().xrange(logKey(room), "-", "+");
  return entries.flatMap(([, fields]) => {
    const ev = JSON.parse(fields[1] ?? "{}") as { drop?: string; v?: number };
    return ev.drop === dropId && typeof ev.v === "number" ? [ev.v] : [];
  });
}

/**
 * Counts room-append script calls for one room's log, from Redis MONITOR (every command Redis
 * runs, as it runs it): what the nodes together offer the room log, duplicates included.
 */
async function countAppends(room: string): Promise<{ count(): number; stop(): void }> {
  const monitor = await (redis.client() as Redis).monitor();
  let n = 0;
  monitor.on("monitor", (_time: string, args: string[]) => {
    const cmd = args[0]?.toLowerCase();
    if ((cmd === "evalsha" || cmd === "eval") && args[3] === logKey(room)) n++;
  });
  return { count: () => n, stop: () => monitor.disconnect() };
}

type Offsetted = Extract<ServerFrame, { t: "drop" | "stock" }>;
const offsetted = (s: TestSocket, room: string) =>
  s.frames.filter((f): f is Offsetted => (f.t === "drop" || f.t === "stock") && f.room === room);
const heldOf = (f: Offsetted | undefined) => (f?.t === "stock" ? f.held : f?.t === "drop" ? f.drop.held : -1);

async function viewer(url: string, userId: string, room: string): Promise<TestSocket> {
  const s = await TestSocket.connect(url, await tokens.issue({ userId, role: "viewer", ttlSeconds: 600 }));
  s.send({ t: "join", room });
  await s.next((f) => f.t === "joined" && f.room === room, 10_000);
  return s;
}

beforeAll(async () => {
  nodeStack = await startNodeStack(SECRET);
  ({ redis, stack, tokens } = nodeStack);
}, 120_000);

afterAll(async () => {
  await nodeStack?.stop();
});

describe("the room appender (one lease holder per lane)", () => {
  it("with two gateway processes, each drop event is offered to the room log once, and both nodes' viewers get it", async () => {
    const room = "appended-once";
    const [a, b] = [await startNode(), await startNode()];
    const onA = await viewer(a.url, "once-a", room);
    const onB = await viewer(b.url, "once-b", room);
    const appends = await countAppends(room);
    const def = dropDefinition({ roomId: room, initialStock: 100, perUserLimit: 1 });
    await stack.engine.createDrop(def);
    for (let i = 0; i < 30; i++)
      await stack.engine.reserve({ dropId: def.dropId, userId: `once-${i}`, qty: 1, idempotencyKey: key() });
    const { version } = await stack.engine.status(def.dropId);
    await expect.poll(() => loggedVersions(room, def.dropId), { timeout: 15_000 }).toHaveLength(version);
    for (const s of [onA, onB])
      await expect.poll(() => heldOf(offsetted(s, room).at(-1)), { timeout: 15_000 }).toBe(30);
    appends.stop();
    // Every version once, in order, and one offer per event: no node offers what another logged.
    expect(await loggedVersions(room, def.dropId)).toEqual(Array.from({ length: version }, (_, i) => i + 1));
    expect(appends.count()).toBe(version);
    for (const s of [onA, onB]) s.close();
    for (const n of [a, b]) n.child.kill("SIGTERM");
  }, 120_000);

  it("when the appender node is SIGKILLed, the lease moves: later events reach the other node's viewers, none lost, and a resume replays them", async () => {
    const room = "appender-dies";
    const a = await startNode();
    // A is alone, so A holds the lane's lease; B starts after and waits for it.
    await expect.poll(() => redis.client().get(leaseKey()), { timeout: 10_000 }).not.toBeNull();
    const holderA = await redis.client().get(leaseKey());
    const b = await startNode();
    const def = dropDefinition({ roomId: room, initialStock: 100, perUserLimit: 1 });
    await stack.engine.createDrop(def);
    const leaving = await viewer(a.url, "dies-a", room);
    const staying = await viewer(b.url, "dies-b", room);
    for (let i = 0; i < 5; i++)
      await stack.engine.reserve({
        dropId: def.dropId,
        userId: `before-${i}`,
        qty: 1,
        idempotencyKey: key(),
      });
    await expect.poll(() => heldOf(offsetted(leaving, room).at(-1)), { timeout: 15_000 }).toBe(5);
    const last = offsetted(leaving, room).at(-1) as Offsetted;

    a.child.kill("SIGKILL");
    await leaving.closed;
    // Events while nobody holds the lease are logged once the lease moved, from the drop's log.
    for (let i = 0; i < 5; i++)
      await stack.engine.reserve({ dropId: def.dropId, userId: `after-${i}`, qty: 1, idempotencyKey: key() });
    await expect.poll(() => heldOf(offsetted(staying, room).at(-1)), { timeout: 20_000 }).toBe(10);
    const holderB = await redis.client().get(leaseKey());
    expect(holderB).not.toBeNull();
    expect(holderB).not.toBe(holderA);
    const { version } = await stack.engine.status(def.dropId);
    expect(await loggedVersions(room, def.dropId)).toEqual(Array.from({ length: version }, (_, i) => i + 1));

    // A's viewer comes back on B and resumes from its last offset: every later entry, in order.
    const back = await TestSocket.connect(
      b.url,
      await tokens.issue({ userId: "dies-a", role: "viewer", ttlSeconds: 600 }),
    );
    back.send({ t: "resume", room, epoch: last.e, offset: last.o });
    const answer = await back.next((f) => (f.t === "resumed" || f.t === "resync") && f.room === room, 10_000);
    expect(answer.t).toBe("resumed");
    const logged = (await redis.client().xrange(logKey(room), "-", "+"))
      .map(([id]) => id)
      .filter((id) => compareIds(id, last.o) > 0);
    expect(offsetted(back, room).map((f) => f.o)).toEqual(logged);
    expect(heldOf(offsetted(back, room).at(-1))).toBe(10);
    for (const s of [staying, back]) s.close();
    b.child.kill("SIGTERM");
  }, 120_000);
});
