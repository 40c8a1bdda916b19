import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeRoomLogEntry, saleEventSchema } from "../../protocol/index.ts";
import { SaleEngine } from "../../sale-engine/index.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, key } from "./fixtures.ts";

let redis: PrivateRedis;
let engine: SaleEngine;

beforeAll(async () => {
  redis = await startPrivateRedis();
  engine = await SaleEngine.create({ redis: redis.client(), prefix: uniquePrefix("fairev") });
});
afterAll(async () => {
  await engine?.close();
  await redis?.stop();
});

describe("fair-window events on the wire", () => {
  it("every event a fair drop writes decodes with the protocol's sale event and room log schemas", async () => {
    const def = dropDefinition({ fairWindowMs: 200, initialStock: 1 });
    await engine.createDrop(def);
    for (const u of ["one", "two"])
      await engine.buy({ dropId: def.dropId, userId: u, qty: 1, idempotencyKey: key() });
    const deadline = Date.now() + 15_000;
    while (!(await engine.allocateFairWindow(def.dropId)).allocated) {
      if (Date.now() > deadline) throw new Error("window not allocated in time");
      await new Promise((r) => setTimeout(r, 20));
    }
    const events = (await engine.readEvents(def.dropId)).flatMap((e) => e.events);
    expect(events.map((e) => e.type)).toEqual(["drop.created", "reservation.placed", "fair.allocated"]);
    for (const ev of events) {
      expect(saleEventSchema.safeParse(ev).success).toBe(true);
      expect(decodeRoomLogEntry(JSON.stringify(ev))).toMatchObject({ ok: true, value: { type: ev.type } });
    }
    // Versions stay gap-free through the allocation (room readers detect gaps by them).
    expect(events.map((e) => e.v)).toEqual([1, 2, 3]);
  });
});
