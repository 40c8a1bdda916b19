import type { Config, RedisClient, ScriptReply } from "../core/index.ts";
import { ErrorCode, isLivedropError, RejectedError, validate } from "../core/index.ts";
import {
  type DropDefinition,
  type DropFormat,
  dropDefinitionSchema,
  dropFormatSchema,
  dropIdSchema,
  type Product,
  reservationIdSchema,
  restockQtySchema,
  roomIdSchema,
  userIdSchema,
} from "../protocol/index.ts";
import { endSpan, type Span, SpanAttr, SpanKind, startSpan, traceparentOf } from "../telemetry/index.ts";
import { ActiveIndex } from "./active-index.ts";
import { KeyedBatcher } from "./batcher.ts";
import { newSeed } from "./draw.ts";
import { scriptError } from "./errors.ts";
import { type DropLogEntry, lastLogId, readLog, streamIdSchema } from "./event-log.ts";
import { type FairAllocation, type FairDraw, type FairEntryResult, FairWindows } from "./fair.ts";
import type { EligibleAtDraw } from "./giveaway.ts";
import { dropIdOfReservation, type KeySpace, keySpace, stateField } from "./keys.ts";
import { OutboxConsumer } from "./outbox.ts";
import { type AckReplicas, ReplicatedAck, replicationTimeout } from "./replication.ts";
import {
  decodeConfirm,
  decodeCreate,
  decodeExpire,
  decodeRelease,
  decodeReserveBatch,
  decodeRestock,
  decodeStatus,
  decodeTransition,
  decodeWaitlist,
  type ReserveReply,
  STATUS_OF,
} from "./replies.ts";
import {
  ackAutoCheckMsSchema,
  ackReplicasSchema,
  ackTimeoutMsSchema,
  activeGraceMsSchema,
  DEFAULTS,
  entryIdSchema,
  eventLogLengthSchema,
  eventReadCountSchema,
  expireBatchSchema,
  LIMITS,
  maxFairEntriesSchema,
  type ReserveRequest,
  reserveRequestSchema,
  waitlistMaxSchema,
} from "./schema.ts";
import { scriptSource } from "./script-source.ts";
import { registerScripts, type ScriptCommands } from "./scripts.ts";
import type {
  BuyResult,
  DropStatus,
  ExpireResult,
  FairEntry,
  PinResult,
  Reservation,
  ReservationRecord,
  SettleResult,
  TransitionResult,
  WaitlistPosition,
  WaitlistTicket,
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
  /**
   * Most entries a fair window or raffle created by this engine takes, 1-100000. Default
   * LIVEDROP_MAX_FAIR_ENTRIES from `ackConfig`, else 5000 (see schema.ts DEFAULTS.maxFairEntries).
   */
  readonly maxFairEntries?: number;
  /**
   * Most waiting tickets a drop's waitlist takes (joinWaitlist), 1-1000000. Default
   * LIVEDROP_WAITLIST_MAX from `ackConfig`, else 10000.
   */
  readonly waitlistMax?: number;
  /**
   * Replicas a hold or a confirm must reach before it is acknowledged (Redis WAIT after the
   * script, one per reserve batch): 0-5 or `auto` (see replication.ts). Default `auto`.
   */
  readonly ackReplicas?: AckReplicas;
  /** WAIT timeout, ms. Default 500. */
  readonly ackTimeoutMs?: number;
  /** Age of the `auto` answer before it is checked again, ms. Default 5000. */
  readonly ackAutoCheckMs?: number;
  /**
   * The deployment's settings: LIVEDROP_ACK_*, and LIVEDROP_MAX_FAIR_ENTRIES and
   * LIVEDROP_WAITLIST_MAX when present, used where the options above are not given.
   */
  readonly ackConfig?: Pick<
    Config,
    "LIVEDROP_ACK_REPLICAS" | "LIVEDROP_ACK_TIMEOUT_MS" | "LIVEDROP_ACK_AUTO_CHECK_MS"
  > &
    Partial<Pick<Config, "LIVEDROP_MAX_FAIR_ENTRIES" | "LIVEDROP_WAITLIST_MAX">>;
  /**
   * Which of a giveaway's entrants are in its room at the draw (the gateway answers from room
   * presence); the absent ones are skipped (see giveaway.ts). Omitted: every entrant is eligible.
   */
  readonly eligibleAtDraw?: EligibleAtDraw;
}

/** A batch member whose hold was written but not confirmed by enough replicas in time. */
interface ReplicationShort {
  readonly ok: false;
  readonly code: "REPLICATION_TIMEOUT";
  readonly reservationId: string;
  readonly replicas: number;
  readonly required: number;
}
type BatchAnswer = ReserveReply | ReplicationShort;
const isShort = (a: BatchAnswer): a is ReplicationShort => !a.ok && "required" in a;

/** Upper bound of buys per reserve script call (bounds the script's run time and argument count). */
const MAX_RESERVE_BATCH = 64;

/**
 * The sale engine. Guarantees: every change of a drop's stock, holds and events is one atomic
 * Lua script on the drop's slot; reserve is idempotent per (user, idempotency key); confirm and
 * release are idempotent; available + held + sold = initial + restocked at every instant.
 * Cross-drop indexes live in other Redis Cluster slots, so no drop script may write them: the
 * engine writes them around the scripts with plain commands (createDrop: the active index before
 * its script, the registry and the room's drop set after it; see createDrop for crash safety).
 */
export class SaleEngine {
  readonly keys: KeySpace;
  /** Entries kept in each drop's event log (approximate). */
  readonly eventLogLength: number;
  private readonly maxFairEntries: number;
  private readonly waitlistMax: number;
  private readonly redis: RedisClient;
  private readonly cmd: ScriptCommands;
  private readonly active: ActiveIndex;
  private readonly ownsConnection: boolean;
  private readonly replication: ReplicatedAck;
  private readonly fair: FairWindows;
  private readonly reserveBatcher = new KeyedBatcher<ReserveRequest, BatchAnswer>(
    (dropId, batch, traces) => this.reserveBatch(dropId, batch, traces),
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
    this.maxFairEntries = validate(
      maxFairEntriesSchema,
      options.maxFairEntries ?? options.ackConfig?.LIVEDROP_MAX_FAIR_ENTRIES ?? DEFAULTS.maxFairEntries,
      "max fair entries",
    );
    this.waitlistMax = validate(
      waitlistMaxSchema,
      options.waitlistMax ?? options.ackConfig?.LIVEDROP_WAITLIST_MAX ?? DEFAULTS.waitlistMax,
      "waitlist max",
    );
    const graceMs = validate(activeGraceMsSchema, options.activeGraceMs ?? DEFAULTS.activeGraceMs, "grace");
    this.active = new ActiveIndex(options.redis, this.keys, this.cmd, graceMs);
    this.fair = new FairWindows(
      options.redis,
      this.keys,
      this.cmd,
      this.eventLogLength,
      options.eligibleAtDraw,
    );
    const cfg = options.ackConfig;
    this.replication = new ReplicatedAck(options.redis, {
      replicas: validate(
        ackReplicasSchema,
        options.ackReplicas ?? cfg?.LIVEDROP_ACK_REPLICAS ?? DEFAULTS.ackReplicas,
        "ack replicas",
      ),
      timeoutMs: validate(
        ackTimeoutMsSchema,
        options.ackTimeoutMs ?? cfg?.LIVEDROP_ACK_TIMEOUT_MS ?? DEFAULTS.ackTimeoutMs,
        "ack timeout",
      ),
      autoCheckMs: validate(
        ackAutoCheckMsSchema,
        options.ackAutoCheckMs ?? cfg?.LIVEDROP_ACK_AUTO_CHECK_MS ?? DEFAULTS.ackAutoCheckMs,
        "ack auto check",
      ),
    });
  }

  /** Replicas an acknowledgement on `dropId`'s master waits for now (LIVEDROP_ACK_REPLICAS resolved). */
  async ackReplicas(dropId: string): Promise<number> {
    return this.replication.required(validate(dropIdSchema, dropId, "drop id"));
  }

  static async create(options: SaleEngineOptions): Promise<SaleEngine> {
    return new SaleEngine(options);
  }

  /**
   * Defines a drop. Same id and identical parameters: no-op (`created: false`). The drop itself is
   * written by one script; the active index entry comes first (so the loops never miss a live
   * drop; a refused create takes it back, one left by a crash goes after the grace period), the
   * registry and room set after (idempotent: a crash before them is repaired by calling again,
   * which answers `created: false` and writes them).
   */
  async createDrop(definition: DropDefinition): Promise<{ created: boolean; status: DropStatus }> {
    const d = validate(dropDefinitionSchema, definition, "drop definition");
    const k = this.keys.drop(d.dropId);
    const params = canonicalParams(d);
    // A drawn drop's seed: kept by the first create only (a re-create is a no-op).
    const windowMs = d.raffleWindowMs ?? d.fairWindowMs ?? 0;
    const fair = windowMs > 0 ? newSeed() : undefined;
    const mode = d.raffleWindowMs !== undefined ? "raffle" : "window";
    const waitlistOff = d.waitlist === false ? "1" : "";
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
      ...(fair ? [windowMs, fair.seed, fair.seedHash, this.maxFairEntries] : [0, "", "", ""]),
      mode,
      waitlistOff,
      d.format ?? "drop",
    );
    const created = decodeCreate(reply);
    if (!created.ok) {
      if (entered !== null) await this.active.undo(d.dropId, entered);
      throw scriptError(created.code, { dropId: d.dropId });
    }
    await this.redis.zadd(this.keys.dropRegistry, "NX", created.startsAt, d.dropId);
    await this.redis.sadd(this.keys.roomDrops(d.roomId), d.dropId);
    // The fair pass visits it from its due time until allocated (after the script, like the
    // registry: a crash before this line is repaired by calling createDrop again).
    if (fair) await this.redis.zadd(this.keys.fairPending, "NX", created.startsAt + windowMs, d.dropId);
    return { created: created.created, status: await this.status(d.dropId) };
  }

  /**
   * Places a hold. Throws a typed error for every refusal (see ScriptCode). Concurrent calls for
   * one drop are sent together as one batch script call (see batcher.ts, lua/reserve.lua).
   * With a `parent` span (tracing on) the call is a `sale.reserve` span whose context the hold's
   * outbox entry carries to the order relay. A buy in a drop's fair window is entered in its draw
   * and answered with a retryable NOT_STARTED naming the entry (`buy` answers it as an entry).
   */
  async reserve(request: ReserveRequest, parent?: Span): Promise<Reservation> {
    const result = await this.buy(request, parent);
    if (result.kind === "held") {
      const { kind: _, ...reservation } = result;
      return reservation;
    }
    // The caller does not know fair windows yet (see buy): a retryable refusal, with the entry.
    throw new RejectedError(ErrorCode.NOT_STARTED, "the buy was entered in the drop's fair-window draw", {
      dropId: result.dropId,
      entered: true,
      entryId: result.entryId,
    });
  }

  /**
   * Like reserve, but a buy in a drop's fair window answers `entered` (an entry of the draw, no
   * stock yet; the result comes with the allocation, see allocateFairWindow) instead of a hold.
   */
  async buy(request: ReserveRequest, parent?: Span): Promise<BuyResult> {
    const r = validate(reserveRequestSchema, request, "reserve request");
    const span = parent === undefined ? undefined : startSpan("sale.reserve", SpanKind.CLIENT, parent);
    span?.setAttributes({ [SpanAttr.drop]: r.dropId });
    let answer: BatchAnswer;
    try {
      answer = await this.reserveBatcher.submit(r.dropId, r, traceparentOf(span));
    } catch (err) {
      endSpan(span, "failed", err);
      throw err;
    }
    if (!answer.ok) endSpan(span, answer.code);
    else if (answer.entered) endSpan(span, answer.replayed ? "replayed" : "entered");
    else {
      span?.setAttributes({ [SpanAttr.reservation]: answer.reservationId });
      endSpan(span, answer.replayed ? "replayed" : "held");
    }
    if (isShort(answer)) {
      const { reservationId, required, replicas } = answer;
      throw replicationTimeout(required, replicas, this.replication.options.timeoutMs, {
        dropId: r.dropId,
        reservationId,
      });
    }
    if (!answer.ok) {
      const details =
        "perUserLimit" in answer
          ? { dropId: r.dropId, replayed: false, perUserLimit: answer.perUserLimit }
          : { dropId: r.dropId, replayed: answer.replayed };
      throw scriptError(answer.code, details);
    }
    if (answer.entered) {
      const entry: FairEntry = {
        kind: "entered",
        entryId: answer.entryId,
        dropId: r.dropId,
        userId: r.userId,
        qty: r.qty,
        replayed: answer.replayed,
      };
      return entry;
    }
    return {
      kind: "held",
      reservationId: answer.reservationId,
      dropId: r.dropId,
      userId: r.userId,
      qty: r.qty,
      deadline: answer.deadline,
      available: answer.available,
      replayed: answer.replayed,
    };
  }

  private async reserveBatch(
    dropId: string,
    batch: ReserveRequest[],
    traces?: (string | undefined)[],
  ): Promise<BatchAnswer[]> {
    const k = this.keys.drop(dropId);
    const args: (string | number)[] = [dropId, batch.length];
    for (const r of batch) args.push(r.userId, r.qty, r.idempotencyKey);
    args.push(this.eventLogLength);
    // Optional: each request's traceparent ("" for none), written beside its hold's outbox event.
    if (traces) for (const t of traces) args.push(t ?? "");
    const needed = this.replication.required(dropId);
    const required = typeof needed === "number" ? needed : await needed;
    if (required === 0) {
      const reply = await this.cmd.ldReserve(k.state, k.holds, k.outbox, k.events, k.log, k.entries, ...args);
      return decodeReserveBatch(reply, batch.length);
    }
    // One WAIT for the whole batch, right behind the script on the same connection.
    const keys = [k.state, k.holds, k.outbox, k.events, k.log, k.entries];
    const { reply, replicas } = await this.replication.run(scriptSource("reserve", 6), keys, args, required);
    const answers = decodeReserveBatch(reply, batch.length);
    if (replicas >= required) return answers;
    // Refusals stand as they are (nothing was written for them); holds are not acknowledged.
    return answers.map((a) =>
      a.ok
        ? {
            ok: false,
            code: "REPLICATION_TIMEOUT",
            reservationId: a.entered ? a.entryId : a.reservationId,
            replicas,
            required,
          }
        : a,
    );
  }

  /**
   * Held -> sold. Idempotent. Refused after release or past the deadline. With replicas to wait
   * for, answered only once they have it (else REPLICATION_TIMEOUT; a retry answers `replayed`).
   */
  async confirm(reservationId: string): Promise<SettleResult> {
    const { rid, reply, replicas, required } = await this.confirmScript(reservationId);
    const confirmed = decodeConfirm(reply);
    if (confirmed.ok && replicas < required)
      throw replicationTimeout(required, replicas, this.replication.options.timeoutMs, {
        reservationId: rid,
      });
    if (!confirmed.ok) {
      const details = confirmed.status
        ? { reservationId: rid, status: confirmed.status }
        : { reservationId: rid };
      throw scriptError(confirmed.code, details);
    }
    return { reservationId: rid, status: "confirmed", replayed: confirmed.replayed };
  }

  /** Held -> available. Idempotent (also for an expired hold). Refused after confirm. */
  async release(reservationId: string): Promise<SettleResult> {
    const { rid, reply } = await this.settleScript("ldRelease", reservationId);
    const released = decodeRelease(reply);
    if (!released.ok) throw scriptError(released.code, { reservationId: rid });
    return { reservationId: rid, status: released.status, replayed: released.replayed };
  }

  /** The confirm script, followed by its own WAIT when replicas are required. */
  private async confirmScript(
    reservationId: string,
  ): Promise<{ rid: string; reply: ScriptReply; replicas: number; required: number }> {
    const rid = validate(reservationIdSchema, reservationId, "reservation id");
    const dropId = dropIdOfReservation(rid);
    const required = await this.replication.required(dropId);
    if (required === 0) return { ...(await this.settleScript("ldConfirm", rid)), replicas: 0, required };
    const k = this.keys.drop(dropId);
    const keys = [k.state, k.holds, k.outbox, k.events, k.log];
    const args = [dropId, rid, this.eventLogLength];
    const { reply, replicas } = await this.replication.run(scriptSource("confirm", 5), keys, args, required);
    return { rid, reply, replicas, required };
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
    const expired = decodeExpire(reply);
    if (!expired.ok) throw scriptError(expired.code, { dropId: id });
    if (expired.settled) await this.active.settled(id);
    return { dropId: id, serverTime: expired.serverTime, expired: expired.expired, settled: expired.settled };
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
      k.holds,
      k.outbox,
      id,
      n,
      LIMITS.maxTotalStock,
      this.eventLogLength,
    );
    const restocked = decodeRestock(reply);
    if (!restocked.ok) {
      const details =
        "maxRestock" in restocked ? { dropId: id, maxRestock: restocked.maxRestock } : { dropId: id };
      throw scriptError(restocked.code, details);
    }
    return this.status(id);
  }

  /** Opens a scheduled drop now (server clock) and resumes a paused one; no-op when live. */
  async launch(dropId: string): Promise<TransitionResult> {
    const id = validate(dropIdSchema, dropId, "drop id");
    // A drawn drop's close moves with its start: the fair pass's index first (see launching).
    await this.fair.launching(id, await this.serverTime());
    return this.transition(id, "launch");
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

  /**
   * Pins a buy-it-now drop: it sells while pinned (a buy otherwise is refused NOT_PINNED).
   * Idempotent (`changed: false` when pinned already). Refused: INVALID_INPUT for another format,
   * ENDED for an ended drop. Event drop.pinned.
   */
  pin(dropId: string): Promise<PinResult> {
    return this.setPinned(dropId, true);
  }

  /** Unpins a buy-it-now drop (see pin): its buys are refused NOT_PINNED. Event drop.unpinned. */
  unpin(dropId: string): Promise<PinResult> {
    return this.setPinned(dropId, false);
  }

  private async setPinned(dropId: string, pinned: boolean): Promise<PinResult> {
    const id = validate(dropIdSchema, dropId, "drop id");
    const k = this.keys.drop(id);
    const reply = await this.cmd.ldPin(k.state, k.events, k.log, id, pinned ? "1" : "0", this.eventLogLength);
    if (!Array.isArray(reply) || reply[0] !== 1)
      throw scriptError(Array.isArray(reply) && typeof reply[1] === "string" ? reply[1] : "MALFORMED_REPLY", {
        dropId: id,
      });
    return { dropId: id, changed: reply[1] === 1, pinned: reply[2] === 1 };
  }

  async status(dropId: string): Promise<DropStatus> {
    const id = validate(dropIdSchema, dropId, "drop id");
    const reply = decodeStatus(await this.cmd.ldStatus(this.keys.drop(id).state, id));
    if (!reply.ok) throw scriptError(reply.code, { dropId: id });
    const f = reply.fields;
    const num = (name: keyof typeof f) => Number(f[name] || 0);
    const params = JSON.parse(f.params || "{}") as { product: Product };
    return {
      dropId: id,
      roomId: f.room,
      product: params.product,
      state: reply.state,
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
      serverTime: reply.serverTime,
      ...(num("fwin") > 0
        ? {
            fair: {
              mode: f.fmode === "raffle" ? "raffle" : "window",
              windowMs: num("fwin"),
              closesAt: num("starts") + num("fwin"),
              seedHash: f.fhash,
              allocatedAt: num("falloc") > 0 ? num("falloc") : null,
              seed: f.fseedpub === "" ? null : f.fseedpub,
            },
          }
        : {}),
      // A raffle's hand-off queue is its drawn order, not a waitlist (see fairEntriesOf).
      ...(f.fmode !== "raffle" && f.wloff !== "1"
        ? { waitlist: { length: num("wlen"), served: num("wserved") } }
        : {}),
      format: formatOf(f.fmt),
      ...(f.fmt === "buy_now" ? { pinned: f.pin === "1" } : {}),
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

  /**
   * Closes a drop's fair window once it has passed (server clock): one atomic script gives the
   * entries their share of the stock in the draw order (lua/allocate.lua). Idempotent and safe
   * from several processes; before the window's end, or on a drop without one, a no-op.
   */
  async allocateFairWindow(dropId: string): Promise<FairAllocation> {
    return this.fair.allocate(validate(dropIdSchema, dropId, "drop id"));
  }

  /** Allocates every fair window that has passed (the sweeper's fair pass); returns those done now. */
  allocateDueFairWindows(): Promise<FairAllocation[]> {
    return this.fair.allocateDue();
  }

  /** Milliseconds until the next fair window or raffle closes (server clock); null: none ahead. */
  msUntilNextFairClose(): Promise<number | null> {
    return this.fair.msUntilNextClose();
  }

  /**
   * Joins a sold-out first-come drop's waitlist: a ticket, no stock; a released or expired hold
   * goes to the waiting tickets in order as a new hold (reservation.placed `via: "waitlist"`,
   * deadline now + holdMs), before it goes back on sale. One ticket per user: a join again (any
   * key) answers it, `replayed`. Refused: WAITLIST_CLOSED (not sold out, not live, a raffle, an
   * open fair window, or `waitlist: false`), LIMIT_EXCEEDED (the user's units + qty pass the
   * limit), WAITLIST_FULL (waitlistMax tickets wait), INVALID_INPUT (qty above the limit).
   */
  async joinWaitlist(request: ReserveRequest): Promise<WaitlistTicket> {
    const r = validate(reserveRequestSchema, request, "waitlist request");
    const k = this.keys.drop(r.dropId);
    const reply = decodeWaitlist(
      await this.cmd.ldWaitlist(k.state, r.dropId, r.userId, r.qty, r.idempotencyKey, this.waitlistMax),
    );
    if (!reply.ok) {
      const details =
        "perUserLimit" in reply
          ? { dropId: r.dropId, perUserLimit: reply.perUserLimit }
          : { dropId: r.dropId };
      throw scriptError(reply.code, details);
    }
    return { dropId: r.dropId, ticket: reply.ticket, position: reply.position, replayed: reply.replayed };
  }

  /**
   * A user's ticket in a drop's hand-off queue (the waitlist, or a raffle's drawn order of the
   * entrants who won nothing): waiting at `position` (ticket - served), offered (a hold was
   * placed for them) or skipped (at the limit then, or erased). Null: no ticket.
   */
  async waitlistOf(dropId: string, userId: string): Promise<WaitlistPosition | null> {
    const id = validate(dropIdSchema, dropId, "drop id");
    const user = validate(userIdSchema, userId, "user id");
    const k = this.keys.drop(id);
    const ticket = Number((await this.redis.hget(k.state, `w:${user}`)) ?? 0);
    if (!(ticket > 0)) return null;
    const [raw, served] = await this.redis.hmget(k.state, `t:${ticket}`, "wserved");
    const letter = (raw ?? "").split("|")[3];
    const status = letter === "O" ? "offered" : letter === "K" ? "skipped" : "waiting";
    const position = status === "waiting" ? Math.max(0, ticket - Number(served ?? 0)) : 0;
    return { ticket, position, status };
  }

  /** A user's entries in a drop's fair window or raffle, oldest first; [] when none. */
  async fairEntriesOf(dropId: string, userId: string): Promise<FairEntryResult[]> {
    const id = validate(dropIdSchema, dropId, "drop id");
    return this.fair.entriesOf(id, validate(userIdSchema, userId, "user id"));
  }

  /** An entry's result (entered, won with its hold, lost); null for an unknown entry. */
  async fairEntry(dropId: string, entryId: string): Promise<FairEntryResult | null> {
    const id = validate(dropIdSchema, dropId, "drop id");
    const entry = validate(entryIdSchema, entryId, "entry id");
    return this.fair.entry(id, entry);
  }

  /** The draw of an allocated fair window as a verifier needs it; null while the window is open. */
  async fairDraw(dropId: string): Promise<FairDraw | null> {
    return this.fair.draw(validate(dropIdSchema, dropId, "drop id"));
  }

  /** Redis TIME in ms: the clock drop windows and deadlines are judged by. */
  async serverTime(): Promise<number> {
    const [seconds, micros] = await this.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /** How many drops a room has ever had (one read; see dropsInRoom for their ids). */
  async countDropsInRoom(roomId: string): Promise<number> {
    const room = validate(roomIdSchema, roomId, "room id");
    return this.redis.scard(this.keys.roomDrops(room));
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
    const reply = decodeTransition(
      await this.cmd.ldTransition(k.state, k.events, k.log, id, action, this.eventLogLength),
    );
    if (!reply.ok) throw scriptError(reply.code, { dropId: id, action });
    return { dropId: id, changed: reply.changed, state: reply.state };
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
    // Only for fair drops, so the parameters of every other drop compare as they always did.
    ...((d.fairWindowMs ?? 0) > 0 ? { fairWindowMs: d.fairWindowMs } : {}),
    ...(d.raffleWindowMs !== undefined ? { raffleWindowMs: d.raffleWindowMs } : {}),
    ...(d.waitlist === false ? { waitlist: false } : {}),
    ...(d.format !== undefined && d.format !== "drop" ? { format: d.format } : {}),
  });
}

/** The state hash's `fmt` field as a format; drops created before formats have none: `drop`. */
function formatOf(fmt: string | undefined): DropFormat {
  const parsed = dropFormatSchema.safeParse(fmt);
  return parsed.success ? parsed.data : "drop";
}

/** A reservation record as stored by the scripts: `user|qty|deadline|status|idempotencyKey`. */
function parseReservation(reservationId: string, raw: string): ReservationRecord {
  const [userId = "", qty = "0", deadline = "0", status = "H", idempotencyKey = "", price] = raw.split("|");
  return {
    reservationId,
    dropId: dropIdOfReservation(reservationId),
    userId,
    qty: Number(qty),
    deadline: Number(deadline),
    status: STATUS_OF[status] ?? "held",
    idempotencyKey,
    // Only a hold placed at its own price (an auction's) records one.
    ...(price ? { priceMinor: Number(price) } : {}),
  };
}
