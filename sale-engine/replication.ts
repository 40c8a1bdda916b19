import { Cluster } from "ioredis";
import { ErrorCode, LivedropError, type RedisClient, type ScriptReply } from "../core/index.ts";
import type { ScriptSource } from "./script-source.ts";

/** Replicas an acknowledgement waits for: a count, or `auto` (see ReplicatedAck.required). */
export type AckReplicas = number | "auto";

export interface ReplicationOptions {
  readonly replicas: AckReplicas;
  /** WAIT timeout, ms. */
  readonly timeoutMs: number;
  /** How old the `auto` answer may get before it is checked again (in the background), ms. */
  readonly autoCheckMs: number;
}

/** A script's answer and how many replicas confirmed its writes (WAIT's answer). */
export interface ReplicatedReply {
  readonly reply: ScriptReply;
  readonly replicas: number;
}

/**
 * Replicated acknowledgement: a script and `WAIT n timeout` sent back to back in one pipeline on
 * the connection to the drop's master (WAIT is refused inside scripts, and it waits for what this
 * very connection wrote). On Redis Cluster a pipeline goes to the node of its keys' slot and the
 * keyless WAIT rides along to that node.
 *
 * `auto` resolves per master: on a single Redis, 1 when INFO replication shows a connected
 * replica; on a cluster, 1 when the slot's entry in the slot table (CLUSTER SLOTS, which leaves out
 * failed replicas) lists a replica. The answer is cached and refreshed in the background once
 * older than `autoCheckMs`; only the first acknowledgement waits for it.
 */
export class ReplicatedAck {
  private auto: { replicas: number; checkedAt: number } | undefined;
  private checking: Promise<number> | undefined;
  /** When the cluster slot table was last refreshed for `auto`, ms. */
  private slotsCheckedAt = 0;

  constructor(
    private readonly redis: RedisClient,
    readonly options: ReplicationOptions,
  ) {}

  /** Replicas to wait for on the master of `dropId` (0: send no WAIT). */
  required(dropId: string): number | Promise<number> {
    const wanted = this.options.replicas;
    if (wanted !== "auto") return wanted;
    if (this.redis instanceof Cluster) return this.clusterAuto(this.redis, dropId);
    const cached = this.auto;
    if (cached && Date.now() - cached.checkedAt < this.options.autoCheckMs) return cached.replicas;
    const check = this.check();
    // A stale answer is used while the next one is fetched: no buy waits for INFO but the first.
    if (cached) {
      check.catch(() => {});
      return cached.replicas;
    }
    return check;
  }

  /**
   * Runs `script` and then WAIT for `replicas` in one pipeline. Throws a LivedropError when the
   * pipeline could not run the script (UNAVAILABLE: it did not run) and passes Redis's own error
   * otherwise, like a direct script call.
   */
  async run(
    script: ScriptSource,
    keys: readonly string[],
    args: readonly (string | number)[],
    replicas: number,
  ): Promise<ReplicatedReply> {
    let answer = await this.pipeline(script, keys, args, replicas, "sha");
    // Not cached on this server yet (first call, restart, SCRIPT FLUSH): EVAL, again before WAIT.
    if (answer instanceof Error && answer.message.startsWith("NOSCRIPT"))
      answer = await this.pipeline(script, keys, args, replicas, "source");
    if (answer instanceof Error) {
      // A cluster redirect or failover answer: the script did not run, the same request may be sent again.
      if (/^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b/.test(answer.message))
        throw new LivedropError(ErrorCode.UNAVAILABLE, `Redis is moving the drop's slot: retry shortly`, {
          cause: answer.message,
        });
      throw answer;
    }
    return answer;
  }

  private async pipeline(
    script: ScriptSource,
    keys: readonly string[],
    args: readonly (string | number)[],
    replicas: number,
    by: "sha" | "source",
  ): Promise<ReplicatedReply | Error> {
    const p = this.redis.pipeline();
    if (by === "sha") p.evalsha(script.sha, script.keys, ...keys, ...args);
    else p.eval(script.lua, script.keys, ...keys, ...args);
    p.wait(replicas, this.options.timeoutMs);
    const results = await p.exec();
    const [scriptResult, waitResult] = results ?? [];
    if (!scriptResult || !waitResult) return new Error("the replicated pipeline returned no answer");
    if (scriptResult[0]) return scriptResult[0];
    if (waitResult[0]) return waitResult[0];
    return { reply: scriptResult[1] as ScriptReply, replicas: Number(waitResult[1]) };
  }

  private check(): Promise<number> {
    this.checking ??= this.redis
      .info("replication")
      .then((info) => {
        const connected = Number(/^connected_slaves:(\d+)/m.exec(info)?.[1] ?? 0);
        const replicas = connected > 0 ? 1 : 0;
        this.auto = { replicas, checkedAt: Date.now() };
        return replicas;
      })
      .finally(() => {
        this.checking = undefined;
      });
    return this.checking;
  }

  private clusterAuto(cluster: Cluster, dropId: string): number | Promise<number> {
    const now = Date.now();
    // ioredis refreshes its slot table on redirects only; refresh it when older than autoCheckMs.
    if (now - this.slotsCheckedAt >= this.options.autoCheckMs) {
      this.slotsCheckedAt = now;
      cluster.refreshSlotsCache();
    }
    const slot = keySlot(dropId);
    const replicas = () => ((cluster.slots[slot]?.length ?? 0) > 1 ? 1 : 0);
    // No slot table yet (not connected): a command waits until ioredis has one; never guess 0.
    if (cluster.slots[slot] === undefined) return cluster.ping().then(replicas);
    return replicas();
  }
}

/** The Redis Cluster slot of a hash tag's content (CRC16/XMODEM mod 16384). */
export function keySlot(tag: string): number {
  let crc = 0;
  for (const byte of Buffer.from(tag)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

/** The typed answer of an acknowledgement that fewer replicas than required confirmed in time. */
export function replicationTimeout(
  required: number,
  confirmed: number,
  timeoutMs: number,
  details: Record<string, unknown>,
): LivedropError {
  return new LivedropError(
    ErrorCode.REPLICATION_TIMEOUT,
    `recorded, but ${confirmed} of ${required} replicas confirmed it within ${timeoutMs} ms: retry with the same idempotency key`,
    { ...details, replicas: confirmed, required },
  );
}
