import type { Config, RedisClient, ScriptReply } from "../core/index.ts";
import { ConflictError, ErrorCode, NotFoundError, ValidationError, validate } from "../core/index.ts";
import {
  type AuctionDefinition,
  type AuctionSettle,
  type AuctionStatus,
  auctionDefinitionSchema,
  type BidAnswer,
  type BidHistoryEntry,
  type BidInput,
  bidInputSchema,
  dropIdSchema,
  type IncrementRow,
} from "../protocol/index.ts";
import { AUCTION_DEFAULTS, auctionHistoryLengthSchema, auctionSettleBatchSchema } from "./auction-schema.ts";
import { maskUser, newSeed } from "./draw.ts";
import type { SaleEngine } from "./engine.ts";
import { scriptError } from "./errors.ts";
import { registerScripts, type ScriptCommands } from "./scripts.ts";

export interface AuctionsOptions {
  /** The engine whose drops back the auctions (createDrop, keys, event log length, clock). */
  readonly engine: SaleEngine;
  /** A connection to the engine's Redis; default the engine's own. */
  readonly redis?: RedisClient;
  /**
   * Bids kept in each auction's history stream (approximate, MAXLEN ~). Default
   * LIVEDROP_AUCTION_HISTORY_LENGTH from `config`, else 1000.
   */
  readonly historyLength?: number;
  /** Most auctions one settleDue call settles. Default LIVEDROP_AUCTION_SETTLE_BATCH, else 100. */
  readonly settleBatch?: number;
  /** The deployment's settings, used where the options above are not given. */
  readonly config?: Partial<
    Pick<Config, "LIVEDROP_AUCTION_HISTORY_LENGTH" | "LIVEDROP_AUCTION_SETTLE_BATCH">
  >;
}

/** The step a bid must add at `price`: the last row whose `fromMinor` is at most the price. */
export function stepAt(increments: readonly IncrementRow[], price: number): number {
  let step = increments[0]?.stepMinor ?? 1;
  for (const row of increments) if (row.fromMinor <= price) step = row.stepMinor;
  return step;
}

const decodeIncrements = (raw: string): IncrementRow[] =>
  raw.split(",").map((row) => {
    const [from = "0", step = "1"] = row.split(":");
    return { fromMinor: Number(from), stepMinor: Number(step) };
  });

const STATUS_FIELDS = [
  "room",
  "starts",
  "ends",
  "sp",
  "rsv",
  "price",
  "lmask",
  "bids",
  "status",
  "met",
  "rid",
  "inc",
] as const;

/**
 * Auctions, each sold through a backing drop of stock 1 with the same id (lua/auction-*.lua).
 * Guarantees: every bid and the settle are one atomic script on the drop's slot; a bid is
 * idempotent per (user, idempotency key); settle is idempotent and places the winner's hold as
 * the drop's own hold (outbox, expiry, payment unchanged), with the runner-ups in the drop's
 * hand-off queue. The pending index (`keys.auctionsPending`, another slot) is written around the
 * scripts: after open, and by settleDue.
 */
export class Auctions {
  private readonly engine: SaleEngine;
  private readonly redis: RedisClient;
  private readonly cmd: ScriptCommands;
  private readonly historyLength: number;
  private readonly settleBatch: number;
  /** Mask seeds by auction: fixed at open, so cached for the bid path. */
  private readonly seeds = new Map<string, string>();

  private constructor(options: AuctionsOptions) {
    this.engine = options.engine;
    this.redis = options.redis ?? options.engine.connection;
    this.cmd = registerScripts(this.redis);
    this.historyLength = validate(
      auctionHistoryLengthSchema,
      options.historyLength ??
        options.config?.LIVEDROP_AUCTION_HISTORY_LENGTH ??
        AUCTION_DEFAULTS.historyLength,
      "auction history length",
    );
    this.settleBatch = validate(
      auctionSettleBatchSchema,
      options.settleBatch ?? options.config?.LIVEDROP_AUCTION_SETTLE_BATCH ?? AUCTION_DEFAULTS.settleBatch,
      "auction settle batch",
    );
  }

  static async create(options: AuctionsOptions): Promise<Auctions> {
    return new Auctions(options);
  }

  /** Nothing to release: the connection is the caller's. Safe to call twice. */
  async close(): Promise<void> {
    this.seeds.clear();
  }

  /**
   * Opens an auction: creates its backing drop (stock 1, limit 1, no waitlist, format auction,
   * opening at the planned end so no buyer can take the unit) and pauses it for the bidding.
   * Same id and identical definition: no-op (`opened: false`); a crash between the two steps is
   * repaired by calling again.
   */
  async open(definition: AuctionDefinition): Promise<{ opened: boolean; status: AuctionStatus }> {
    const d = validate(auctionDefinitionSchema, definition, "auction definition");
    const k = this.engine.keys.drop(d.dropId);
    const params = canonicalParams(d);
    const existing = await this.redis.hget(k.auction, "params");
    if (existing !== null) {
      if (existing !== params) throw scriptError("DROP_CONFLICT", { dropId: d.dropId });
      const status = await this.status(d.dropId);
      // an open that crashed before its index entry: written now (settleDue takes it out again)
      if (status.state !== "settled")
        await this.redis.zadd(this.engine.keys.auctionsPending, "NX", status.endsAt, d.dropId);
      return { opened: false, status };
    }
    const now = await this.engine.serverTime();
    const startsAt = d.startsAt ?? now;
    const endsAt = startsAt + d.durationMs;
    if (endsAt <= now)
      throw new ValidationError("the auction would end before it opens", { dropId: d.dropId });
    try {
      await this.engine.createDrop({
        dropId: d.dropId,
        roomId: d.roomId,
        product: d.product,
        initialStock: 1,
        perUserLimit: 1,
        holdMs: d.holdMs,
        startsAt: endsAt,
        waitlist: false,
        format: "auction",
      });
    } catch (err) {
      // a drop left by an open that crashed: auction-open.lua checks it is still a fresh unit
      if (!(err instanceof ConflictError && err.code === ErrorCode.DROP_CONFLICT)) throw err;
    }
    const seed = newSeed().seed;
    const reply = await this.cmd.ldAuctionOpen(
      k.auction,
      k.state,
      k.events,
      k.log,
      d.dropId,
      params,
      startsAt,
      endsAt,
      d.product.priceMinor,
      d.reserveMinor ?? -1,
      d.suddenDeath ? 0 : d.antiSnipeMs,
      d.increments.map((r) => `${r.fromMinor}:${r.stepMinor}`).join(","),
      seed,
      this.engine.eventLogLength,
    );
    if (reply[0] !== 1) throw scriptError(String(reply[1]), { dropId: d.dropId });
    await this.redis.zadd(this.engine.keys.auctionsPending, "NX", endsAt, d.dropId);
    return { opened: reply[1] === 1, status: await this.status(d.dropId) };
  }

  /**
   * A proxy bid (see lua/auction-bid.lua for the rule). Throws a typed error for every refusal:
   * BID_TOO_LOW and ALREADY_LEADING carry `minMinor`, the lowest bid that would be taken.
   */
  async bid(input: BidInput): Promise<BidAnswer> {
    const b = validate(bidInputSchema, input, "bid");
    const k = this.engine.keys.drop(b.dropId);
    const seed = await this.seedOf(b.dropId);
    const reply = await this.cmd.ldAuctionBid(
      k.auction,
      k.bidders,
      k.bids,
      k.state,
      k.events,
      k.log,
      b.dropId,
      b.userId,
      b.maxMinor,
      b.idempotencyKey,
      maskUser(seed, b.userId),
      this.engine.eventLogLength,
      this.historyLength,
    );
    if (reply[0] !== 1) {
      const code = String(reply[1]);
      const min = Number(reply[2] ?? 0);
      throw scriptError(code, {
        dropId: b.dropId,
        ...(code === "BID_TOO_LOW" || code === "ALREADY_LEADING" ? { minMinor: min } : {}),
      });
    }
    const n = (i: number) => Number(reply[i]);
    return {
      dropId: b.dropId,
      leading: n(1) === 1,
      priceMinor: n(2),
      maxMinor: n(3),
      endsAt: n(4),
      extended: n(5) === 1,
      bids: n(6),
      minNextMinor: n(7),
      replayed: n(8) === 1,
    };
  }

  /** Settles one auction if its end has come (idempotent); `settled: false` with the end if not. */
  async settle(dropId: string): Promise<AuctionSettle> {
    const id = validate(dropIdSchema, dropId, "auction id");
    const k = this.engine.keys.drop(id);
    const reply = await this.cmd.ldAuctionSettle(
      k.auction,
      k.bidders,
      k.state,
      k.holds,
      k.outbox,
      k.events,
      k.log,
      id,
      this.engine.eventLogLength,
    );
    return decodeSettle(id, reply);
  }

  /**
   * Settles the auctions whose end (as last seen) has passed, at most `settleBatch`: the pass the
   * worker runs (startAuctionPass). One whose end moved is re-scored; a settled one leaves the
   * index. Returns what each settle did; an auction whose settle failed stays for the next pass.
   */
  async settleDue(): Promise<AuctionSettle[]> {
    const pending = this.engine.keys.auctionsPending;
    const now = await this.engine.serverTime();
    const ids = await this.redis.zrangebyscore(pending, "-inf", now, "LIMIT", 0, this.settleBatch);
    const results: AuctionSettle[] = [];
    let failure: unknown;
    for (const id of ids) {
      try {
        const r = await this.settle(id);
        results.push(r);
        if (r.settled) await this.redis.zrem(pending, id);
        else await this.redis.zadd(pending, "XX", r.endsAt, id);
      } catch (err) {
        if (err instanceof NotFoundError) await this.redis.zrem(pending, id);
        else failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
    return results;
  }

  /** What a viewer sees: state, price, masked leader, the next acceptable bid, the end. */
  async status(dropId: string): Promise<AuctionStatus> {
    const id = validate(dropIdSchema, dropId, "auction id");
    const [values, serverTime] = await Promise.all([
      this.redis.hmget(this.engine.keys.drop(id).auction, ...STATUS_FIELDS),
      this.engine.serverTime(),
    ]);
    const f = Object.fromEntries(STATUS_FIELDS.map((name, i) => [name, values[i] ?? null])) as Record<
      (typeof STATUS_FIELDS)[number],
      string | null
    >;
    if (f.status === null) throw scriptError("AUCTION_NOT_FOUND", { dropId: id });
    const startsAt = Number(f.starts);
    const endsAt = Number(f.ends);
    const price = Number(f.price);
    const leader = f.lmask;
    const settled = f.status === "settled";
    return {
      dropId: id,
      roomId: f.room ?? "",
      state: settled
        ? "settled"
        : serverTime < startsAt
          ? "scheduled"
          : serverTime >= endsAt
            ? "closed"
            : "live",
      startsAt,
      endsAt,
      startPriceMinor: Number(f.sp),
      priceMinor: price,
      leader,
      bids: Number(f.bids ?? 0),
      minNextMinor: leader === null ? price : price + stepAt(decodeIncrements(f.inc ?? "0:1"), price),
      hasReserve: Number(f.rsv) >= 0,
      reserveMet: settled ? f.met === "1" : null,
      reservationId: settled && f.rid ? f.rid : null,
      serverTime,
    };
  }

  /**
   * The bid history, newest first, at most `limit` (up to the history length). Users are masked
   * unless `raw` (the host's view, which also shows each bidder's maximum).
   */
  async history(dropId: string, limit: number, options: { raw?: boolean } = {}): Promise<BidHistoryEntry[]> {
    const id = validate(dropIdSchema, dropId, "auction id");
    const count = validate(auctionHistoryLengthSchema.max(this.historyLength), limit, "history limit");
    const k = this.engine.keys.drop(id);
    const entries = await this.redis.xrevrange(k.bids, "+", "-", "COUNT", count);
    if (entries.length === 0 && (await this.redis.exists(k.auction)) === 0)
      throw scriptError("AUCTION_NOT_FOUND", { dropId: id });
    return entries.map(([, flat]) => {
      const e: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) e[flat[i] ?? ""] = flat[i + 1] ?? "";
      const base = { at: Number(e.t), priceMinor: Number(e.p) };
      return options.raw
        ? { ...base, user: e.u ?? "", leader: e.l ?? "", maxMinor: Number(e.x) }
        : { ...base, user: e.k ?? "", leader: e.lk ?? "" };
    });
  }

  private async seedOf(dropId: string): Promise<string> {
    const cached = this.seeds.get(dropId);
    if (cached) return cached;
    const seed = await this.redis.hget(this.engine.keys.drop(dropId).auction, "seed");
    if (seed === null) throw scriptError("AUCTION_NOT_FOUND", { dropId });
    if (this.seeds.size >= AUCTION_DEFAULTS.seedCacheSize) this.seeds.clear();
    this.seeds.set(dropId, seed);
    return seed;
  }
}

/** The definition as compared on re-open: fixed key order, so equal definitions compare equal. */
function canonicalParams(d: AuctionDefinition): string {
  return JSON.stringify({
    roomId: d.roomId,
    product: {
      sku: d.product.sku,
      title: d.product.title,
      priceMinor: d.product.priceMinor,
      currency: d.product.currency,
      imageUrl: d.product.imageUrl,
    },
    startsAt: d.startsAt ?? null,
    durationMs: d.durationMs,
    increments: d.increments.map((r) => [r.fromMinor, r.stepMinor]),
    reserveMinor: d.reserveMinor ?? null,
    antiSnipeMs: d.antiSnipeMs,
    suddenDeath: d.suddenDeath,
    holdMs: d.holdMs,
  });
}

function decodeSettle(dropId: string, reply: ScriptReply): AuctionSettle {
  if (reply[0] === 2) {
    return {
      dropId,
      settled: false,
      endsAt: Number(reply[1]),
      reserveMet: false,
      winner: null,
      priceMinor: null,
      reservationId: null,
      runnerUps: 0,
      replayed: false,
    };
  }
  if (reply[0] !== 1) throw scriptError(String(reply[1]), { dropId });
  const met = Number(reply[2]) === 1;
  return {
    dropId,
    settled: true,
    endsAt: Number(reply[7]),
    reserveMet: met,
    winner: met ? String(reply[3]) : null,
    priceMinor: met ? Number(reply[4]) : null,
    reservationId: met ? String(reply[5]) : null,
    runnerUps: Number(reply[6]),
    replayed: Number(reply[1]) === 1,
  };
}
