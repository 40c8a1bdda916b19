import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Auctions, SaleEngine } from "../../sale-engine/index.ts";
import { type PrivateRedisCluster, startPrivateRedisCluster, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, invariant, key, until } from "./fixtures.ts";

// Every auction key lives under its backing drop's hash tag: on a 3-master Redis Cluster, bids,
// settle and the runner-up hand-off run as on one server, on auctions spread over the slots; the
// pending index ({drops}) is written around the scripts.

let cluster: PrivateRedisCluster;
let engine: SaleEngine;
let auctions: Auctions;

beforeAll(async () => {
  cluster = await startPrivateRedisCluster();
  const client = cluster.client();
  engine = await SaleEngine.create({ redis: client, prefix: uniquePrefix("auctioncl"), ackReplicas: 0 });
  auctions = await Auctions.create({ engine, redis: client });
}, 120_000);
afterAll(async () => {
  await auctions?.close();
  await engine?.close();
  await cluster?.stop();
});

describe("auctions on Redis Cluster", () => {
  it("bid, settle and hand-off work on auctions in different slots", async () => {
    const now = await engine.serverTime();
    const defs = [1, 2, 3, 4].map(() => {
      const d = dropDefinition();
      return {
        dropId: d.dropId,
        roomId: d.roomId,
        product: { ...d.product, priceMinor: 500 },
        startsAt: now - 10_000 + 4_000,
        durationMs: 10_000,
        increments: [{ fromMinor: 0, stepMinor: 50 }],
        antiSnipeMs: 0,
        suddenDeath: true,
        holdMs: 60_000,
      };
    });
    for (const def of defs) {
      await auctions.open(def);
      expect(
        await auctions.bid({ dropId: def.dropId, userId: "ann", maxMinor: 900, idempotencyKey: key() }),
      ).toMatchObject({ leading: true, priceMinor: 500 });
      expect(
        await auctions.bid({ dropId: def.dropId, userId: "bob", maxMinor: 700, idempotencyKey: key() }),
      ).toMatchObject({ leading: false, priceMinor: 750 });
    }
    // the pass's work, called directly until every auction is settled
    await until(async () => {
      await auctions.settleDue();
      const all = await Promise.all(defs.map((d) => auctions.status(d.dropId)));
      return all.every((s) => s.state === "settled") ? true : undefined;
    });
    for (const def of defs) {
      const status = await auctions.status(def.dropId);
      expect(status).toMatchObject({ reserveMet: true, priceMinor: 750 });
      await engine.release(status.reservationId ?? "");
      expect(await engine.unitsOfUser(def.dropId, "bob")).toBe(1);
      const drop = await engine.status(def.dropId);
      expect(drop).toMatchObject({ held: 1, available: 0 });
      invariant(drop);
    }
    expect(await cluster.client().zcard(engine.keys.auctionsPending)).toBe(0);
  });
});
