import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SaleEngine } from "../../sale-engine/index.ts";
import { type PrivateRedisCluster, startPrivateRedisCluster, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, key } from "./fixtures.ts";

// The hand-off queue lives in the drop's own hash: on Redis Cluster joins, hand-offs on release
// and expiry, and a raffle's queue run as they do on one server, on drops spread over the slots.

let cluster: PrivateRedisCluster;
let engine: SaleEngine;

beforeAll(async () => {
  cluster = await startPrivateRedisCluster();
  engine = await SaleEngine.create({
    redis: cluster.client(),
    prefix: uniquePrefix("waitcl"),
    ackReplicas: 0,
  });
}, 120_000);
afterAll(async () => {
  await engine?.close();
  await cluster?.stop();
});

describe("waitlist and raffle hand-offs on Redis Cluster", () => {
  it("a released hold goes to the waiting ticket on every drop", async () => {
    const defs = [1, 2, 3].map(() => dropDefinition({ initialStock: 1, perUserLimit: 1 }));
    for (const d of defs) {
      await engine.createDrop(d);
      const hold = await engine.reserve({ dropId: d.dropId, userId: "first", qty: 1, idempotencyKey: key() });
      expect(
        await engine.joinWaitlist({ dropId: d.dropId, userId: "next", qty: 1, idempotencyKey: key() }),
      ).toMatchObject({ ticket: 1, position: 1 });
      await engine.release(hold.reservationId);
      expect(await engine.waitlistOf(d.dropId, "next")).toMatchObject({ status: "offered" });
      expect(await engine.status(d.dropId)).toMatchObject({ available: 0, held: 1, waitlist: { served: 1 } });
    }
  });

  it("a raffle's unpaid winner's unit goes to the next entrant in drawn order", async () => {
    const def = dropDefinition({
      raffleWindowMs: 60_000,
      startsAt: (await engine.serverTime()) - 60_000 + 2_000,
      initialStock: 1,
      perUserLimit: 1,
    });
    await engine.createDrop(def);
    for (const u of ["a", "b"])
      await engine.buy({ dropId: def.dropId, userId: u, qty: 1, idempotencyKey: key() });
    for (let i = 0; !(await engine.allocateFairWindow(def.dropId)).allocated; i++) {
      if (i > 1_000) throw new Error("the raffle did not close");
      await new Promise((r) => setTimeout(r, 10));
    }
    const [winner] = await engine.heldReservations(def.dropId);
    const loser = winner?.userId === "a" ? "b" : "a";
    await engine.release(winner?.reservationId ?? "");
    expect(await engine.waitlistOf(def.dropId, loser)).toMatchObject({ ticket: 1, status: "offered" });
    expect(await engine.unitsOfUser(def.dropId, loser)).toBe(1);
  });
});
