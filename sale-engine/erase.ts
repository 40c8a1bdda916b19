import { randomUUID } from "node:crypto";
import type { Cluster } from "ioredis";
import { z } from "zod";
import {
  ErrorCode,
  LivedropError,
  type RedisClient,
  type ScriptReply,
  ValidationError,
  validate,
} from "../core/index.ts";
import { userIdSchema } from "../protocol/index.ts";
import { maskUser } from "./draw.ts";
import { scriptError } from "./errors.ts";
import { type KeySpace, stateField } from "./keys.ts";
import { STATUS_OF } from "./replies.ts";
import { DEFAULTS } from "./schema.ts";
import { registerScripts, type ScriptCommands } from "./scripts.ts";
import type { ReservationStatus } from "./types.ts";

/**
 * A user's traces in the sale engine's Redis state, found and erased drop by drop. Per drop the
 * state hash holds `i:<user>|<key>`, `r:<rid>` (buyer in the value) and `u:<user>` fields; the event
 * log and the outbox hold reservation events with `"user":"<id>"`; a fair window's entries hash
 * names the user in its values (the erase script withdraws or renames those entries). An auction
 * (same id and hash tag as its backing drop) names them in its hash (`leader`, `winner`,
 * `k:<user>|<key>`), its bidders hash and its bid history stream; a coupon (hash tag
 * `{coupons:<room>}`) in its `i:<user>|<key>`, `u:<user>` fields and `k:<n>` claim records.
 * Nothing here reads a whole hash or keyspace in one call: drops, fields, coupon keys and stream
 * entries are read page by page.
 */

/** Where the engine keeps its state: a SaleEngine fits, or a connection with the lane's key space. */
export interface SaleStateTarget {
  readonly connection: RedisClient;
  readonly keys: KeySpace;
  /** Entries kept in each drop's event log (for the release events an erasure writes). */
  readonly eventLogLength?: number;
}

/** Page sizes: drops per index read, HSCAN COUNT and stream entries per XRANGE. */
export interface SaleEraseOptions {
  /** Drop ids read from the registry and the active index per call. Default 500. */
  readonly dropPage?: number;
  /** COUNT of one HSCAN call over a drop's state hash. Default 500. */
  readonly scanCount?: number;
  /** Stream entries read per XRANGE call. Default 500. */
  readonly streamPage?: number;
  /**
   * Passes over one drop's fields: a hold the user places while being erased is found by the
   * next pass. Default 3.
   */
  readonly passes?: number;
  /**
   * How long an auction's bid history rewrite may pause between two pages before its lock and
   * scratch copy expire (a crashed rewrite leaves nothing behind), ms. Default 60000.
   */
  readonly rewriteTtlMs?: number;
}

export const SALE_ERASE_DEFAULTS = {
  dropPage: 500,
  scanCount: 500,
  streamPage: 500,
  passes: 3,
  rewriteTtlMs: 60_000,
} as const;

/** What an erasure changed in the sale engine, and what it had to leave. */
export interface SaleErasure {
  /** Reservation records (`r:<rid>`) whose buyer is now the pseudonym. */
  readonly saleRecords: number;
  /** Holds still unpaid that the erasure released (stock back to the drop). */
  readonly saleHoldsReleased: number;
  /** Entries naming the user deleted from retired drops' event logs and outboxes. */
  readonly saleEventEntries: number;
  /**
   * Entries naming the user left in drops still active (their log is still read by the room
   * appender, their outbox by the order relay): they roll off the log (MAXLEN ~) and leave the
   * outbox once relayed; an erase after the drop retires deletes what is left.
   */
  readonly saleEventsPending: number;
}

/** One of the user's holds, as the engine records it. */
export interface SaleHold {
  readonly dropId: string;
  readonly reservationId: string;
  readonly qty: number;
  readonly status: ReservationStatus;
}

interface KnownDrop {
  readonly dropId: string;
  /** Settled for good: nothing reads or writes its log and outbox any more. */
  readonly retired: boolean;
}

/** Escapes HSCAN MATCH's glob characters in a literal part of a pattern. */
function globLiteral(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/**
 * Every drop the engine knows, page by page: the registry (every created drop), then the active
 * index entries not registered yet (a createDrop in flight). A drop neither active nor retired
 * (created before the index existed) counts as active: its log may still be read.
 */
async function* knownDrops(t: SaleStateTarget, page: number): AsyncGenerator<KnownDrop[]> {
  const redis = t.connection;
  for (const [index, onlyUnregistered] of [
    [t.keys.dropRegistry, false],
    [t.keys.activeDrops, true],
  ] as const) {
    for (let start = 0; ; start += page) {
      let ids = await redis.zrange(index, start, start + page - 1);
      if (ids.length === 0) break;
      const fetched = ids.length;
      if (onlyUnregistered) {
        const scores = await redis.zmscore(t.keys.dropRegistry, ...ids);
        ids = ids.filter((_, i) => scores[i] === null);
      }
      if (ids.length > 0) {
        const retired = await redis.smismember(t.keys.retiredDrops, ...ids);
        yield ids.map((dropId, i) => ({ dropId, retired: retired[i] === 1 }));
      }
      if (fetched < page) break;
    }
  }
}

/**
 * The suffixes and values of a hash's fields starting with `head`, read with HSCAN MATCH (with
 * `firstOnly`, the scan stops at the first found).
 */
async function fieldsStarting(
  redis: RedisClient,
  hash: string,
  head: string,
  scanCount: number,
  firstOnly = false,
): Promise<Map<string, string>> {
  const match = `${globLiteral(head)}*`;
  const found = new Map<string, string>();
  let cursor = "0";
  do {
    const [next, flat] = await redis.hscan(hash, cursor, "MATCH", match, "COUNT", scanCount);
    cursor = next;
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const field = flat[i] ?? "";
      if (field.startsWith(head)) found.set(field.slice(head.length), flat[i + 1] ?? "");
    }
  } while (cursor !== "0" && !(firstOnly && found.size > 0));
  return found;
}

/**
 * The idempotency keys of the user's `i:<user>|<key>` fields in a drop, and their values (with
 * `firstOnly`, the scan stops at the first found).
 */
function userAttempts(
  t: SaleStateTarget,
  dropId: string,
  userId: string,
  scanCount: number,
  firstOnly = false,
): Promise<Map<string, string>> {
  return fieldsStarting(t.connection, t.keys.drop(dropId).state, `i:${userId}|`, scanCount, firstOnly);
}

/** Whether one stream entry's events name the user (`"user":"<id>"`, ids need no escaping). */
function namesUser(fields: string[], needle: string): boolean {
  return fields.some((f) => f.includes(needle));
}

/** Ids of a stream's entries naming the user, read page by page. */
async function entriesNaming(
  redis: RedisClient,
  stream: string,
  userId: string,
  page: number,
): Promise<string[]> {
  const needle = `"user":"${userId}"`;
  const ids: string[] = [];
  let after = "-";
  for (;;) {
    const entries = (await redis.xrange(stream, after, "+", "COUNT", page)) as [string, string[]][];
    for (const [id, fields] of entries) if (namesUser(fields, needle)) ids.push(id);
    if (entries.length < page) return ids;
    after = `(${entries.at(-1)?.[0]}`;
  }
}

const pageSchema = z.number().int().min(1).max(100_000);
const rewriteTtlSchema = z.number().int().min(1_000).max(3_600_000);

function pageSizes(o: SaleEraseOptions): Required<SaleEraseOptions> {
  const d = SALE_ERASE_DEFAULTS;
  return {
    dropPage: validate(pageSchema, o.dropPage ?? d.dropPage, "drop page"),
    scanCount: validate(pageSchema, o.scanCount ?? d.scanCount, "scan count"),
    streamPage: validate(pageSchema, o.streamPage ?? d.streamPage, "stream page"),
    passes: validate(pageSchema, o.passes ?? d.passes, "passes"),
    rewriteTtlMs: validate(rewriteTtlSchema, o.rewriteTtlMs ?? d.rewriteTtlMs, "rewrite ttl"),
  };
}

interface DropErasure {
  records: number;
  released: number;
  deleted: number;
  pending: number;
}

/** erase-user.lua's `{1, fields, records, released}`; null when the drop does not exist. */
function decodeErase(reply: ScriptReply, dropId: string): { records: number; released: number } | null {
  if (Array.isArray(reply) && reply[0] === 1)
    return { records: Number(reply[2] ?? 0), released: Number(reply[3] ?? 0) };
  const code = Array.isArray(reply) && typeof reply[1] === "string" ? reply[1] : "MALFORMED_REPLY";
  if (code === "DROP_NOT_FOUND") return null;
  throw scriptError(code, { dropId });
}

/** One drop: its hash fields in atomic script calls, then its streams (see SaleErasure). */
async function eraseInDrop(
  t: SaleStateTarget,
  drop: KnownDrop,
  userId: string,
  pseudonym: string,
  o: Required<SaleEraseOptions>,
): Promise<DropErasure> {
  const redis = t.connection;
  const cmd = registerScripts(redis);
  const k = t.keys.drop(drop.dropId);
  const logLength = t.eventLogLength ?? DEFAULTS.eventLogLength;
  const done: DropErasure = { records: 0, released: 0, deleted: 0, pending: 0 };
  const run = async (keys: string[]) => {
    const reply = await cmd.ldEraseUser(
      k.state,
      k.holds,
      k.outbox,
      k.events,
      k.log,
      k.entries,
      drop.dropId,
      userId,
      pseudonym,
      logLength,
      ...keys,
    );
    const r = decodeErase(reply, drop.dropId);
    if (r === null) return false;
    done.records += r.records;
    done.released += r.released;
    return true;
  };
  let bought = false;
  for (let pass = 0; pass < o.passes; pass++) {
    const keys = [...(await userAttempts(t, drop.dropId, userId, o.scanCount)).keys()];
    if (keys.length === 0) {
      // Only a units field left (its records are gone): it moves whole; or only a waitlist
      // ticket (a join records no attempt): it is withdrawn.
      if (
        (await redis.hexists(k.state, `u:${userId}`)) === 1 ||
        (await redis.hexists(k.state, `w:${userId}`)) === 1
      )
        bought = await run([]);
      break;
    }
    bought = true;
    for (let i = 0; i < keys.length; i += o.scanCount)
      if (!(await run(keys.slice(i, i + o.scanCount)))) return done;
  }
  // Every event naming the user is of a hold recorded in this hash, under their id or (erased
  // before) the pseudonym: without either, the drop's streams are not read.
  if (!bought && (await userAttempts(t, drop.dropId, pseudonym, o.scanCount, true)).size === 0) return done;
  for (const stream of [k.log, k.outbox]) {
    const ids = await entriesNaming(redis, stream, userId, o.streamPage);
    if (!drop.retired) {
      done.pending += ids.length;
      continue;
    }
    for (let i = 0; i < ids.length; i += o.streamPage)
      done.deleted += await redis.xdel(stream, ...ids.slice(i, i + o.streamPage));
  }
  return done;
}

/** What an erasure changed in auctions and coupons (see eraseUserFormatState). */
export interface FormatErasure {
  /** Fields of auction and bidders hashes that named the user and now name the pseudonym. */
  readonly auctionFields: number;
  /** Bid history entries that named the user or their mask, rewritten with the pseudonym's. */
  readonly bidEntries: number;
  /** Coupon fields that named the user (claims, claim records, counts), now the pseudonym's. */
  readonly couponFields: number;
}

/** erase-auction.lua's and erase-coupon.lua's `{1, n, ...}`; null when the auction does not exist. */
function decodeCount(reply: ScriptReply, details: Record<string, unknown>): number | null {
  if (Array.isArray(reply) && reply[0] === 1) return Number(reply[1] ?? 0);
  const code = Array.isArray(reply) && typeof reply[1] === "string" ? reply[1] : "MALFORMED_REPLY";
  if (code === "AUCTION_NOT_FOUND") return null;
  throw scriptError(code, details);
}

/** Whether a bid history entry names the user (fields `u`, `l`) or their mask (`k`, `lk`). */
function bidNames(flat: string[], userId: string, mask: string): boolean {
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const f = flat[i];
    const v = flat[i + 1];
    if (((f === "u" || f === "l") && v === userId) || ((f === "k" || f === "lk") && v === mask)) return true;
  }
  return false;
}

/** Whether any entry of the bid history names the user, read page by page. */
async function historyNames(
  redis: RedisClient,
  stream: string,
  userId: string,
  mask: string,
  page: number,
): Promise<boolean> {
  let after = "-";
  for (;;) {
    const entries = (await redis.xrange(stream, after, "+", "COUNT", page)) as [string, string[]][];
    if (entries.some(([, flat]) => bidNames(flat, userId, mask))) return true;
    if (entries.length < page) return false;
    after = `(${entries.at(-1)?.[0]}`;
  }
}

/**
 * One auction: its hash fields in atomic script calls, then its bid history rewritten page by
 * page (lua/erase-bids.lua). Only an auction where the user (or, erased before, the pseudonym)
 * has a bidders entry is read further: every accepted bid writes one.
 */
async function eraseInAuction(
  t: SaleStateTarget,
  cmd: ScriptCommands,
  dropId: string,
  userId: string,
  pseudonym: string,
  o: Required<SaleEraseOptions>,
): Promise<{ fields: number; entries: number }> {
  const redis = t.connection;
  const k = t.keys.drop(dropId);
  const done = { fields: 0, entries: 0 };
  const [bidder, aliasBidder] = await redis.hmget(k.bidders, userId, pseudonym);
  if (bidder === null && aliasBidder === null) return done;
  const seed = await redis.hget(k.auction, "seed");
  if (seed === null) return done;
  const umask = maskUser(seed, userId);
  const pmask = maskUser(seed, pseudonym);
  const keys = [...(await fieldsStarting(redis, k.auction, `k:${userId}|`, o.scanCount)).keys()];
  if (bidder !== null || keys.length > 0) {
    for (let i = 0; i === 0 || i < keys.length; i += o.scanCount) {
      const page = keys.slice(i, i + o.scanCount);
      const n = decodeCount(
        await cmd.ldEraseAuction(k.auction, k.bidders, userId, pseudonym, umask, pmask, ...page),
        {
          dropId,
        },
      );
      if (n === null) return done;
      done.fields += n;
    }
  }
  if (!(await historyNames(redis, k.bids, userId, umask, o.streamPage))) return done;
  // One rewrite at a time per auction (lua/erase-bids.lua): a second would undo the first.
  const run = randomUUID();
  let cursor = "-";
  for (;;) {
    const reply = await cmd.ldEraseBids(
      k.bids,
      `${k.bids}:erase`,
      `${k.bids}:erase-lock`,
      userId,
      pseudonym,
      umask,
      pmask,
      cursor,
      o.streamPage,
      run,
      o.rewriteTtlMs,
    );
    if (Array.isArray(reply) && reply[0] === 0 && reply[1] === "BUSY")
      throw new LivedropError(
        ErrorCode.UNAVAILABLE,
        "another erasure is rewriting this auction's bid history: erase again",
        { dropId },
      );
    if (!Array.isArray(reply) || reply[0] !== 1)
      throw scriptError(Array.isArray(reply) ? String(reply[1]) : "MALFORMED_REPLY", { dropId });
    done.entries += Number(reply[3] ?? 0);
    if (reply[1] === 1) return done;
    cursor = String(reply[2]);
  }
}

/** Every coupon hash under the prefix, page by page, over each primary of a cluster. */
async function* couponKeys(t: SaleStateTarget, scanCount: number): AsyncGenerator<string[]> {
  const redis = t.connection;
  const match = `${globLiteral(t.keys.prefix)}:{coupons:*}:c:*`;
  const nodes = "nodes" in redis ? (redis as Cluster).nodes("master") : [redis];
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", match, "COUNT", scanCount, "TYPE", "hash");
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== "0");
  }
}

/** One coupon: the user's claim fields, in atomic script calls of at most `scanCount` keys. */
async function eraseInCoupon(
  t: SaleStateTarget,
  cmd: ScriptCommands,
  coupon: string,
  userId: string,
  pseudonym: string,
  o: Required<SaleEraseOptions>,
): Promise<number> {
  const keys = [...(await fieldsStarting(t.connection, coupon, `i:${userId}|`, o.scanCount)).keys()];
  if (keys.length === 0 && (await t.connection.hexists(coupon, `u:${userId}`)) === 0) return 0;
  let fields = 0;
  for (let i = 0; i === 0 || i < keys.length; i += o.scanCount)
    fields +=
      decodeCount(await cmd.ldEraseCoupon(coupon, userId, pseudonym, ...keys.slice(i, i + o.scanCount)), {
        coupon,
      }) ?? 0;
  return fields;
}

/**
 * Erases one user from the selling formats' state: every auction (one per known drop, same id)
 * and every coupon of every room. What names them moves to `pseudonym` in atomic scripts, one
 * hash tag each (Redis-Cluster-safe); what finance and the outcome need stays: an auction's
 * price, maxima, winner (now the pseudonym) and settle answer, a coupon's quota counts and each
 * claim's status, order and discount. Coupons have no per-room index, so their keys are found
 * with SCAN (MATCH, TYPE hash) on each primary. Idempotent: a second call answers zeros.
 * eraseUserSaleState runs it; it is exported for its counts.
 */
export async function eraseUserFormatState(
  t: SaleStateTarget,
  userId: string,
  pseudonym: string,
  options: SaleEraseOptions = {},
): Promise<FormatErasure> {
  const id = validate(userIdSchema, userId, "user id");
  const alias = validate(userIdSchema, pseudonym, "pseudonym");
  if (alias === id) throw new ValidationError("the pseudonym must differ from the user id");
  const o = pageSizes(options);
  const cmd = registerScripts(t.connection);
  let auctionFields = 0;
  let bidEntries = 0;
  let couponFields = 0;
  for await (const page of knownDrops(t, o.dropPage)) {
    for (const { dropId } of page) {
      const a = await eraseInAuction(t, cmd, dropId, id, alias, o);
      auctionFields += a.fields;
      bidEntries += a.entries;
    }
  }
  for await (const keys of couponKeys(t, o.scanCount))
    for (const coupon of keys) couponFields += await eraseInCoupon(t, cmd, coupon, id, alias, o);
  return { auctionFields, bidEntries, couponFields };
}

/**
 * Erases one user from the sale engine's state, for every drop it knows (active and retired):
 * their fields of each drop's hash move to `pseudonym` in one atomic script per drop (one hash
 * tag, so it runs on Redis Cluster), keeping the stock invariant and the per-user limit counts;
 * their unpaid holds are released (see lua/erase-user.lua); log and outbox entries naming them are
 * deleted where the drop has retired and counted as pending elsewhere; then their auctions and
 * coupons (eraseUserFormatState). Idempotent: a second call changes nothing and answers zeros but
 * for what is still pending.
 */
export async function eraseUserSaleState(
  t: SaleStateTarget,
  userId: string,
  pseudonym: string,
  options: SaleEraseOptions = {},
): Promise<SaleErasure> {
  const id = validate(userIdSchema, userId, "user id");
  const alias = validate(userIdSchema, pseudonym, "pseudonym");
  if (alias === id) throw new ValidationError("the pseudonym must differ from the user id");
  const o = pageSizes(options);
  let saleRecords = 0;
  let saleHoldsReleased = 0;
  let saleEventEntries = 0;
  let saleEventsPending = 0;
  for await (const page of knownDrops(t, o.dropPage)) {
    for (const drop of page) {
      const d = await eraseInDrop(t, drop, id, alias, o);
      saleRecords += d.records;
      saleHoldsReleased += d.released;
      saleEventEntries += d.deleted;
      saleEventsPending += d.pending;
    }
  }
  await eraseUserFormatState(t, id, alias, o);
  return { saleRecords, saleHoldsReleased, saleEventEntries, saleEventsPending };
}

/** The user's holds in every drop the engine knows, drop by drop (what an export lists). */
export async function userSaleHolds(
  t: SaleStateTarget,
  userId: string,
  options: SaleEraseOptions = {},
): Promise<SaleHold[]> {
  const id = validate(userIdSchema, userId, "user id");
  const o = pageSizes(options);
  const out: SaleHold[] = [];
  for await (const page of knownDrops(t, o.dropPage)) {
    for (const { dropId } of page) {
      // qty|1|rid|...: a recorded hold; a rid answered twice (a replay) is one hold
      const rids = new Set<string>();
      for (const value of (await userAttempts(t, dropId, id, o.scanCount)).values()) {
        const [, held, rid] = value.split("|");
        if (held === "1" && rid) rids.add(rid);
      }
      if (rids.size === 0) continue;
      const ids = [...rids];
      const raws = await t.connection.hmget(t.keys.drop(dropId).state, ...ids.map(stateField.reservation));
      ids.forEach((reservationId, i) => {
        const [buyer, qty = "0", , status = ""] = (raws[i] ?? "").split("|");
        if (buyer !== id) return;
        out.push({ dropId, reservationId, qty: Number(qty), status: STATUS_OF[status] ?? "held" });
      });
    }
  }
  return out;
}
