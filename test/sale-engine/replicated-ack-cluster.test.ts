import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedis, isLivedropError, type RedisClient } from "../../core/index.ts";
import { RedisClusterProcess, type RedisServerProcess } from "../../deploy/index.ts";
import { SaleEngine } from "../../sale-engine/index.ts";
import { keySlot } from "../../sale-engine/replication.ts";
import { uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, key } from "./fixtures.ts";

// Replicated acknowledgement on Redis Cluster (3 masters, 1 replica each): the script and its WAIT
// go to the master of the drop's slot, and `auto` reads that slot's replicas.

/** WAIT timeout of the call made with the replica stopped: what the test asserts. */
const TIMEOUT_MS = 300;
/** WAIT timeout with a healthy replica, which acknowledges long before it. */
const HEALTHY_TIMEOUT_MS = 5_000;

let dir: string;
let cluster: RedisClusterProcess;
const clients: RedisClient[] = [];
const engines: SaleEngine[] = [];

function clusterClient(): RedisClient {
  const c = connectRedis({ clusterNodes: cluster.hostPorts });
  clients.push(c);
  return c;
}

/** The slot's master and replica processes, from the cluster's own slot table. */
function nodesOfSlot(
  client: RedisClient,
  slot: number,
): { master: RedisServerProcess; replica: RedisServerProcess } {
  const keys = (client as Cluster).slots[slot] ?? [];
  const byKey = (k: string | undefined) => cluster.nodes.find((n) => n.hostPort === k);
  const master = byKey(keys[0]);
  const replica = byKey(keys[1]);
  if (!master || !replica) throw new Error(`slot ${slot}: no master and replica in ${keys.join(",")}`);
  return { master, replica };
}

/** A direct connection to a replica that may read (READONLY) the slots it replicates. */
async function replicaReader(node: RedisServerProcess): Promise<Redis> {
  const r = new Redis(node.url);
  clients.push(r);
  await r.readonly();
  return r;
}

async function until(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Until the slot's master counts its replica (WAIT on a direct connection answers 1). */
async function replicaInSync(master: RedisServerProcess): Promise<void> {
  const m = new Redis(master.url);
  try {
    await until("replica in sync", async () => (await m.wait(1, 100)) >= 1);
  } finally {
    m.disconnect();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-ack-cluster-"));
  cluster = await RedisClusterProcess.start({ dir, replicas: 1 });
}, 120_000);

afterAll(async () => {
  for (const e of engines) await e.close();
  for (const c of clients) c.disconnect();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("replicated acknowledgement on Redis Cluster", () => {
  it("the engine computes each drop's slot as Redis does", async () => {
    const c = clusterClient();
    for (const tag of ["drop-1", "a", "drop-xyz-123", "ümlaut"]) {
      const slot = Number(await c.cluster("KEYSLOT", `ld:drop:{${tag}}`));
      expect(keySlot(tag)).toBe(slot);
    }
  });

  it("auto waits for the slot's replica: the hold is on it at the ack; with it stopped the buy is REPLICATION_TIMEOUT, and the retry answers the same hold", async () => {
    const prefix = uniquePrefix("ack-cluster");
    const redis = clusterClient();
    const e = await SaleEngine.create({
      redis,
      prefix,
      ackReplicas: "auto",
      ackTimeoutMs: HEALTHY_TIMEOUT_MS,
    });
    const short = await SaleEngine.create({ redis, prefix, ackReplicas: "auto", ackTimeoutMs: TIMEOUT_MS });
    engines.push(e, short);
    const drop = dropDefinition();
    await e.createDrop(drop);
    await until("auto sees the slot's replica", async () => (await e.ackReplicas(drop.dropId)) === 1);
    const { master, replica } = nodesOfSlot(redis, keySlot(drop.dropId));
    await replicaInSync(master);
    const reader = await replicaReader(replica);
    const state = e.keys.drop(drop.dropId).state;

    const held = await e.reserve({ dropId: drop.dropId, userId: "u1", qty: 1, idempotencyKey: key() });
    expect((await reader.hget(state, `r:${held.reservationId}`))?.split("|")[3]).toBe("H");

    const request = { dropId: drop.dropId, userId: "u2", qty: 1, idempotencyKey: key() };
    const pid = replica.pid;
    if (pid === undefined) throw new Error("replica not running");
    let error: unknown;
    process.kill(pid, "SIGSTOP");
    try {
      await short.reserve(request).catch((err: unknown) => {
        error = err;
      });
    } finally {
      process.kill(pid, "SIGCONT");
    }
    expect(isLivedropError(error) ? error.code : String(error)).toBe("REPLICATION_TIMEOUT");
    const rid = isLivedropError(error) ? error.details?.reservationId : undefined;

    await replicaInSync(master);
    const retried = await e.reserve(request);
    expect(retried).toMatchObject({ reservationId: rid, replayed: true });
    expect(await reader.hget(state, `r:${retried.reservationId}`)).not.toBeNull();

    const paid = await e.confirm(retried.reservationId);
    expect(paid.status).toBe("confirmed");
    expect((await reader.hget(state, `r:${retried.reservationId}`))?.split("|")[3]).toBe("C");
  });
});
