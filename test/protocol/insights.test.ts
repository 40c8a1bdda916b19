import { describe, expect, it } from "vitest";
import { clientConfigResponseSchema, opsOverviewSchema, roomInsightSchema } from "../../protocol/index.ts";
import { useGatewayStack } from "../harness/gateway.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

// The insights API answers the bodies protocol's schemas describe (the client reads them as such).

const g = useGatewayStack();

async function getJson(path: string, token?: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${g().server.url}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: res.status, json: await res.json() };
}

describe("insights bodies", () => {
  it("the client config, a room's figures and the ops overview parse with their schemas", async () => {
    const def = dropDefinition({ roomId: "insights-room", initialStock: 5 });
    await g().stack.engine.createDrop(def);
    await g().stack.engine.reserve({ dropId: def.dropId, userId: "ann", qty: 2, idempotencyKey: key() });

    const config = await getJson("/api/v1/config");
    expect(config.status).toBe(200);
    expect(clientConfigResponseSchema.safeParse(config.json).error?.issues).toBeUndefined();

    const host = await g().token("host-1", "host", [def.roomId]);
    const room = await getJson(`/api/v1/rooms/${def.roomId}/stats`, host);
    expect(room.status).toBe(200);
    const parsed = roomInsightSchema.safeParse(room.json);
    expect(parsed.error?.issues).toBeUndefined();
    expect(parsed.data?.drops).toEqual([
      expect.objectContaining({ dropId: def.dropId, held: 2, available: 3 }),
    ]);

    const admin = await g().token("admin-1", "admin");
    const ops = await getJson("/api/v1/ops/overview", admin);
    expect(ops.status).toBe(200);
    expect(opsOverviewSchema.safeParse(ops.json).error?.issues).toBeUndefined();
  });
});
