import type { RedisClient } from "../core/index.ts";
import type { KeySpace } from "./keys.ts";
import { decodeCount } from "./replies.ts";
import type { ScriptCommands } from "./scripts.ts";

/** Drop ids per index-repair script call (bounds the script's argument count). */
const REPAIR_CHUNK = 1_000;

/**
 * The drops the background loops (relay, reconciler, expiry sweep) visit, so their idle cost
 * follows the live drops, not the history. A drop enters before its create script runs and
 * leaves once it is settled for good: ended, no hold, outbox empty (the expire script reports
 * it). Nothing can change such a drop any more, so leaving needs no lock across slots. The
 * index has its own hash tag (see keys.ts): the drops' scripts cannot write it on a cluster.
 */
export class ActiveIndex {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    private readonly cmd: ScriptCommands,
    /** How long an entry whose drop does not exist is kept (a createDrop in flight), ms. */
    private readonly graceMs: number,
  ) {}

  /**
   * Before a drop's create script, so a crash in between leaves an entry that a sweep removes
   * (see missing), never a drop the loops miss. Returns the entry's score when this call added
   * it (for undo), else null.
   */
  async enter(dropId: string): Promise<number | null> {
    const score = Date.now();
    const added = await this.redis.zadd(this.keys.activeDrops, "NX", score, dropId);
    return Number(added) === 1 ? score : null;
  }

  /** The create script refused: take back the entry `enter` added, leaving the index as it was. */
  async undo(dropId: string, score: number): Promise<void> {
    await this.cmd.ldIndexRetire(this.keys.activeDrops, this.keys.retiredDrops, dropId, score);
  }

  list(): Promise<string[]> {
    return this.redis.zrange(this.keys.activeDrops, 0, -1);
  }

  /** The ids among `dropIds` that are in the index, in the given order. */
  async filter(dropIds: string[]): Promise<string[]> {
    if (dropIds.length === 0) return [];
    const scores = await this.redis.zmscore(this.keys.activeDrops, ...dropIds);
    return dropIds.filter((_, i) => scores[i] !== null);
  }

  /** The drop ended with nothing pending (expire script's answer): it leaves for good. */
  async settled(dropId: string): Promise<void> {
    await this.cmd.ldIndexRetire(this.keys.activeDrops, this.keys.retiredDrops, dropId, "");
  }

  /** The drop does not exist: its entry goes once older than the grace period. */
  async missing(dropId: string): Promise<boolean> {
    const cutoff = Date.now() - this.graceMs;
    const removed = await this.cmd.ldIndexRetire(
      this.keys.activeDrops,
      this.keys.retiredDrops,
      dropId,
      cutoff,
    );
    return decodeCount(removed) === 1;
  }

  /**
   * The cheap check behind periodic repairs: three counts. Every registered drop is active or
   * retired unless one was missed, so a full repair runs only when the registry is larger.
   * (Entries not yet or never registered, a createDrop in flight or one that died, can hide a
   * miss until they go; the full repair at each sweeper start covers the rest.)
   */
  async repairIfNeeded(): Promise<number> {
    const [registered, active, retired] = await Promise.all([
      this.redis.zcard(this.keys.dropRegistry),
      this.redis.zcard(this.keys.activeDrops),
      this.redis.scard(this.keys.retiredDrops),
    ]);
    return registered > active + retired ? this.repair() : 0;
  }

  /**
   * Puts back every registered drop that is neither active nor retired (drops created before
   * the index existed, or by an engine that does not keep it). Reads the whole registry and
   * compares in Lua, so it costs in proportion to the history: run it rarely.
   */
  async repair(): Promise<number> {
    const ids = await this.redis.zrange(this.keys.dropRegistry, 0, -1);
    let added = 0;
    for (let start = 0; start < ids.length; start += REPAIR_CHUNK) {
      const chunk = ids.slice(start, start + REPAIR_CHUNK);
      added += decodeCount(
        await this.cmd.ldIndexRepair(this.keys.activeDrops, this.keys.retiredDrops, Date.now(), ...chunk),
      );
    }
    return added;
  }
}
