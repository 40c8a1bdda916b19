import { describe, expect, it } from "vitest";
import { presenceEligibility, presentUsers } from "../../gateway/index.ts";
import { SaleEngine } from "../../sale-engine/index.ts";
import { useGatewayStack } from "../harness/gateway.ts";
import { uniquePrefix } from "../harness/redis.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition, key, until } from "../sale-engine/fixtures.ts";

const g = useGatewayStack();

async function joined(userId: string, room: string): Promise<TestSocket> {
  const socket = await TestSocket.connect(g().server.url, await g().token(userId));
  socket.send({ t: "join", room });
  await socket.next((f) => f.t === "joined" && f.room === room);
  return socket;
}

/** Polls the presence read until it answers `want` (nodes report every 2 s). */
function presenceIs(room: string, users: string[], want: string[]) {
  return until(async () => {
    const got = await presentUsers(g().options.redis, g().options.keyPrefix, room, users);
    return [...got].sort().join(",") === [...want].sort().join(",") ? got : undefined;
  });
}

describe("room presence over the gateway nodes", () => {
  it("reports who has a socket in a room, and drops a user who left", async () => {
    const room = "presence-room";
    const [a, b] = await Promise.all([joined("pr-a", room), joined("pr-b", room)]);
    await presenceIs(room, ["pr-a", "pr-b", "pr-c"], ["pr-a", "pr-b"]);
    expect(await presentUsers(g().options.redis, g().options.keyPrefix, "elsewhere", ["pr-a"])).toEqual(
      new Set(),
    );
    b.send({ t: "leave", room });
    await presenceIs(room, ["pr-a", "pr-b"], ["pr-a"]);
    a.close();
    await presenceIs(room, ["pr-a"], []);
    b.close();
  });

  it("a giveaway drawn by an engine reading presence skips the entrants not in the room", async () => {
    const room = "presence-giveaway";
    const watcher = await joined("gw-here", room);
    await presenceIs(room, ["gw-here"], ["gw-here"]);
    // The drawing engine (as the worker's) reads presence from Redis only.
    const engine = await SaleEngine.create({
      redis: g().options.redis,
      prefix: uniquePrefix("presence"),
      ackReplicas: 0,
      eligibleAtDraw: presenceEligibility(g().options.redis, g().options.keyPrefix),
    });
    try {
      // The shortest entry window is a minute: this one opened earlier and closes in 3 s.
      const windowMs = 60_000;
      const def = dropDefinition({
        roomId: room,
        format: "giveaway",
        product: { ...dropDefinition().product, priceMinor: 0 },
        raffleWindowMs: windowMs,
        startsAt: (await engine.serverTime()) - windowMs + 3_000,
        initialStock: 2,
        perUserLimit: 1,
      });
      await engine.createDrop(def);
      for (const userId of ["gw-here", "gw-away"])
        expect((await engine.buy({ dropId: def.dropId, userId, qty: 1, idempotencyKey: key() })).kind).toBe(
          "entered",
        );
      await until(async () => {
        const a = await engine.allocateFairWindow(def.dropId);
        return a.allocated ? a : undefined;
      });
      const [here] = await engine.fairEntriesOf(def.dropId, "gw-here");
      const [away] = await engine.fairEntriesOf(def.dropId, "gw-away");
      expect(here).toMatchObject({ status: "won", granted: 1 });
      expect(away).toMatchObject({ status: "lost", granted: 0 });
      expect((await engine.fairDraw(def.dropId))?.skipped).toEqual([away?.entryId]);
    } finally {
      await engine.close();
      watcher.close();
    }
  });
});
