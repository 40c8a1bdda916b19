import { describe, expect, it } from "vitest";
import { childLogger } from "../../core/index.ts";
import { DrawResults } from "../../gateway/ws/draw-results.ts";
import type { SaleEvent, ServerFrameOf } from "../../protocol/index.ts";
import { useGatewayStack } from "../harness/gateway.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

const g = useGatewayStack();

type Sent = { userId: string; frame: ServerFrameOf<"entry"> | ServerFrameOf<"offer"> };

/** A drop drawn with two entries per user (limit 2, stock 3) and its logged events, in log order. */
async function drawn(users: string[]): Promise<{ dropId: string; events: SaleEvent[] }> {
  const engine = g().stack.engine;
  const def = dropDefinition({
    roomId: "fair-results",
    initialStock: 3,
    perUserLimit: 2,
    fairWindowMs: 2_000,
  });
  await engine.createDrop(def);
  await Promise.all(
    users.flatMap((userId) =>
      [1, 2].map(() => engine.buy({ dropId: def.dropId, userId, qty: 1, idempotencyKey: key() })),
    ),
  );
  await expect.poll(() => engine.fairDraw(def.dropId), { timeout: 10_000, interval: 50 }).not.toBeNull();
  const events = (await engine.readEvents(def.dropId, "0", 1_000)).flatMap((e) => e.events);
  return { dropId: def.dropId, events };
}

function results(local: string[]) {
  const sent: Sent[] = [];
  const draws = new DrawResults({
    engine: g().stack.engine,
    localUsers: () => local,
    toUser: (userId, frame) => sent.push({ userId, frame }),
    log: childLogger("draw-results-test"),
  });
  return { sent, draws };
}

describe("DrawResults (a draw's per-user frames)", () => {
  it("each local entrant gets one frame per entry; winners' holds match the engine, from the placed events or read when this node missed them", async () => {
    const users = ["r-1", "r-2", "r-3", "r-4"];
    const { dropId, events } = await drawn(users);
    const allocated = events.find((e) => e.type === "fair.allocated");
    if (allocated?.type !== "fair.allocated") throw new Error("no fair.allocated event");
    const local = ["r-1", "r-2", "r-3", "someone-else"];

    for (const sawPlaced of [true, false]) {
      const { sent, draws } = results(local);
      if (sawPlaced) for (const e of events) if (e.type === "reservation.placed") draws.placed(e);
      draws.allocated("fair-results", allocated);
      await expect.poll(() => sent.length, { timeout: 5_000, interval: 20 }).toBe(6);

      expect(new Set(sent.map((s) => s.userId))).toEqual(new Set(["r-1", "r-2", "r-3"]));
      for (const userId of ["r-1", "r-2", "r-3"]) {
        const mine = await g().stack.engine.fairEntriesOf(dropId, userId);
        const frames = sent.filter((s) => s.userId === userId).map((s) => s.frame as ServerFrameOf<"entry">);
        expect(frames.map((f) => f.entryId).sort()).toEqual(mine.map((e) => e.entryId).sort());
        for (const f of frames) {
          const truth = mine.find((e) => e.entryId === f.entryId);
          expect(f.status, `${userId} ${sawPlaced}`).toBe(truth?.status);
          expect(f.granted).toBe(truth?.granted);
          expect(f.reservationId ?? null).toBe(truth?.reservationId);
          if (f.reservationId)
            expect(f.deadline).toBe((await g().stack.engine.reservation(f.reservationId)).deadline);
        }
      }
    }
  });
});
