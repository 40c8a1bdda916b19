import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { connectRedis, type RedisClient } from "../../core/index.ts";
import { RedisServerProcess } from "../../deploy/index.ts";

/**
 * A private Redis master with one replica (real redis-server processes), for the tests of
 * replicated acknowledgement: clients, waiting until the replica is in sync, stopping the
 * replica's process for a while, and more servers that stop with the set.
 */
export class RedisReplicaSet {
  private readonly servers: RedisServerProcess[] = [];
  private readonly clients: RedisClient[] = [];
  private readonly dirs: string[] = [];
  master!: RedisServerProcess;
  replica!: RedisServerProcess;

  private constructor(private readonly label: string) {}

  /** Starts the master and its replica and waits until the replica is in sync. */
  static async start(label: string): Promise<RedisReplicaSet> {
    const set = new RedisReplicaSet(label);
    try {
      set.master = await set.server();
      set.replica = await set.server(set.master.hostPort);
      await set.inSync();
    } catch (err) {
      await set.stop();
      throw err;
    }
    return set;
  }

  /** Another private server (a replica of `replicaOf` when given); stopped with the set. */
  async server(replicaOf?: string): Promise<RedisServerProcess> {
    const dir = mkdtempSync(path.join(os.tmpdir(), `livedrop-${this.label}-`));
    this.dirs.push(dir);
    const server = await RedisServerProcess.start({
      port: 0,
      dir,
      appendfsync: "everysec",
      ...(replicaOf ? { replicaOf } : {}),
    });
    this.servers.push(server);
    return server;
  }

  /** A client of `server` (default the master), disconnected by stop(). */
  client(server: RedisServerProcess = this.master): RedisClient {
    const c = connectRedis({ url: server.url });
    c.on("error", () => {});
    this.clients.push(c);
    return c;
  }

  /** Waits (polling, at most 20 s) until the replica's link is up and the master's WAIT counts it. */
  async linked(replica: RedisServerProcess, master: RedisServerProcess): Promise<void> {
    const r = this.client(replica);
    const m = this.client(master);
    const deadline = Date.now() + 20_000;
    // WAIT itself: the master counts the replica once it acknowledges the master's offset.
    while (
      !((await r.info("replication")).includes("master_link_status:up") && (await m.wait(1, 100)) >= 1)
    ) {
      if (Date.now() > deadline) throw new Error("replica not in sync within 20 s");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The set's replica is in sync with its master. */
  inSync(): Promise<void> {
    return this.linked(this.replica, this.master);
  }

  /** Runs `work` with the replica's process stopped (SIGSTOP), resuming it whatever happens. */
  async withReplicaStopped<T>(work: () => Promise<T>): Promise<T> {
    const pid = this.replica.pid;
    if (pid === undefined) throw new Error("replica not running");
    process.kill(pid, "SIGSTOP");
    try {
      return await work();
    } finally {
      process.kill(pid, "SIGCONT");
    }
  }

  async stop(): Promise<void> {
    for (const c of this.clients.splice(0)) c.disconnect();
    for (const s of this.servers.splice(0).reverse()) await s.stop();
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}
