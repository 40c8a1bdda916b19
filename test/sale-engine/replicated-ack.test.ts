import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLivedropError, type RedisClient } from "../../core/index.ts";
import type { RedisServerProcess } from "../../deploy/index.ts";
import { SaleEngine, type SaleEngineOptions } from "../../sale-engine/index.ts";
import { uniquePrefix } from "../harness/redis.ts";
import { RedisReplicaSet } from "../harness/redis-replica-set.ts";
import { dropDefinition, key } from "./fixtures.ts";

// Replicated acknowledgement on a real master with a real replica: a hold or a payment is
// acknowledged only once the replica has it; a replica that does not answer in time turns the
// answer into the retryable REPLICATION_TIMEOUT, and the retry with the same key answers the hold.

/** WAIT timeout of the tests that stop the replica: what they assert. */
const TIMEOUT_MS = 300;
/** WAIT timeout of the tests with a healthy replica, which acknowledges long before it. */
const HEALTHY_TIMEOUT_MS = 5_000;
const engines: SaleEngine[] = [];
let set: RedisReplicaSet;
let master: RedisServerProcess;
let replica: RedisServerProcess;
let replicaClient: RedisClient;

async function engine(server: RedisServerProcess, options: Partial<SaleEngineOptions>): Promise<SaleEngine> {
  const e = await SaleEngine.create({ redis: set.client(server), prefix: uniquePrefix("ack"), ...options });
  engines.push(e);
  return e;
}

/** Polls `check` every 50 ms until it holds, at most `ms`. */
async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitCalls(server: RedisClient): Promise<number> {
  const stats = await server.info("commandstats");
  return Number(/cmdstat_wait:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
    return "resolved";
  } catch (err) {
    return isLivedropError(err) ? err.code : String(err);
  }
}

beforeAll(async () => {
  set = await RedisReplicaSet.start("ack");
  ({ master, replica } = set);
  replicaClient = set.client(replica);
}, 60_000);

afterAll(async () => {
  for (const e of engines) await e.close();
  await set?.stop();
});

describe("replicated acknowledgement (LIVEDROP_ACK_REPLICAS)", () => {
  it("reserve and confirm are acknowledged only once the replica has the hold and the payment", async () => {
    const e = await engine(master, { ackReplicas: 1, ackTimeoutMs: HEALTHY_TIMEOUT_MS });
    const drop = dropDefinition();
    await e.createDrop(drop);
    const buys = await Promise.all(
      ["u1", "u2", "u3"].map((userId) =>
        e.reserve({ dropId: drop.dropId, userId, qty: 1, idempotencyKey: key() }),
      ),
    );
    // Read the replica right after the ack: every acknowledged hold is already there.
    const state = e.keys.drop(drop.dropId).state;
    for (const hold of buys) {
      const raw = await replicaClient.hget(state, `r:${hold.reservationId}`);
      expect(raw?.split("|")[3]).toBe("H");
    }
    const first = buys[0];
    if (!first) throw new Error("no hold");
    await e.confirm(first.reservationId);
    const paid = await replicaClient.hget(state, `r:${first.reservationId}`);
    expect(paid?.split("|")[3]).toBe("C");
  });

  it("a stopped replica turns the buy into REPLICATION_TIMEOUT within the timeout; after it resumes, the same key answers the same hold, also through another connection", async () => {
    const e = await engine(master, { ackReplicas: 1, ackTimeoutMs: TIMEOUT_MS });
    const other = await engine(master, {
      ackReplicas: 1,
      ackTimeoutMs: HEALTHY_TIMEOUT_MS,
      prefix: e.keys.prefix,
    });
    const drop = dropDefinition();
    await e.createDrop(drop);
    const request = { dropId: drop.dropId, userId: "buyer", qty: 1, idempotencyKey: key() };
    const { refused, elapsed, rid } = await set.withReplicaStopped(async () => {
      const started = Date.now();
      let error: unknown;
      await e.reserve(request).catch((err: unknown) => {
        error = err;
      });
      const took = Date.now() - started;
      const details = isLivedropError(error) ? error.details : undefined;
      return {
        refused: isLivedropError(error) ? error.code : String(error),
        elapsed: took,
        rid: details?.reservationId,
      };
    });
    expect(refused).toBe("REPLICATION_TIMEOUT");
    // WAIT's own timeout, not the caller's: far below any dependency deadline.
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 2_500);
    // The hold exists on the master, not yet acknowledged as durable.
    expect((await e.status(drop.dropId)).held).toBe(1);

    await set.inSync();
    const retried = await other.reserve(request);
    expect(retried.reservationId).toBe(rid);
    expect(retried.replayed).toBe(true);
    const state = e.keys.drop(drop.dropId).state;
    expect(await replicaClient.hget(state, `r:${retried.reservationId}`)).not.toBeNull();
    expect((await e.status(drop.dropId)).held).toBe(1);
  });

  it("a confirm the replica did not take in time is REPLICATION_TIMEOUT; the retry answers confirmed (replayed) once it has it", async () => {
    const e = await engine(master, { ackReplicas: 1, ackTimeoutMs: HEALTHY_TIMEOUT_MS });
    const short = await engine(master, { ackReplicas: 1, ackTimeoutMs: TIMEOUT_MS, prefix: e.keys.prefix });
    const drop = dropDefinition();
    await e.createDrop(drop);
    const hold = await e.reserve({ dropId: drop.dropId, userId: "payer", qty: 1, idempotencyKey: key() });
    const refused = await set.withReplicaStopped(() => codeOf(short.confirm(hold.reservationId)));
    expect(refused).toBe("REPLICATION_TIMEOUT");
    await set.inSync();
    const again = await e.confirm(hold.reservationId);
    expect(again).toMatchObject({ status: "confirmed", replayed: true });
    const raw = await replicaClient.hget(e.keys.drop(drop.dropId).state, `r:${hold.reservationId}`);
    expect(raw?.split("|")[3]).toBe("C");
  });

  it("refusals are answered as they are while the replica is stopped (nothing was written for them)", async () => {
    const e = await engine(master, { ackReplicas: 1, ackTimeoutMs: TIMEOUT_MS });
    const drop = dropDefinition();
    await e.createDrop(drop);
    await e.pause(drop.dropId);
    await set.inSync();
    const code = await set.withReplicaStopped(() =>
      codeOf(e.reserve({ dropId: drop.dropId, userId: "late", qty: 1, idempotencyKey: key() })),
    );
    expect(code).toBe("PAUSED");
  });

  it("ACK_REPLICAS=0 never sends WAIT: acks arrive while the replica is stopped", async () => {
    const e = await engine(master, { ackReplicas: 0 });
    const drop = dropDefinition();
    await e.createDrop(drop);
    const probe = set.client(master);
    const before = await waitCalls(probe);
    const { hold, confirmed } = await set.withReplicaStopped(async () => {
      const h = await e.reserve({ dropId: drop.dropId, userId: "fast", qty: 1, idempotencyKey: key() });
      return { hold: h, confirmed: await e.confirm(h.reservationId) };
    });
    expect(hold.replayed).toBe(false);
    expect(confirmed.status).toBe("confirmed");
    expect(await waitCalls(probe)).toBe(before);
    expect(await e.ackReplicas(drop.dropId)).toBe(0);
    await set.inSync();
  });

  it("auto resolves to 1 on a master with a replica, 0 on one without, and follows a replica that appears", async () => {
    const auto = { ackReplicas: "auto", ackAutoCheckMs: 100, ackTimeoutMs: HEALTHY_TIMEOUT_MS } as const;
    const withReplica = await engine(master, auto);
    expect(await withReplica.ackReplicas("any-drop")).toBe(1);

    const lone = await set.server();
    const alone = await engine(lone, auto);
    expect(await alone.ackReplicas("any-drop")).toBe(0);
    const drop = dropDefinition();
    await alone.createDrop(drop);
    const probe = set.client(lone);
    const before = await waitCalls(probe);
    await alone.reserve({ dropId: drop.dropId, userId: "solo", qty: 1, idempotencyKey: key() });
    expect(await waitCalls(probe)).toBe(before);

    const late = await set.server(lone.hostPort);
    await set.linked(late, lone);
    await until("auto sees the new replica", async () => (await alone.ackReplicas("any-drop")) === 1);
    const mark = await waitCalls(probe);
    const hold = await alone.reserve({ dropId: drop.dropId, userId: "duo", qty: 1, idempotencyKey: key() });
    expect(await waitCalls(probe)).toBe(mark + 1);
    const raw = await set.client(late).hget(alone.keys.drop(drop.dropId).state, `r:${hold.reservationId}`);
    expect(raw).not.toBeNull();
  });
});
