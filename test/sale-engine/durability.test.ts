import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connectRedis, isLivedropError, NotFoundError, type RedisClient } from "../../core/index.ts";
import { freePort, RedisServerProcess, waitForPong } from "../../deploy/index.ts";
import { type DropStatus, type ReservationRecord, SaleEngine } from "../../sale-engine/index.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, key } from "./fixtures.ts";

// The sale engine keeps working, and keeps what it acknowledged, when Redis forgets its scripts,
// restarts cleanly, or is killed with SIGKILL in the middle of a burst (appendfsync always).

let redis: PrivateRedis;
let engines: SaleEngine[] = [];
let clients: RedisClient[] = [];
/** Stops the buyers of the crash test when it fails half-way. */
let stopBuyers: (() => Promise<void>) | undefined;
async function serverAnswers(): Promise<boolean> {
  const { host, port } = redis.server.options;
  return waitForPong(host, port, 300).then(
    () => true,
    () => false,
  );
}

beforeAll(async () => {
  redis = await startPrivateRedis({ appendfsync: "always" });
});

afterEach(async () => {
  await stopBuyers?.();
  stopBuyers = undefined;
  for (const e of engines) await e.close();
  for (const c of clients) c.disconnect();
  engines = [];
  clients = [];
  // A failed crash test may leave the server down: the next test needs it.
  if (!(await serverAnswers())) await redis.server.restart();
});

afterAll(async () => {
  await redis?.stop();
});

function client(): RedisClient {
  const c = redis.client();
  // Connection errors while Redis is down are expected here; the calls themselves report them.
  c.on("error", () => {});
  clients.push(c);
  return c;
}

async function newEngine(prefix: string): Promise<SaleEngine> {
  const e = await SaleEngine.create({ redis: client(), prefix });
  engines.push(e);
  return e;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function withoutClock(s: DropStatus): Omit<DropStatus, "serverTime"> {
  const { serverTime: _serverTime, ...rest } = s;
  return rest;
}

function invariant(s: DropStatus) {
  expect(s.available + s.held + s.sold).toBe(s.initial + s.restocked);
}

/**
 * Every reservation of a drop through the public API. Ids are `<dropId>.<n>` with a gap-free
 * sequence n = 1, 2, ...; read in parallel chunks until the first id that does not exist.
 */
async function reservationsOf(engine: SaleEngine, dropId: string): Promise<ReservationRecord[]> {
  const out: ReservationRecord[] = [];
  const chunk = 500;
  for (let start = 1; ; start += chunk) {
    const found = await Promise.all(
      Array.from({ length: chunk }, (_, i) =>
        engine.reservation(`${dropId}.${start + i}`).catch((e: unknown) => {
          if (e instanceof NotFoundError) return undefined;
          throw e;
        }),
      ),
    );
    const firstMissing = found.indexOf(undefined);
    if (firstMissing === -1) {
      out.push(...(found as ReservationRecord[]));
      continue;
    }
    out.push(...(found.slice(0, firstMissing) as ReservationRecord[]));
    // Gap-free: nothing exists after the first missing id.
    expect(found.slice(firstMissing).every((r) => r === undefined)).toBe(true);
    return out;
  }
}

describe("durability", () => {
  it("scripts survive SCRIPT FLUSH: every engine operation still works", async () => {
    const engine = await newEngine(uniquePrefix("flush"));
    const admin = client();
    const cachedScripts = async () => {
      const info = await admin.info("memory");
      const m = /number_of_cached_scripts:(\d+)/.exec(info);
      expect(m).not.toBeNull();
      return Number(m?.[1]);
    };
    const flush = async () => {
      expect(await admin.script("FLUSH")).toBe("OK");
      expect(await cachedScripts()).toBe(0);
    };

    const def = dropDefinition({ initialStock: 10, perUserLimit: 5 });
    const short = dropDefinition({ holdMs: 1_000 });
    await engine.createDrop(def);
    await engine.createDrop(short);
    const r1 = await engine.reserve({ dropId: def.dropId, userId: "u1", qty: 1, idempotencyKey: key() });
    const due = await engine.reserve({ dropId: short.dropId, userId: "u1", qty: 1, idempotencyKey: key() });
    expect(await cachedScripts()).toBeGreaterThan(0);

    await flush();
    expect(await engine.status(def.dropId)).toMatchObject({ state: "live", available: 9, held: 1, sold: 0 });

    await flush();
    const k2 = key();
    const r2 = await engine.reserve({ dropId: def.dropId, userId: "u2", qty: 2, idempotencyKey: k2 });
    expect(r2).toMatchObject({ reservationId: `${def.dropId}.2`, available: 7, replayed: false });

    await flush();
    expect(await engine.reserve({ dropId: def.dropId, userId: "u2", qty: 2, idempotencyKey: k2 })).toEqual({
      ...r2,
      replayed: true,
    });

    await flush();
    expect(await engine.confirm(r1.reservationId)).toMatchObject({ status: "confirmed", replayed: false });

    await flush();
    expect(await engine.release(r2.reservationId)).toMatchObject({ status: "released", replayed: false });

    await flush();
    expect(await engine.restock(def.dropId, 3)).toMatchObject({
      available: 12,
      restocked: 3,
      sold: 1,
      held: 0,
    });

    await flush();
    expect(await engine.pause(def.dropId)).toMatchObject({ state: "paused", changed: true });

    await flush();
    await expect(
      engine.reserve({ dropId: def.dropId, userId: "u3", qty: 1, idempotencyKey: key() }),
    ).rejects.toMatchObject({ code: "PAUSED" });

    await flush();
    expect(await engine.resume(def.dropId)).toMatchObject({ state: "live", changed: true });

    await flush();
    await sleep(Math.max(0, due.deadline - (await engine.status(short.dropId)).serverTime + 50));
    await flush();
    expect((await engine.expireDue(short.dropId)).expired).toEqual([due.reservationId]);

    await flush();
    const again = dropDefinition();
    expect((await engine.createDrop(again)).created).toBe(true);

    await flush();
    expect(await engine.end(again.dropId)).toMatchObject({ state: "ended", changed: true });

    const s = await engine.status(def.dropId);
    expect(s).toMatchObject({ available: 12, held: 0, sold: 1, initial: 10, restocked: 3 });
    invariant(s);
    expect(await engine.reservation(r1.reservationId)).toMatchObject({ status: "confirmed", userId: "u1" });
    expect(await engine.reservation(r2.reservationId)).toMatchObject({ status: "released", userId: "u2" });
    expect(await engine.reservation(due.reservationId)).toMatchObject({ status: "expired" });
    expect(await engine.status(short.dropId)).toMatchObject({ available: 10, held: 0 });
    // The engine loaded its scripts again.
    expect(await cachedScripts()).toBeGreaterThan(0);
  });

  it("scripts survive a Redis restart: the same engine keeps working and the drop's data is intact", async () => {
    const engine = await newEngine(uniquePrefix("restart"));
    const def = dropDefinition({ initialStock: 20, perUserLimit: 3, holdMs: 120_000 });
    await engine.createDrop(def);
    const k1 = key();
    const held = await engine.reserve({ dropId: def.dropId, userId: "u1", qty: 2, idempotencyKey: k1 });
    const sold = await engine.reserve({ dropId: def.dropId, userId: "u2", qty: 3, idempotencyKey: key() });
    await engine.confirm(sold.reservationId);
    const released = await engine.reserve({
      dropId: def.dropId,
      userId: "u3",
      qty: 1,
      idempotencyKey: key(),
    });
    await engine.release(released.reservationId);
    await engine.restock(def.dropId, 5);
    const before = await engine.status(def.dropId);
    const recordsBefore = await reservationsOf(engine, def.dropId);
    expect(recordsBefore.map((r) => r.status)).toEqual(["held", "confirmed", "released"]);

    await redis.server.stop();
    expect(redis.server.pid).toBeUndefined();
    // Calls made while Redis is down wait for it (ioredis offline queue) and then succeed.
    const statusWhileDown = engine.status(def.dropId);
    const reserveWhileDown = engine.reserve({
      dropId: def.dropId,
      userId: "u4",
      qty: 1,
      idempotencyKey: key(),
    });
    await sleep(200);
    await redis.server.restart();

    expect(withoutClock(await statusWhileDown)).toEqual(withoutClock(before));
    const placed = await reserveWhileDown;
    expect(placed).toMatchObject({ reservationId: `${def.dropId}.4`, replayed: false, available: 19 });

    // The data from before the restart is intact.
    expect((await reservationsOf(engine, def.dropId)).slice(0, 3)).toEqual(recordsBefore);
    expect(await engine.unitsOfUser(def.dropId, "u1")).toBe(2);
    expect(await engine.unitsOfUser(def.dropId, "u2")).toBe(3);
    expect(await engine.unitsOfUser(def.dropId, "u3")).toBe(0);
    expect(await engine.listDrops()).toContain(def.dropId);
    // Idempotency records survived: a retry gets the original answer.
    expect(await engine.reserve({ dropId: def.dropId, userId: "u1", qty: 2, idempotencyKey: k1 })).toEqual({
      ...held,
      replayed: true,
    });

    // Every operation works after the restart.
    expect(await engine.confirm(held.reservationId)).toMatchObject({ status: "confirmed", replayed: false });
    expect(await engine.release(placed.reservationId)).toMatchObject({ status: "released" });
    expect(await engine.restock(def.dropId, 1)).toMatchObject({ restocked: 6 });
    expect(await engine.pause(def.dropId)).toMatchObject({ state: "paused" });
    expect(await engine.resume(def.dropId)).toMatchObject({ state: "live" });
    expect((await engine.expireDue(def.dropId)).expired).toEqual([]);
    const after = await engine.status(def.dropId);
    expect(after).toMatchObject({ initial: 20, restocked: 6, sold: 5, held: 0, available: 21 });
    expect(after.version).toBeGreaterThan(before.version);
    invariant(after);
  });

  it("with appendfsync always, SIGKILL mid-run loses no acknowledged reservation", async () => {
    const prefix = uniquePrefix("crash");
    const STOCK = 100_000;
    const MAX_ATTEMPTS = 20_000;
    const WORKERS_PER_ENGINE = 8;
    const def = dropDefinition({ initialStock: STOCK, perUserLimit: 1, holdMs: 600_000 });
    const buyers = [await newEngine(prefix), await newEngine(prefix), await newEngine(prefix)];
    const checker = await newEngine(prefix);
    await checker.createDrop(def);

    type Phase = "before" | "down" | "after";
    interface Ack {
      readonly reservationId: string;
      readonly userId: string;
      readonly qty: number;
      readonly idempotencyKey: string;
      readonly replayed: boolean;
      readonly startedIn: Phase;
      readonly resolvedIn: Phase;
    }
    let phase: Phase = "before";
    let stopped = false;
    let attempts = 0;
    const acks: Ack[] = [];
    const failures: unknown[] = [];
    const hardStop = Date.now() + 20_000;

    const buyer = async (engine: SaleEngine, name: string) => {
      for (let i = 0; !stopped && attempts < MAX_ATTEMPTS && Date.now() < hardStop; i++) {
        attempts += 1;
        const startedIn = phase;
        const userId = `buyer-${name}-${i}`;
        const idempotencyKey = key();
        try {
          // Resolved = acknowledged; a call that threw is not acknowledged.
          const r = await engine.reserve({ dropId: def.dropId, userId, qty: 1, idempotencyKey });
          acks.push({ ...r, idempotencyKey, startedIn, resolvedIn: phase });
        } catch (err) {
          failures.push(err);
          await sleep(5);
        }
      }
    };
    const loops = buyers.flatMap((engine, e) =>
      Array.from({ length: WORKERS_PER_ENGINE }, (_, w) => buyer(engine, `${e}-${w}`)),
    );
    stopBuyers = async () => {
      stopped = true;
      await Promise.all(loops);
    };

    await sleep(300);
    const ackedBeforeKill = acks.length;
    phase = "down";
    await redis.server.kill();
    expect(await serverAnswers()).toBe(false);
    await sleep(200);
    await redis.server.restart();
    phase = "after";
    // Keep buying for a while after the restart (bounded).
    const until = Date.now() + 3_000;
    while (Date.now() < until && acks.filter((a) => a.startedIn === "after").length < 300) await sleep(25);
    await stopBuyers();
    stopBuyers = undefined;

    expect(ackedBeforeKill).toBeGreaterThan(0);
    expect(attempts).toBeLessThanOrEqual(MAX_ATTEMPTS + buyers.length * WORKERS_PER_ENGINE);

    // Every acknowledged reservation exists, held, for the right buyer and quantity.
    expect(new Set(acks.map((a) => a.reservationId)).size).toBe(acks.length);
    const records = await Promise.all(acks.map((a) => checker.reservation(a.reservationId)));
    records.forEach((rec, i) => {
      const a = acks[i]!;
      expect(rec).toMatchObject({
        reservationId: a.reservationId,
        dropId: def.dropId,
        userId: a.userId,
        qty: a.qty,
        status: "held",
        idempotencyKey: a.idempotencyKey,
      });
    });
    const units = await Promise.all(acks.map((a) => checker.unitsOfUser(def.dropId, a.userId)));
    expect(units.every((u) => u === 1)).toBe(true);
    // Failures may only be connection trouble: the sale itself never refuses these buyers.
    expect(failures.filter(isLivedropError)).toEqual([]);
    // Buying went on after the restart.
    expect(acks.filter((a) => a.startedIn === "after").length).toBeGreaterThan(0);

    // The counters agree with the reservations that exist (acknowledged or not).
    const s = await checker.status(def.dropId);
    expect(s).toMatchObject({ initial: STOCK, restocked: 0, sold: 0, state: "live" });
    invariant(s);
    const all = await reservationsOf(checker, def.dropId);
    const heldRecords = all.filter((r) => r.status === "held");
    expect(heldRecords).toHaveLength(all.length);
    expect(s.held).toBe(heldRecords.length);
    expect(s.held).toBe(heldRecords.reduce((n, r) => n + r.qty, 0));
    expect(new Set(heldRecords.map((r) => r.userId)).size).toBe(heldRecords.length);
    expect(await client().zcard(checker.keys.drop(def.dropId).holds)).toBe(s.held);
    expect(s.held).toBeGreaterThanOrEqual(acks.length);
    expect(s.held).toBeLessThanOrEqual(attempts);
  });

  it("RedisServerProcess.restart() starts the server again after kill() (SIGKILL)", async () => {
    const dir = redis.server.options.dir;
    const server = await RedisServerProcess.start({
      port: await freePort(),
      dir: path.join(dir, "kill-restart"),
    });
    try {
      const c = connectRedis({ url: server.url }, { maxRetriesPerRequest: 0, retryStrategy: () => null });
      c.on("error", () => {});
      clients.push(c);
      expect(await c.set("k", "v")).toBe("OK");
      await server.kill();
      // The process is gone...
      await expect(waitForPong(server.options.host, server.options.port, 300)).rejects.toThrow();
      // ...so it reports no pid and restarts on the same port and data directory.
      expect(server.pid).toBeUndefined();
      await server.restart();
      const again = connectRedis({ url: server.url });
      again.on("error", () => {});
      clients.push(again);
      expect(await again.get("k")).toBe("v");
    } finally {
      await server.stop();
    }
  });
});
