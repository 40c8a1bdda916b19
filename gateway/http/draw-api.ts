import { validate } from "../../core/index.ts";
import {
  type DrawResponse,
  type DropMeResponse,
  drawResponseSchema,
  dropIdSchema,
  dropMeResponseSchema,
  WireErrorCode,
} from "../../protocol/index.ts";
import { drawInputOf, type SaleEngine, verifyDraw } from "../../sale-engine/index.ts";
import { HttpRefusal } from "./handler.ts";
import { sendJson } from "./respond.ts";
import { type ApiRouter, callerOf } from "./router.ts";

/**
 * A drop's published draw and the server's own check of it: the seed (revealed at allocation)
 * against its commitment, and the allocation recomputed from (seed, entries) against what the
 * engine recorded. 404 for a drop without a draw, 409 DRAW_OPEN while its entries are open.
 */
export async function publishedDraw(engine: SaleEngine, dropId: string): Promise<DrawResponse> {
  const status = await engine.status(dropId);
  if (!status.fair) throw new HttpRefusal(404, WireErrorCode.DROP_NOT_FOUND, "this drop has no draw");
  const draw = await engine.fairDraw(dropId);
  if (!draw)
    throw new HttpRefusal(409, WireErrorCode.DRAW_OPEN, "the draw is published when its entries close");
  const verdict = verifyDraw(draw.seed, status.fair.seedHash, drawInputOf(draw), draw.results);
  return {
    dropId,
    mode: status.fair.mode,
    seedHash: status.fair.seedHash,
    seed: draw.seed,
    stock: draw.stock,
    perUserLimit: draw.perUserLimit,
    allocatedAt: status.fair.allocatedAt,
    // Positions count from 1, in draw order, as the engine records them.
    entries: draw.results.map((r, i) => ({
      entry: r.entryId,
      user: r.user,
      qty: r.qty,
      granted: r.granted,
      position: i + 1,
    })),
    skipped: [...draw.skipped],
    verified: verdict.ok ? { ok: true } : { ok: false, reason: verdict.reason },
  };
}

/** The caller's entries in a drop's draw and their waitlist ticket: what a reconnecting client shows. */
export async function myDropState(
  engine: SaleEngine,
  dropId: string,
  userId: string,
): Promise<DropMeResponse> {
  // The status read makes an unknown drop a 404 rather than an empty answer.
  const [status, entries, waitlist] = await Promise.all([
    engine.status(dropId),
    engine.fairEntriesOf(dropId, userId),
    engine.waitlistOf(dropId, userId),
  ]);
  // An auction sells one unit: its holds are a handful at most (the one held, none once paid).
  const held = status.format === "auction" ? await engine.heldReservations(dropId, AUCTION_HOLDS_READ) : [];
  const mine = held.find((r) => r.userId === userId && r.status === "held");
  return {
    dropId,
    entries: entries.map(({ entryId, qty, status, reservationId, granted }) => ({
      entryId,
      qty,
      status,
      reservationId,
      granted,
    })),
    waitlist,
    auctionHold: mine
      ? {
          reservationId: mine.reservationId,
          priceMinor: mine.priceMinor ?? status.product.priceMinor,
          deadline: mine.deadline,
        }
      : null,
  };
}

/** Holds of an auction's backing drop read for GET …/me (stock 1: one, or none). */
const AUCTION_HOLDS_READ = 4;

/**
 * A published draw's read and check, reused for `ttlMs` per lane and drop: everyone in a room may
 * press "verify" at the draw, and each check of a full draw costs HMACs over every entry. Concurrent
 * requests share the one in flight; refusals (open, no draw) are not kept.
 */
export class DrawCache {
  private readonly lanes = new WeakMap<
    SaleEngine,
    Map<string, { at: number; draw: Promise<DrawResponse> }>
  >();

  constructor(private readonly ttlMs: number) {}

  get(engine: SaleEngine, dropId: string): Promise<DrawResponse> {
    if (this.ttlMs <= 0) return publishedDraw(engine, dropId);
    let cache = this.lanes.get(engine);
    if (!cache) {
      cache = new Map();
      this.lanes.set(engine, cache);
    }
    const now = Date.now();
    const kept = cache.get(dropId);
    if (kept && now - kept.at < this.ttlMs) return kept.draw;
    // Expired ones go as new ones come: the map holds only the drops asked for lately.
    for (const [id, entry] of cache) if (now - entry.at >= this.ttlMs) cache.delete(id);
    const draw = publishedDraw(engine, dropId);
    const entry = { at: now, draw };
    cache.set(dropId, entry);
    draw.catch(() => {
      if (cache.get(dropId) === entry) cache.delete(dropId);
    });
    return draw;
  }
}

/** GET /api/v1/drops/:dropId/draw: public, like the drop itself. GET …/me: the caller's own. */
export function registerDrawApi(router: ApiRouter, drawCacheMs: number): void {
  const draws = new DrawCache(drawCacheMs);
  router.route({
    method: "get",
    pattern: "/api/v1/drops/:dropId/draw",
    name: "drop.draw",
    access: { who: "anyone" },
    lanes: "any",
    response: drawResponseSchema,
    handler: async ({ params, lane, g }) => {
      sendJson(g, 200, await draws.get(lane.engine, validate(dropIdSchema, params[0], "drop id")));
    },
  });
  router.route({
    method: "get",
    pattern: "/api/v1/drops/:dropId/me",
    name: "drop.me",
    access: { who: "signed-in" },
    lanes: "any",
    response: dropMeResponseSchema,
    handler: async (c) => {
      const dropId = validate(dropIdSchema, c.params[0], "drop id");
      sendJson(c.g, 200, await myDropState(c.lane.engine, dropId, callerOf(c).userId));
    },
  });
}
