import { describe, expect, it } from "vitest";
import { GatewayServer } from "../../gateway/index.ts";
import type { DrawResponse, ServerFrameOf } from "../../protocol/index.ts";
import { useGatewayStack } from "../harness/gateway.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

const g = useGatewayStack();

type Entry = ServerFrameOf<"entry">;

async function joined(url: string, userId: string, room: string): Promise<TestSocket> {
  const socket = await TestSocket.connect(url, await g().token(userId));
  socket.send({ t: "join", room });
  await socket.next((f) => f.t === "joined" && f.room === room);
  return socket;
}

describe("per-user draw frames", () => {
  it("entrants on two gateway nodes each hear their own result, on every socket; a viewer who did not enter hears only the draw", async () => {
    // A second node on the same Redis, with its own room channel subscriber.
    const subscriber = g().redis.client();
    subscriber.on("error", () => {});
    const other = await GatewayServer.create({ ...g().options, port: 0, subscriber });
    try {
      const room = "fair-nodes";
      const def = dropDefinition({ roomId: room, initialStock: 2, perUserLimit: 1, fairWindowMs: 2_000 });
      await g().stack.engine.createDrop(def);
      const users = ["n-1", "n-2", "n-3", "n-4", "n-5"];
      const sockets = await Promise.all(
        users.map((u, i) => joined(i % 2 === 0 ? g().server.url : other.url, u, room)),
      );
      // n-1 also watches on the other node; a bystander watches on each.
      const second = await joined(other.url, "n-1", room);
      const bystanders = [
        await joined(g().server.url, "n-watch", room),
        await joined(other.url, "n-watch", room),
      ];

      await Promise.all(
        users.map((userId) =>
          g().stack.engine.buy({ dropId: def.dropId, userId, qty: 1, idempotencyKey: key() }),
        ),
      );
      const isEntry = (f: { t: string }) => f.t === "entry";
      const results = await Promise.all(
        sockets.map((s) => s.next<Entry>((f) => isEntry(f) && (f as Entry).dropId === def.dropId, 15_000)),
      );
      expect(await second.next<Entry>((f) => isEntry(f), 15_000)).toEqual(results[0]);
      expect(results.filter((r) => r.status === "won")).toHaveLength(2);

      const draw = (await (
        await fetch(`${g().server.url}/api/v1/drops/${def.dropId}/draw`)
      ).json()) as DrawResponse;
      expect(draw.verified).toEqual({ ok: true });
      for (const r of results)
        expect(draw.entries.find((e) => e.entry === r.entryId)?.granted).toBe(r.granted);

      // Every socket of the room hears the draw; the bystander no result of its own.
      for (const s of [...sockets, second, ...bystanders])
        await s.next((f) => f.t === "draw" && f.dropId === def.dropId);
      for (const b of bystanders) expect(b.frames.some(isEntry)).toBe(false);
      for (const s of [...sockets, second, ...bystanders]) s.close();
    } finally {
      await other.close();
      subscriber.disconnect();
    }
  });

  it("a released hold of a sold-out drop reaches the waitlisted viewer's socket as an offer they can pay", async () => {
    const room = "fair-waitlist";
    const def = dropDefinition({ roomId: room, initialStock: 1, perUserLimit: 1 });
    const engine = g().stack.engine;
    await engine.createDrop(def);
    const waiter = await joined(g().server.url, "w-waiter", room);
    const held = await engine.reserve({
      dropId: def.dropId,
      userId: "w-holder",
      qty: 1,
      idempotencyKey: key(),
    });
    const ticket = await engine.joinWaitlist({
      dropId: def.dropId,
      userId: "w-waiter",
      qty: 1,
      idempotencyKey: key(),
    });
    expect(ticket).toMatchObject({ ticket: 1, position: 1 });

    await engine.release(held.reservationId);
    const offer = await waiter.next<ServerFrameOf<"offer">>(
      (f) => f.t === "offer" && f.dropId === def.dropId,
    );
    expect(offer).toMatchObject({ qty: 1, via: "waitlist" });
    expect(offer.reservationId).not.toBe(held.reservationId);
    expect(offer.deadline).toBeGreaterThan(Date.now());

    await waiter.next(
      (f) => f.t === "order" && f.reservationId === offer.reservationId && f.status === "pending_payment",
    );
    waiter.send({
      t: "pay",
      reqId: "p",
      reservationId: offer.reservationId,
      token: "tok_success",
      idempotencyKey: key(),
    });
    expect(await waiter.next((f) => f.t === "ack" && f.reqId === "p")).toMatchObject({
      ok: true,
      result: { kind: "pay", status: "paid" },
    });
    waiter.close();
  });
});
