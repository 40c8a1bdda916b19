import { randomUUID } from "node:crypto";
import type { Logger, RedisClient } from "../../core/index.ts";
import { type DelaySource, MAX_FAIR_WINDOW_MS, type RoomDelayResponse } from "../../protocol/index.ts";
import type { SaleEngine } from "../../sale-engine/index.ts";
import { DEFAULT_GATEWAY_LIMITS } from "../limits.ts";
import { DelayHistogram } from "./delay-histogram.ts";

/** A node rewrites an unchanged room every this many rounds, and drops out after this many silent ones. */
const REFRESH_ROUNDS = 5;
const STALE_ROUNDS = 10;

export interface RoomDelaySettings {
  /** GATEWAY_DELAY_SYNC_MS */
  readonly syncMs: number;
  /** GATEWAY_DELAY_BUCKET_MS */
  readonly bucketMs: number;
  /** GATEWAY_FAIR_MARGIN_MS */
  readonly marginMs: number;
  /** GATEWAY_FAIR_WINDOW_STEP_MS */
  readonly stepMs: number;
  /** GATEWAY_FAIR_DEFAULT_WINDOW_MS */
  readonly defaultWindowMs: number;
}

export const DEFAULT_DELAY_SETTINGS: RoomDelaySettings = {
  syncMs: DEFAULT_GATEWAY_LIMITS.delaySyncMs,
  bucketMs: DEFAULT_GATEWAY_LIMITS.delayBucketMs,
  marginMs: DEFAULT_GATEWAY_LIMITS.fairMarginMs,
  stepMs: DEFAULT_GATEWAY_LIMITS.fairWindowStepMs,
  defaultWindowMs: DEFAULT_GATEWAY_LIMITS.fairDefaultWindowMs,
};

/** The lane a distribution belongs to: its engine's Redis connection and key space. */
export type DelayLane = Pick<SaleEngine, "connection" | "keys">;

/**
 * Hash of a room's delay histograms, one field per gateway node (value: `{at, h}`, the time of
 * the write and the node's histogram); the room's hash tag, so it sits beside the room's keys.
 */
export function roomDelayKey(prefix: string, room: string): string {
  return `${prefix}:room:{${room}}:delay`;
}

/** p95 plus the margin, rounded up to the step, capped at the longest window; the default without reports. */
export function impliedWindowMs(h: DelayHistogram, s: RoomDelaySettings): number {
  if (h.count() === 0) return s.defaultWindowMs;
  const raw = Math.ceil((h.percentile(0.95) + s.marginMs) / s.stepMs) * s.stepMs;
  return Math.min(Math.max(raw, 1), MAX_FAIR_WINDOW_MS);
}

/** The route's answer for a room's merged histogram. */
export function summarize(room: string, h: DelayHistogram, s: RoomDelaySettings): RoomDelayResponse {
  const bySource = (source: DelaySource) => ({ count: h.count(source), p95Ms: h.percentile(0.95, source) });
  return {
    room,
    reports: h.count(),
    p50Ms: h.percentile(0.5),
    p90Ms: h.percentile(0.9),
    p95Ms: h.percentile(0.95),
    maxMs: h.percentile(1),
    bySource: { hls: bySource("hls"), webrtc: bySource("webrtc") },
    impliedWindowMs: impliedWindowMs(h, s),
  };
}

interface LocalRoom {
  readonly histogram: DelayHistogram;
  /** The latest report of each socket in the room (a socket's new report replaces its last). */
  readonly bySocket: Map<string, { ms: number; source: DelaySource }>;
  dirty: boolean;
  writtenAt: number;
}

/** What reads a lane's room delays: the route and drop creation ("auto"). */
export interface RoomDelayReader {
  readonly settings: RoomDelaySettings;
  /** The room's histogram over every gateway node. */
  histogram(room: string, now?: number): Promise<DelayHistogram>;
}

/**
 * This node's share of every room's playback delays: the latest report of each socket that is
 * in the room (leaving drops it), counted in a fixed-bucket histogram per room. Each round the
 * rooms that changed are written to Redis (one hash field per node), so a read on any node
 * merges every node's share: a room's viewers are spread over nodes behind a load balancer. A
 * node that stops drops out once its fields are stale; the hash expires when no node writes.
 */
export class RoomDelay implements RoomDelayReader {
  readonly nodeId: string = randomUUID();
  private readonly rooms = new Map<string, LocalRoom>();
  private readonly timer: NodeJS.Timeout;
  private readonly redis: RedisClient;
  private readonly prefix: string;

  constructor(
    private readonly lane: DelayLane,
    readonly settings: RoomDelaySettings,
    log: Logger,
  ) {
    this.redis = lane.connection;
    this.prefix = lane.keys.prefix;
    register(lane, this);
    this.timer = setInterval(() => {
      this.sync().catch((err: unknown) =>
        log.warn({ err: (err as Error).message }, "room delay sync failed"),
      );
    }, settings.syncMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
    unregister(this.lane, this);
  }

  /** A socket's latest delay in a room it is in. */
  report(connId: string, room: string, ms: number, source: DelaySource): void {
    let r = this.rooms.get(room);
    if (!r) {
      r = {
        histogram: new DelayHistogram(this.settings.bucketMs),
        bySocket: new Map(),
        dirty: true,
        writtenAt: 0,
      };
      this.rooms.set(room, r);
    }
    const last = r.bySocket.get(connId);
    if (last) r.histogram.remove(last.ms, last.source);
    r.bySocket.set(connId, { ms, source });
    r.histogram.add(ms, source);
    r.dirty = true;
  }

  /** A socket left the room (or closed): its report no longer counts. */
  leave(connId: string, room: string): void {
    const r = this.rooms.get(room);
    const last = r?.bySocket.get(connId);
    if (!r || !last) return;
    r.bySocket.delete(connId);
    r.histogram.remove(last.ms, last.source);
    r.dirty = true;
  }

  /** This node's own share of a room (no Redis). */
  local(room: string): DelayHistogram | undefined {
    return this.rooms.get(room)?.histogram;
  }

  /** One round: write the rooms that changed (and refresh the others now and then), drop the empty ones. */
  async sync(now = Date.now()): Promise<void> {
    const writes: Promise<unknown>[] = [];
    const ttlMs = 2 * STALE_ROUNDS * this.settings.syncMs;
    for (const [room, r] of this.rooms) {
      const due = r.dirty || now - r.writtenAt >= REFRESH_ROUNDS * this.settings.syncMs;
      if (!due) continue;
      const key = roomDelayKey(this.prefix, room);
      r.dirty = false;
      r.writtenAt = now;
      if (r.bySocket.size === 0) {
        this.rooms.delete(room);
        writes.push(this.redis.hdel(key, this.nodeId));
        continue;
      }
      writes.push(this.redis.hset(key, this.nodeId, JSON.stringify({ at: now, h: r.histogram })));
      writes.push(this.redis.pexpire(key, ttlMs));
    }
    await Promise.all(writes);
  }

  histogram(room: string, now = Date.now()): Promise<DelayHistogram> {
    return readHistogram(this.lane, this.settings, room, now);
  }
}

/**
 * The RoomDelay of each lane's socket servers in this process, by the lane's engine: the HTTP
 * routes and commands reach a lane through its engine only, and read this process's shares live
 * (not their Redis copy, up to a round old) and the other nodes' from Redis.
 */
const registry = new WeakMap<DelayLane, Set<RoomDelay>>();

function register(lane: DelayLane, d: RoomDelay): void {
  const set = registry.get(lane) ?? new Set();
  set.add(d);
  registry.set(lane, set);
}

function unregister(lane: DelayLane, d: RoomDelay): void {
  registry.get(lane)?.delete(d);
}

/** The reader of a lane's room delays: this process's socket servers' settings, else the defaults. */
export function roomDelayOf(lane: DelayLane): RoomDelayReader {
  const [first] = registry.get(lane) ?? [];
  const settings = first?.settings ?? DEFAULT_DELAY_SETTINGS;
  return { settings, histogram: (room, now = Date.now()) => readHistogram(lane, settings, room, now) };
}

/** Merges the local shares with every other node's fresh share in Redis. */
async function readHistogram(
  lane: DelayLane,
  settings: RoomDelaySettings,
  room: string,
  now: number,
): Promise<DelayHistogram> {
  const merged = new DelayHistogram(settings.bucketMs);
  const locals = [...(registry.get(lane) ?? [])];
  const localIds = new Set(locals.map((d) => d.nodeId));
  for (const d of locals) {
    const h = d.local(room);
    if (h) merged.merge(h);
  }
  const fields = await lane.connection.hgetall(roomDelayKey(lane.keys.prefix, room));
  const freshFrom = now - STALE_ROUNDS * settings.syncMs;
  for (const [nodeId, value] of Object.entries(fields)) {
    if (localIds.has(nodeId)) continue;
    const share = decodeShare(value);
    if (share && share.at >= freshFrom) merged.merge(share.h);
  }
  return merged;
}

function decodeShare(value: string): { at: number; h: DelayHistogram } | undefined {
  try {
    const v = JSON.parse(value) as { at?: unknown; h?: unknown };
    const h = DelayHistogram.fromJSON(v.h);
    return typeof v.at === "number" && h ? { at: v.at, h } : undefined;
  } catch {
    return undefined;
  }
}
