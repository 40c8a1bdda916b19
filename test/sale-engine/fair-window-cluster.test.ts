import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drawInputOf, SaleEngine, verifyDraw } from "../../sale-engine/index.ts";
import { type PrivateRedisCluster, startPrivateRedisCluster, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, key } from "./fixtures.ts";

// Every key a fair-window script touches shares the drop's hash tag: on Redis Cluster the
// entries, the allocation and the reveal run as they do on one server.

let cluster: PrivateRedisCluster;
let engine: SaleEngine;

beforeAll(async () => {
  cluster = await startPrivateRedisCluster();
  engine = await SaleEngine.create({
    redis: cluster.client(),
    prefix: uniquePrefix("faircl"),
    ackReplicas: 0,
  });
}, 120_000);
afterAll(async () => {
  await engine?.close();
  await cluster?.stop();
});

describe("fair window on Redis Cluster", () => {
  it("entries, allocation and the published draw work on drops spread over the slots", async () => {
    const defs = [1, 2, 3].map(() =>
      dropDefinition({ fairWindowMs: 1_000, initialStock: 2, perUserLimit: 1 }),
    );
    for (const d of defs) await engine.createDrop(d);
    for (const d of defs)
      for (const u of ["a", "b", "c"]) {
        const r = await engine.buy({ dropId: d.dropId, userId: u, qty: 1, idempotencyKey: key() });
        expect(r.kind).toBe("entered");
      }
    const deadline = Date.now() + 30_000;
    let done = 0;
    while (done < defs.length && Date.now() < deadline) {
      done += (await engine.allocateDueFairWindows()).length;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(done).toBe(defs.length);
    for (const d of defs) {
      const s = await engine.status(d.dropId);
      expect(s).toMatchObject({ available: 0, held: 2, sold: 0 });
      const draw = await engine.fairDraw(d.dropId);
      if (!draw) throw new Error("expected a draw");
      expect(draw.results.filter((r) => r.granted > 0)).toHaveLength(2);
      expect(verifyDraw(draw.seed, s.fair?.seedHash ?? "", drawInputOf(draw), draw.results)).toEqual({
        ok: true,
      });
    }
  });
});
