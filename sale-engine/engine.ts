import type { RedisClient } from "../core/index.ts";
import { ErrorCode, isLivedropError, validate } from "../core/index.ts";
import { ActiveIndex } from "./active-index.ts";
import { KeyedBatcher } from "./batcher.ts";
import { scriptError } from "./errors.ts";
import { type DropLogEntry, lastLogId, readLog, streamIdSchema } from "./event-log.ts";
import { dropIdOfReservation, type KeySpace, keySpace, stateField } from "./keys.ts";
import { OutboxConsumer } from "./outbox.ts";
import {
  activeGraceMsSchema,
  DEFAULTS,
  type DropDefinition,
  dropDefinitionSchema,
  dropIdSchema,
  eventLogLengthSchema,
  eventReadCountSchema,
  expireBatchSchema,
  LIMITS,
  type Product,
  type ReserveRequest,
  reservationIdSchema,
  reserveRequestSchema,
  restockQtySchema,
  roomIdSchema,
  userIdSchema,
} from "./schema.ts";
import { registerScripts, type ScriptCommands, type ScriptReply } from "./scripts.ts";
import type {
  DropState,
  DropStatus,
  ExpireResult,
  Reservation,
  ReservationRecord,
  ReservationStatus,
  SettleResult,
  TransitionResult,
} from "./types.ts";

export interface SaleEngineOptions {
  readonly redis: RedisClient;
  /** Key namespace (default `ld`); tests and shadow traffic use their own. */
  readonly prefix?: string;
  /** Close the Redis connection in `close()`. Default false: the caller owns it. */
  readonly ownsConnection?: boolean;
  /** Entries kept in each drop's event log (approximate, MAXLEN ~). Default 2000. */
  readonly eventLogLength?: number;
  /**
   * How long an active-index entry whose drop does not exist is kept before a sweep removes it,
   * ms (covers a createDrop in flight). Default 60000.
   */
  readonly activeGraceMs?: number;
}

/** The order of fields in the status script's answer (after ok, now, state). */
const STATUS_FIELDS = [
  "params",
  "room",
  "mode",
  "starts",
  "ends",
  "hold",
  "limit",
  "initial",
  "restocked",
  "available",
  "held",
  "sold",
  "ver",
  "created",
] as const;

/** Upper bound of buys per reserve script call (bounds the script's run time and argument count). */
const MAX_RESERVE_BATCH = 64;

const STATUS_OF: Record<string, ReservationStatus> = {
  H: "held",
  C: "confirmed",
  R: "released",
  X: "expired",
};

/**
 * The sale engine. Guarantees: every mutating call is one atomic Lua script on the drop's
 * slot; reserve is idempotent per (user, idempotency key); confirm and release are
 * idempotent; available + held + sold = initial + restocked at every instant.
 */
export class SaleEngine {
  readonly keys: KeySpace;
  /** Entries kept in each drop's event log (approximate). */
  readonly eventLogLength: number;
  private readonly redis: RedisClient;
  private readonly cmd: ScriptCommands;
  private readonly active: ActiveIndex;
  private readonly ownsConnection: boolean;
  private readonly reserveBatcher = new KeyedBatcher<ReserveRequest, ScriptReply>(
    (dropId, batch) => this.reserveBatch(dropId, batch),
    MAX_RESERVE_BATCH,
  );
  private closed = false;

  private constructor(options: SaleEngineOptions) {
    this.redis = options.redis;
    this.keys = keySpace(options.prefix ?? "ld");
    this.cmd = registerScripts(options.redis);
    this.ownsConnection = options.ownsConnection ?? false;
    this.eventLogLength = validate(
      eventLogLengthSchema,
      options.eventLogLength ?? DEFAULTS.eventLogLength,
      "event log length",
    );
    const graceMs = validate(activeGraceMsSchema, options.activeGraceMs ?? DEFAULTS.activeGraceMs, "grace");
    this.active = new ActiveIndex(options.redis, this.keys, this.cmd, graceMs);
  }

  static async create(options: SaleEngineOptions): Promise<SaleEngine> {
    return new SaleEngine(options);
  }

  /** Defines a drop. Same id and identical parameters: no-op (`created: false`). */
  async createDrop(definition: DropDefinition): Promise<{ created: boolean; status: DropStatus }> {
    const d = validate(dropDefinitionSchema, definition, "drop definition");
    const k = this.keys.drop(d.dropId);
    const params = canonicalParams(d);
    const entered = await this.active.enter(d.dropId);
    const reply = await this.cmd.ldCreate(
      k.state,
      k.events,
      k.log,
      d.dropId,
      params,
      d.roomId,
      d.startsAt ?? "",
      d.endsAt ?? 0,
      d.holdMs,
      d.perUserLimit,
      d.initialStock,
      this.eventLogLength,
    );
    if (reply[0] !== 1) {
      if (entered !== null) await this.active.undo(d.dropId, entered);
      throw scriptError(String(reply[1]), { dropId: d.dropId });
    }
    await this.redis.zadd(this.keys.dropRegistry, "NX", Number(reply[2]), d.dropId);
    await this.redis.sadd(this.keys.roomDrops(d.roomId), d.dropId);
    return { created: reply[1] === 1, status: await this.status(d.dropId) };
  }

  /**
   * Places a hold. Throws a typed error for every refusal (see ScriptCode). Concurrent calls for
   * one drop are sent together as one batch script call (see batcher.ts, lua/reserve.lua).
   */
  async reserve(request: ReserveRequest): Promise<Reservation> {
    const r = validate(reserveRequestSchema, request, "reserve request");
    const answer = await this.reserveBatcher.submit(r.dropId, r);
    if (answer[0] !== 1) {
      // Third value: the replay flag (0: refusals are not recorded), or for QTY_ABOVE_LIMIT the limit.
      const aboveLimit = answer[1] === "QTY_ABOVE_LIMIT";
      const details: Record<string, unknown> = { dropId: r.dropId, replayed: !aboveLimit && answer[2] === 1 };
      if (aboveLimit) details.perUserLimit = Number(answer[2]);
      throw scriptError(String(answer[1]), details);
    }
    return {
      reservationId: String(answer[1]),
      dropId: r.dropId,
      userId: r.userId,
      qty: r.qty,
      deadline: Number(answer[2]),
      available: Number(answer[3]),
      replayed: answer[4] === 1,
    };
  }

  private async reserveBatch(dropId: string, batch: ReserveRequest[]): Promise<ScriptReply[]> {
    const k = this.keys.drop(dropId);
    const args: (string | number)[] = [dropId, batch.length];
    for (const r of batch) args.push(r.userId, r.qty, r.idempotencyKey);
    args.push(this.eventLogLength);
    return (await this.cmd.ldReserve(
      k.state,
      k.holds,
      k.outbox,
      k.events,
      k.log,
      ...args,
    )) as unknown as ScriptReply[];
  }

  /** Held -> sold. Idempotent. Refused after release or past the deadline. */
  async confirm(reservationId: string): Promise<SettleResult> {
    const { rid, reply } = await this.settleScript("ldConfirm", reservationId);
    if (reply[0] !== 1) {
      const details: Record<string, unknown> = { reservationId: rid };
      if (reply[2] !== undefined) details.status = STATUS_OF[String(reply[2])];
      throw scriptError(String(reply[1]), details);
    }
    return { reservationId: rid, status: "confirmed", replayed: reply[1] === 1 };
  }

  /** Held -> available. Idempotent (also for an expired hold). Refused after confirm. */
  async release(reservationId: string): Promise<SettleResult> {
    const { rid, reply } = await this.settleScript("ldRelease", reservationId);
    if (reply[0] !== 1) throw scriptError(String(reply[1]), { reservationId: rid });
    return {
      reservationId: rid,
      status: STATUS_OF[String(reply[2])] ?? "released",
      replayed: reply[1] === 1,
    };
  }

  /** Runs the confirm or release script on one hold: both take the same keys and arguments. */
  private async settleScript(
    script: "ldConfirm" | "ldRelease",
    reservationId: string,
  ): Promise<{ rid: string; reply: ScriptReply }> {
    const rid = validate(reservationIdSchema, reservationId, "reservation id");
    const dropId = dropIdOfReservation(rid);
    const k = this.keys.drop(dropId);
    const reply = await this.cmd[script](
      k.state,
      k.holds,
      k.outbox,
      k.events,
      k.log,
      dropId,
      rid,
      this.eventLogLength,
    );
    return { rid, reply };
  }

  /**
   * Releases up to `batch` holds of one drop whose deadline has passed (Redis TIME). A drop found
   * settled for good (ended, no hold, outbox empty) leaves the active index.
   */
  async expireDue(dropId: string, batch = 500): Promise<ExpireResult> {
    const id = validate(dropIdSchema, dropId, "drop id");
    const size = validate(expireBatchSchema, batch, "batch size");
    const k = this.keys.drop(id);
    const reply = await this.cmd.ldExpire(
      k.state,
      k.holds,
      k.outbox,
      k.events,
      k.log,
      id,
      size,
      this.eventLogLength,
    );
    if (reply[0] !== 1) throw scriptError(String(reply[1]), { dropId: id });
    const settled = reply[2] === 1;
    if (settled) await this.active.settled(id);
    return { dropId: id, serverTime: Number(reply[1]), expired: reply.slice(3).map(String), settled };
  }

  /**
   * One sweep over the active drops: expires all due holds, batch by batch; settled drops leave
   * the index (see expireDue), and so do entries of drops that do not exist (past the grace).
   * Returns the drops where holds expired.
   */
  async expireAllDue(batch = 500): Promise<ExpireResult[]> {
    const results: ExpireResult[] = [];
    for (const dropId of await this.activeDrops()) {
      for (;;) {
        let result: ExpireResult;
        try {
          result = await this.expireDue(dropId, batch);
        } catch (err) {
          if (!(isLivedropError(err) && err.code === ErrorCode.DROP_NOT_FOUND)) throw err;
          await this.active.missing(dropId);
          break;
        }
        if (result.expired.length > 0) results.push(result);
        if (result.expired.length < batch) break;
      }
    }
    return results;
  }

  /**
   * Drops the background loops visit: every drop but those that ended with nothing pending
   * (no hold, no outbox entry left for the relay). Oldest entry first.
   */
  activeDrops(): Promise<string[]> {
    return this.active.list();
  }

  /** The active drops of a room (see activeDrops). */
  async activeDropsInRoom(roomId: string): Promise<string[]> {
    return this.active.filter(await this.dropsInRoom(roomId));
  }

  /**
   * Puts every registered drop that is neither active nor retired back into the active index:
   * drops created before the index existed or by an older engine. Idempotent; reads the whole
   * registry. With `ifCounts`, three counts first and the repair only if they show a missing
   * drop (what the expiry sweeper runs periodically). Returns how many drops it added.
   */
  repairActiveIndex(options: { ifCounts?: boolean } = {}): Promise<number> {
    return options.ifCounts ? this.active.repairIfNeeded() : this.active.repair();
  }

  /**
   * A drop's event log after `afterId` (exclusive; `0`: from the oldest kept), oldest first:
   * the same JSON arrays its channel carried, with their stream ids. The log keeps about
   * `eventLogLength` entries; events carry the drop's gap-free version `v`, so a reader sees
   * when entries it wanted were trimmed (the first `v` is above the last it had + 1).
   */
  async readEvents(dropId: string, afterId = "0", count = 100): Promise<DropLogEntry[]> {
    const id = validate(dropIdSchema, dropId, "drop id");
    const after = validate(streamIdSchema, afterId, "stream id");
    const n = validate(eventReadCountSchema, count, "event count");
    return readLog(this.redis, this.keys.drop(id).log, after, n);
  }

  /** The stream id of a drop's newest event log entry, or null when it has none. */
  async lastEventId(dropId: string): Promise<string | null> {
    const id = validate(dropIdSchema, dropId, "drop id");
    return lastLogId(this.redis, this.keys.drop(id).log);
  }

  async restock(dropId: string, qty: number): Promise<DropStatus> {
    const id = validate(dropIdSchema, dropId, "drop id");
    const n = validate(restockQtySchema, qty, "restock quantity");
    const k = this.keys.drop(id);
    const reply = await this.cmd.ldRestock(
      k.state,
      k.events,
      k.log,
      id,
      n,
      LIMITS.maxTotalStock,
      this.eventLogLength,
    );
    if (reply[0] !== 1) {
      const details: Record<string, unknown> = { dropId: id };
      if (reply[1] === "STOCK_OVERFLOW") details.maxRestock = Number(reply[2]);
      throw scriptError(String(reply[1]), details);
    }
    return this.status(id);
  }

  /** Opens a scheduled drop now (server clock) and resumes a paused one; no-op when live. */
  launch(dropId: string): Promise<TransitionResult> {
    return this.transition(dropId, "launch");
  }

  pause(dropId: string): Promise<TransitionResult> {
    return this.transition(dropId, "pause");
  }

  resume(dropId: string): Promise<TransitionResult> {
    return this.transition(dropId, "resume");
  }

  end(dropId: string): Promise<TransitionResult> {
    return this.transition(dropId, "end");
  }

  async status(dropId: string): Promise<DropStatus> {
    const id = validate(dropIdSchema, dropId, "drop id");
    const reply = await this.cmd.ldStatus(this.keys.drop(id).state, id);
    if (reply[0] !== 1) throw scriptError(String(reply[1]), { dropId: id });
    const f = new Map<string, string>(STATUS_FIELDS.map((name, i) => [name, String(reply[3 + i] ?? "")]));
    const num = (name: string) => Number(f.get(name) || 0);
    const params = JSON.parse(f.get("params") ?? "{}") as { product: Product };
    return {
      dropId: id,
      roomId: f.get("room") ?? "",
      product: params.product,
      state: String(reply[2]) as DropState,
      available: num("available"),
      held: num("held"),
      sold: num("sold"),
      initial: num("initial"),
      restocked: num("restocked"),
      perUserLimit: num("limit"),
      holdMs: num("hold"),
      startsAt: num("starts"),
      endsAt: num("ends") > 0 ? num("ends") : null,
      createdAt: num("created"),
      version: num("ver"),
      serverTime: Number(reply[1]),
    };
  }

  /** Looks up one reservation (for the order pipeline and support). */
  async reservation(reservationId: string): Promise<ReservationRecord> {
    const rid = validate(reservationIdSchema, reservationId, "reservation id");
    const dropId = dropIdOfReservation(rid);
    const raw = await this.redis.hget(this.keys.drop(dropId).state, stateField.reservation(rid));
    if (raw === null) throw scriptError("RESERVATION_NOT_FOUND", { reservationId: rid });
    return parseReservation(rid, raw);
  }

  /** Holds of a drop that await payment, earliest deadline first (for reconciliation). */
  async heldReservations(dropId: string, limit = 1_000): Promise<ReservationRecord[]> {
    const id = validate(dropIdSchema, dropId, "drop id");
    const k = this.keys.drop(id);
    const ids = await this.redis.zrange(k.holds, 0, Math.max(0, limit - 1));
    if (ids.length === 0) return [];
    const raws = await this.redis.hmget(k.state, ...ids.map(stateField.reservation));
    return ids.flatMap((rid, i) => {
      const raw = raws[i];
      return raw ? [parseReservation(rid, raw)] : [];
    });
  }

  /** Units a user holds or bought in a drop (what the per-user limit counts). */
  async unitsOfUser(dropId: string, userId: string): Promise<number> {
    const id = validate(dropIdSchema, dropId, "drop id");
    const user = validate(userIdSchema, userId, "user id");
    return Number((await this.redis.hget(this.keys.drop(id).state, stateField.units(user))) ?? 0);
  }

  /**
   * A reader of the drops' outboxes (the order relay): one per process, named `consumer` in the
   * outbox consumer group. The relay connection may be another than the engine's.
   */
  outbox(consumer: string, redis: RedisClient = this.redis): OutboxConsumer {
    return new OutboxConsumer(redis, this.keys, consumer);
  }

  /** The Redis connection this engine runs on (shared by helpers that publish next to it). */
  get connection(): RedisClient {
    return this.redis;
  }

  /** Redis TIME in ms: the clock drop windows and deadlines are judged by. */
  async serverTime(): Promise<number> {
    const [seconds, micros] = await this.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /** The drop ids of a room. */
  async dropsInRoom(roomId: string): Promise<string[]> {
    const room = validate(roomIdSchema, roomId, "room id");
    return this.redis.smembers(this.keys.roomDrops(room));
  }

  /** Every drop id ever created, by start time (see activeDrops for the ones still live). */
  async listDrops(): Promise<string[]> {
    return this.redis.zrange(this.keys.dropRegistry, 0, -1);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsConnection) await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async transition(
    dropId: string,
    action: "launch" | "pause" | "resume" | "end",
  ): Promise<TransitionResult> {
    const id = validate(dropIdSchema, dropId, "drop id");
    const k = this.keys.drop(id);
    const reply = await this.cmd.ldTransition(k.state, k.events, k.log, id, action, this.eventLogLength);
    if (reply[0] !== 1) throw scriptError(String(reply[1]), { dropId: id, action });
    return { dropId: id, changed: reply[1] === 1, state: String(reply[2]) as DropState };
  }
}

/** Parameters in a fixed key order, so an identical re-create compares equal in Lua. */
function canonicalParams(d: DropDefinition): string {
  const { sku, title, priceMinor, currency, imageUrl } = d.product;
  return JSON.stringify({
    roomId: d.roomId,
    product: { sku, title, priceMinor, currency, imageUrl },
    initialStock: d.initialStock,
    perUserLimit: d.perUserLimit,
    startsAt: d.startsAt ?? null,
    endsAt: d.endsAt ?? null,
    holdMs: d.holdMs,
  });
}

/** A reservation record as stored by the scripts: `user|qty|deadline|status|idempotencyKey`. */
function parseReservation(reservationId: string, raw: string): ReservationRecord {
  const [userId = "", qty = "0", deadline = "0", status = "H", idempotencyKey = ""] = raw.split("|");
  return {
    reservationId,
    dropId: dropIdOfReservation(reservationId),
    userId,
    qty: Number(qty),
    deadline: Number(deadline),
    status: STATUS_OF[status] ?? "held",
    idempotencyKey,
  };
}
