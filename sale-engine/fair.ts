import type { RedisClient } from "../core/index.ts";
import { ErrorCode, isLivedropError, LivedropError } from "../core/index.ts";
import { type DrawInput, type DrawResult, drawOrder, maskUser } from "./draw.ts";
import { scriptError } from "./errors.ts";
import { type EligibleAtDraw, isPresenceUnavailable, presenceFlags } from "./giveaway.ts";
import type { KeySpace } from "./keys.ts";
import { decodeAllocate } from "./replies.ts";
import type { ScriptCommands } from "./scripts.ts";

/** What allocateFairWindow did. */
export type FairAllocation =
  | {
      readonly dropId: string;
      readonly allocated: true;
      /** False: an earlier call (any process) allocated it; the counts are that allocation's. */
      readonly allocatedNow: boolean;
      readonly winners: number;
      readonly losers: number;
      readonly units: number;
      /** Units available when the window closed. */
      readonly stock: number;
    }
  /** Not a fair drop (`dueAt` null), or its window is open until `dueAt` (server clock, ms). */
  | { readonly dropId: string; readonly allocated: false; readonly dueAt: number | null };

/** One entrant's result: still in the draw, won (a hold), or lost. */
export interface FairEntryResult {
  readonly dropId: string;
  readonly entryId: string;
  readonly userId: string;
  readonly qty: number;
  readonly status: "entered" | "won" | "lost";
  readonly reservationId: string | null;
  readonly granted: number;
}

/** A closed window as a verifier needs it: seed, stock, entries (users masked) in draw order. */
export interface FairDraw {
  readonly dropId: string;
  readonly seed: string;
  readonly seedHash: string;
  readonly stock: number;
  readonly perUserLimit: number;
  readonly results: readonly DrawResult[];
  /** Entry ids a giveaway's draw skipped (users not in the room then; granted 0); [] for others. */
  readonly skipped: readonly string[];
}

/**
 * An entries-hash value: `user|qty|key` then `|W|rid|granted|pos`, `|L||0|pos` or `|S||0|pos`
 * (skipped: absent at a giveaway's draw; a loss to its user).
 */
function parseEntry(
  dropId: string,
  entryId: string,
  raw: string,
): FairEntryResult & { position: number; skipped: boolean } {
  const [userId = "", qty = "0", , outcome = "", rid = "", granted = "0", position = "0"] = raw.split("|");
  return {
    dropId,
    entryId,
    userId,
    qty: Number(qty),
    status: outcome === "W" ? "won" : outcome === "L" || outcome === "S" ? "lost" : "entered",
    reservationId: rid === "" ? null : rid,
    granted: Number(granted),
    position: Number(position),
    skipped: outcome === "S",
  };
}

/**
 * The engine side of fair windows (lua/allocate.lua does the atomic part): reads the entries,
 * computes the draw order in TS (HMAC-SHA256, which Lua lacks) and hands it to the script, which
 * checks it is exactly the recorded entries and the stored seed. Safe from any number of
 * processes at once: the script allocates once; later calls answer the first allocation.
 */
export class FairWindows {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    private readonly cmd: ScriptCommands,
    private readonly eventLogLength: number,
    /** Asked at a giveaway's draw which entrants are in the room (see giveaway.ts). */
    private readonly eligibleAtDraw?: EligibleAtDraw,
  ) {}

  async allocate(dropId: string): Promise<FairAllocation> {
    const k = this.keys.drop(dropId);
    const [fwin, seed, falloc, starts, fmt, room] = await this.redis.hmget(
      k.state,
      "fwin",
      "fseed",
      "falloc",
      "starts",
      "fmt",
      "room",
    );
    if (starts === null) throw scriptError("DROP_NOT_FOUND", { dropId });
    if (!fwin || Number(fwin) <= 0 || !seed) return { dropId, allocated: false, dueAt: null };
    const dueAt = Number(starts) + Number(fwin);
    // Before the end of the window, a clock read instead of reading every entry (the fair pass
    // calls this every 100 ms); the script judges again by its own clock.
    if (falloc === null) {
      const [sec, micros] = await this.redis.time();
      if (Number(sec) * 1000 + Math.floor(Number(micros) / 1000) <= dueAt)
        return { dropId, allocated: false, dueAt };
    }
    // Entries are frozen once the window has passed (reserve.lua refuses until allocated), so
    // the set read here is the set the script checks, unless the window is still open.
    let order: string[] = [];
    let present: string | undefined;
    if (falloc === null) {
      const raw = await this.redis.hgetall(k.entries);
      const entries = Object.keys(raw).map((entryId) => ({ entryId }));
      const users: string[] = [];
      order = drawOrder(seed, entries).flatMap(({ entryId }) => {
        const userId = (raw[entryId] ?? "").split("|")[0] ?? "";
        users.push(userId);
        return [entryId, maskUser(seed, userId)];
      });
      // A giveaway's entrants must be in the room now: the script skips the absent ones.
      if (fmt === "giveaway") present = await presenceFlags(this.eligibleAtDraw, room ?? "", users);
    }
    const reply = decodeAllocate(
      await this.cmd.ldAllocate(
        k.state,
        k.holds,
        k.outbox,
        k.events,
        k.log,
        k.entries,
        dropId,
        this.eventLogLength,
        seed,
        order.length / 2,
        // As one array, which ioredis flattens: spread, 2 x 100,000 arguments overflow the stack.
        order as unknown as string,
        ...(present === undefined ? [] : [present]),
      ),
    );
    if (!reply.ok && "dueAt" in reply) return { dropId, allocated: false, dueAt: reply.dueAt };
    if (!reply.ok) throw scriptError(reply.code, { dropId });
    const { allocatedNow, winners, losers, units, stock } = reply;
    return { dropId, allocated: true, allocatedNow, winners, losers, units, stock };
  }

  /**
   * One pass over the fair drops not allocated yet whose due time (the pending index's score,
   * server clock) has come: allocates those whose window has passed; drops allocated by an
   * earlier pass, without a window or gone leave the pending index. A drop found not due yet
   * (a launch moved its start) is scored again with its due time, so an open raffle costs one
   * index read per pass, not an allocation attempt. A giveaway whose presence check failed stays
   * pending while the pass goes on to the other drops; the pass then throws that failure (with
   * the drops it did allocate), so the fair pass logs it and retries after its interval.
   */
  async allocateDue(): Promise<FairAllocation[]> {
    const done: FairAllocation[] = [];
    let deferred: LivedropError | undefined;
    const [sec, micros] = await this.redis.time();
    const now = Number(sec) * 1000 + Math.floor(Number(micros) / 1000);
    for (const dropId of await this.redis.zrangebyscore(this.keys.fairPending, "-inf", now)) {
      let result: FairAllocation;
      try {
        result = await this.allocate(dropId);
      } catch (err) {
        if (isPresenceUnavailable(err)) {
          deferred ??= err as LivedropError;
          continue;
        }
        if (!(isLivedropError(err) && err.code === ErrorCode.DROP_NOT_FOUND)) throw err;
        await this.redis.zrem(this.keys.fairPending, dropId);
        continue;
      }
      // Out of the index on the pass after the one that allocated: if a failover lost the
      // allocation meanwhile (it waits for no replica), that pass allocates again.
      if (result.allocated ? !result.allocatedNow : result.dueAt === null)
        await this.redis.zrem(this.keys.fairPending, dropId);
      else if (!result.allocated && result.dueAt !== null)
        await this.redis.zadd(this.keys.fairPending, "XX", result.dueAt, dropId);
      if (result.allocated && result.allocatedNow) done.push(result);
    }
    if (deferred)
      throw new LivedropError(deferred.code, deferred.message, {
        ...deferred.details,
        allocated: done.map((a) => a.dropId),
      });
    return done;
  }

  /**
   * Milliseconds until the earliest pending close still ahead (server clock), null when none is:
   * lets the fair pass wake at the close rather than up to a pass later. Closes already passed
   * are the pass's own work (drops it just allocated leave the index on the next pass).
   */
  async msUntilNextClose(): Promise<number | null> {
    const [sec, micros] = await this.redis.time();
    const now = Number(sec) * 1000 + Math.floor(Number(micros) / 1000);
    const next = await this.redis.zrangebyscore(
      this.keys.fairPending,
      `(${now}`,
      "+inf",
      "WITHSCORES",
      "LIMIT",
      0,
      1,
    );
    const score = next[1];
    return score === undefined ? null : Math.max(0, Number(score) - now);
  }

  /**
   * Moves a drop's due time earlier (a launch: its start becomes the server's now), before the
   * launch runs, so a crash after it leaves the drop due early (rescored then), never late.
   */
  async launching(dropId: string, now: number): Promise<void> {
    const fwin = Number((await this.redis.hget(this.keys.drop(dropId).state, "fwin")) ?? 0);
    if (fwin > 0) await this.redis.zadd(this.keys.fairPending, "XX", "LT", now + fwin, dropId);
  }

  /** A user's entries (ee:<user> lists their ids, lua/reserve.lua), oldest first. */
  async entriesOf(dropId: string, userId: string): Promise<FairEntryResult[]> {
    const k = this.keys.drop(dropId);
    const list = await this.redis.hget(k.state, `ee:${userId}`);
    if (!list) return [];
    const ids = list.split(",");
    const raws = await this.redis.hmget(k.entries, ...ids);
    return ids.flatMap((entryId, i) => {
      const raw = raws[i];
      if (!raw) return [];
      const { position: _, skipped: __, ...result } = parseEntry(dropId, entryId, raw);
      return [result];
    });
  }

  /** One entry's result, or null when no such entry exists. */
  async entry(dropId: string, entryId: string): Promise<FairEntryResult | null> {
    const raw = await this.redis.hget(this.keys.drop(dropId).entries, entryId);
    if (raw === null) return null;
    const { position: _, skipped: __, ...result } = parseEntry(dropId, entryId, raw);
    return result;
  }

  /** The published draw of an allocated window, or null while it is open (the seed is secret). */
  async draw(dropId: string): Promise<FairDraw | null> {
    const k = this.keys.drop(dropId);
    const [seed, seedHash, fres, limit] = await this.redis.hmget(
      k.state,
      "fseedpub",
      "fhash",
      "fres",
      "limit",
    );
    if (!seed || !seedHash || !fres) return null;
    const raw = await this.redis.hgetall(k.entries);
    const entries = Object.entries(raw)
      .map(([entryId, value]) => parseEntry(dropId, entryId, value))
      .sort((a, b) => a.position - b.position);
    const results = entries.map((e) => ({
      entryId: e.entryId,
      user: maskUser(seed, e.userId),
      qty: e.qty,
      granted: e.granted,
    }));
    return {
      dropId,
      seed,
      seedHash,
      stock: Number(fres.split("|")[3] ?? 0),
      perUserLimit: Number(limit),
      results,
      skipped: entries.filter((e) => e.skipped).map((e) => e.entryId),
    };
  }
}

/** The draw input a verifier rebuilds from a published draw. */
export function drawInputOf(draw: FairDraw): DrawInput {
  return {
    stock: draw.stock,
    perUserLimit: draw.perUserLimit,
    entries: draw.results.map(({ entryId, user, qty }) => ({ entryId, user, qty })),
    ...(draw.skipped.length > 0 ? { skipped: draw.skipped } : {}),
  };
}
