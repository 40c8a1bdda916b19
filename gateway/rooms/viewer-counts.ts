import { randomUUID } from "node:crypto";
import type { Logger, RedisClient } from "../../core/index.ts";
import { viewerNodeKey as nodeKey, viewerNodesKey as nodesKey, presenceNodeKey } from "../keys.ts";

/** How often each node reports its viewers, and after how long a silent node's report expires. */
export const VIEWER_REPORT_MS = 2_000;
const STALE_AFTER_MS = 3 * VIEWER_REPORT_MS;

/** The nodes whose last report is fresh (rooms/presence.ts reads their presence too). */
export async function freshViewerNodes(redis: RedisClient, prefix: string, now: number): Promise<string[]> {
  return redis.zrangebyscore(nodesKey(prefix), now - STALE_AFTER_MS, "+inf");
}

/** Viewers of `room` over every node's fresh report (read-only: for dashboards). */
export async function roomViewers(redis: RedisClient, prefix: string, room: string, now = Date.now()) {
  const nodes = await freshViewerNodes(redis, prefix, now);
  const counts = await Promise.all(nodes.map((node) => redis.hget(nodeKey(prefix, node), room)));
  return counts.reduce((sum, n) => sum + Number(n ?? 0), 0);
}

/**
 * Viewer counts summed across gateway nodes. Every 2 s each node writes one hash of its local
 * count per room, heartbeats in the set of reporting nodes, reads the other fresh nodes' counts
 * of its own rooms (one read per node), and hands changed totals to `publish`. A round costs a
 * few commands per node whatever the number of rooms, so joined-but-idle rooms cost Redis
 * nothing each; a node that died drops out of the totals once its heartbeat is stale, and its
 * hash expires.
 */
export class ViewerCounts {
  readonly nodeId = randomUUID();
  /** Rooms in this node's last report. */
  private reported = new Set<string>();
  private readonly totals = new Map<string, number>();
  /** Per room, the users in this node's last presence report; undefined: rewrite every set whole. */
  private presence: Map<string, Set<string>> | undefined = new Map();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly localCounts: () => Map<string, number>,
    private readonly publish: (room: string, total: number) => void,
    readonly log: Logger,
    /** The users of this node's sockets per room: reported as room presence when given. */
    private readonly localUsers?: () => Map<string, ReadonlySet<string>>,
  ) {
    this.timer = setInterval(() => {
      this.report().catch((err: unknown) =>
        log.warn({ err: (err as Error).message }, "viewer count report failed"),
      );
    }, VIEWER_REPORT_MS);
  }

  close(): void {
    clearInterval(this.timer);
  }

  /**
   * Writes what changed in this node's room presence since the last round (the sets of users per
   * room), and renews each set's life like the counts hash: a dead node's sets expire.
   */
  private async reportPresence(users: Map<string, ReadonlySet<string>>): Promise<void> {
    const writes: Promise<unknown>[] = [];
    const next = new Map<string, Set<string>>();
    for (const [room, now] of users) {
      if (now.size === 0) continue;
      const key = presenceNodeKey(this.prefix, this.nodeId, room);
      // Commands on one connection run in order: the delete lands before the rewrite.
      if (!this.presence) writes.push(this.redis.del(key));
      const before = this.presence?.get(room) ?? new Set<string>();
      const added = [...now].filter((u) => !before.has(u));
      const removed = [...before].filter((u) => !now.has(u));
      if (added.length > 0) writes.push(this.redis.sadd(key, ...added));
      if (removed.length > 0) writes.push(this.redis.srem(key, ...removed));
      writes.push(this.redis.pexpire(key, 2 * STALE_AFTER_MS));
      next.set(room, new Set(now));
    }
    for (const room of this.presence?.keys() ?? [])
      if (!next.has(room)) writes.push(this.redis.del(presenceNodeKey(this.prefix, this.nodeId, room)));
    try {
      await Promise.all(writes);
      this.presence = next;
    } catch (err) {
      // Unknown what was written: the next round writes each set whole again.
      this.presence = undefined;
      throw err;
    }
  }

  /** One round: write this node's counts, read every other node's, publish the totals that changed. */
  async report(now = Date.now()): Promise<void> {
    const local = this.localCounts();
    const own = nodeKey(this.prefix, this.nodeId);
    const gone = [...this.reported].filter((room) => !local.has(room));
    const writes: Promise<unknown>[] = [];
    if (gone.length > 0) writes.push(this.redis.hdel(own, ...gone));
    if (local.size > 0) {
      writes.push(this.redis.hset(own, Object.fromEntries(local)));
      writes.push(this.redis.pexpire(own, 2 * STALE_AFTER_MS));
    }
    const nodes = nodesKey(this.prefix);
    writes.push(this.redis.zadd(nodes, now, this.nodeId));
    writes.push(this.redis.zremrangebyscore(nodes, "-inf", now - 2 * STALE_AFTER_MS));
    if (this.localUsers) writes.push(this.reportPresence(this.localUsers()));
    await Promise.all(writes);
    this.reported = new Set(local.keys());
    for (const room of gone) this.totals.delete(room);
    if (local.size === 0) return;
    const rooms = [...local.keys()];
    const others = (await freshViewerNodes(this.redis, this.prefix, now)).filter((n) => n !== this.nodeId);
    const theirs = await Promise.all(
      others.map((node) => this.redis.hmget(nodeKey(this.prefix, node), ...rooms)),
    );
    rooms.forEach((room, i) => {
      const total = theirs.reduce((sum, counts) => sum + Number(counts[i] ?? 0), local.get(room) ?? 0);
      if (this.totals.get(room) === total) return;
      this.totals.set(room, total);
      this.publish(room, total);
    });
  }
}
