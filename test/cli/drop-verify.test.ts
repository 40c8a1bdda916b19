import { describe, expect, it } from "vitest";
import { keySpace } from "../../sale-engine/index.ts";
import { livedrop } from "../harness/cli.ts";
import { useGatewayStack } from "../harness/gateway.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

const g = useGatewayStack();

/** A drop whose fair window (2 s) closed with `users` entered, allocated by the stack's sweeper. */
async function drawnDrop(room: string, users: string[], stock: number): Promise<string> {
  const def = dropDefinition({ roomId: room, initialStock: stock, perUserLimit: 1, fairWindowMs: 2_000 });
  const engine = g().stack.engine;
  await engine.createDrop(def);
  await Promise.all(
    users.map((userId) => engine.buy({ dropId: def.dropId, userId, qty: 1, idempotencyKey: key() })),
  );
  await expect.poll(() => engine.fairDraw(def.dropId), { timeout: 10_000, interval: 50 }).not.toBeNull();
  return def.dropId;
}

const verify = (dropId: string, ...extra: string[]) =>
  livedrop(["drop", "verify", dropId, ...extra], g().stack.env);

describe("livedrop drop verify", () => {
  it("recomputes a draw from the public endpoint and from Redis; an edited draw does not match (exit 1)", async () => {
    const dropId = await drawnDrop("verify-room", ["v-1", "v-2", "v-3", "v-4"], 2);
    const want = { dropId, verified: true, entries: 4, winners: 2, units: 2 };
    for (const args of [["--url", g().server.url], []]) {
      const ok = await verify(dropId, ...args);
      expect(ok.code, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout)).toEqual(want);
    }

    // Give the last entry in draw order a unit it did not win.
    const entriesKey = keySpace(g().stack.prefix).drop(dropId).entries;
    const redis = g().redis.client();
    try {
      const raw = await redis.hgetall(entriesKey);
      const [last, value] = Object.entries(raw).sort(
        ([, x], [, y]) => Number(y.split("|")[6]) - Number(x.split("|")[6]),
      )[0] as [string, string];
      const f = value.split("|");
      await redis.hset(entriesKey, last, [...f.slice(0, 3), "W", `${dropId}.999`, "1", f[6]].join("|"));
    } finally {
      redis.disconnect();
    }
    const mismatch = { dropId, verified: false, entries: 4, winners: 3, units: 3 };
    const local = await verify(dropId);
    expect(local.code).toBe(1);
    expect(JSON.parse(local.stdout)).toMatchObject({ ...mismatch, reason: expect.stringMatching(/granted/) });
    // The gateway reuses its last read of a draw for GATEWAY_DRAW_CACHE_MS (1 s): ask until it is past.
    let remote = await verify(dropId, "--url", g().server.url);
    for (let tries = 0; remote.code === 0 && tries < 10; tries++)
      remote = await verify(dropId, "--url", g().server.url);
    expect(remote.code).toBe(1);
    expect(JSON.parse(remote.stdout)).toMatchObject({
      ...mismatch,
      reason: expect.stringMatching(/granted/),
    });
  });

  it("says why there is nothing to verify (exit 2): entries still open, no draw, no drop", async () => {
    const open = dropDefinition({ roomId: "verify-room", fairWindowMs: 60_000 });
    const fcfs = dropDefinition({ roomId: "verify-room" });
    await g().stack.engine.createDrop(open);
    await g().stack.engine.createDrop(fcfs);
    for (const args of [["--url", g().server.url], []]) {
      const early = await verify(open.dropId, ...args);
      expect(early.code).toBe(2);
      expect(JSON.parse(early.stdout)).toMatchObject({ error: { code: "DRAW_OPEN" } });
      const none = await verify(fcfs.dropId, ...args);
      expect(none.code).toBe(2);
      expect(JSON.parse(none.stdout)).toMatchObject({ error: { code: "DROP_NOT_FOUND" } });
    }
    const missing = await verify("no-such-drop", "--url", g().server.url);
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: { code: "DROP_NOT_FOUND" } });
    const missingLocal = await verify("no-such-drop", "--json");
    expect(missingLocal.code).toBe(2);
    expect(JSON.parse(missingLocal.stdout)).toMatchObject({ error: { code: "DROP_NOT_FOUND" } });
  });
});
