import type { Logger, RedisClient } from "../../core/index.ts";
import { DropEventFeed, type SaleEngine, type SaleEvent } from "../../sale-engine/index.ts";
import { appenderLeaseKey } from "../keys.ts";
import { Lease } from "./lease.ts";
import type { RoomLog } from "./room-log.ts";

export interface RoomAppenderOptions {
  /** How often the holder renews its lease, looks for new drops and checks each drop's log, ms. */
  readonly scanMs: number;
  /** Life of the lease, ms: how long the room logs wait for a new holder after one dies. */
  readonly leaseMs: number;
  /** Drop event log entries read per call while catching up. */
  readonly readBatch: number;
}

/** One followed drop. Its work runs one step after another (`chain`), so its appends stay in version order. */
interface Followed {
  room: string | undefined;
  /** The drop's last version in the room log; undefined until read from the room's meta. */
  logged: number | undefined;
  /** Drop log id up to which every event is at or below `logged` ("0": not known). */
  cursor: string;
  chain: Promise<void>;
  /** Steps queued or running: live events go straight out only when there are none. */
  steps: number;
  /** The newest append sent: appends are pipelined (one connection keeps their order). */
  lastAppend: Promise<void>;
  /** An append failed: the next step reads the room log's version again. */
  failed: boolean;
  /** A check is queued: the next scan queues none. */
  checking: boolean;
  /** Live events that arrived while steps were queued: the next drain step sends them in one go. */
  backlog: SaleEvent[];
  draining: boolean;
  /** A live message arrived since the last check: the drop's stream is flowing, maybe behind. */
  heard: boolean;
}

/**
 * Writes every drop event of a lane into its room's log, once, whatever the number of gateway
 * nodes. One node per lane holds a Redis lease and follows every active drop: live on the drop's
 * shard channel, and from the drop's durable event log whenever the versions jump (a missed
 * message), on taking over (the lease moved: catch-up from the version the room log last holds),
 * and on each scan (a last message missed). The append script publishes each logged entry on the
 * room's channel, which is all that every gateway node subscribes to. An event the drop log no
 * longer holds is replaced by the drop's snapshot. Appends deduplicate per drop version, so an
 * overlap of two holders during a hand-over logs nothing twice.
 */
export class RoomAppender {
  private readonly lease: Lease;
  private readonly feed: DropEventFeed;
  private readonly drops = new Map<string, Followed>();
  private readonly timer: NodeJS.Timeout;
  private holding = false;
  private running = false;
  private closed = false;

  constructor(
    redis: RedisClient,
    subscriber: RedisClient,
    private readonly engine: SaleEngine,
    private readonly roomLog: RoomLog,
    keyPrefix: string,
    private readonly log: Logger,
    private readonly o: RoomAppenderOptions,
  ) {
    this.lease = new Lease(redis, appenderLeaseKey(keyPrefix), o.leaseMs);
    this.feed = new DropEventFeed(
      engine,
      subscriber,
      (dropId, events) => this.onLive(dropId, events),
      (err, dropId) => this.warn(err, dropId),
    );
    // Back from a dropped connection: what the drops published meanwhile is read from their logs
    // now rather than at the next scan.
    subscriber.on("ready", () => this.recheckAll());
    this.timer = setInterval(() => void this.tick(), o.scanMs);
    this.timer.unref();
    void this.tick();
  }

  /** Whether this node holds the lane's lease now (for tests and metrics). */
  get holder(): boolean {
    return this.holding;
  }

  /** Stops, and gives the lease up so another node takes over at its next scan. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const held = this.holding;
    await this.stepDown();
    this.feed.close();
    if (held) await this.lease.release().catch(() => undefined);
  }

  private async tick(): Promise<void> {
    if (this.running || this.closed) return;
    this.running = true;
    try {
      const held = await this.lease.hold();
      if (this.closed) return;
      if (!held) {
        if (this.holding) await this.stepDown();
        return;
      }
      this.holding = true;
      await this.scan();
    } catch (err) {
      this.warn(err, "*");
    } finally {
      this.running = false;
    }
  }

  /** Each followed drop: its subscription confirmed, then its log checked against the room log. */
  private recheckAll(): void {
    if (!this.holding || this.closed) return;
    for (const [dropId, d] of this.drops) {
      this.feed.follow(dropId).then(
        () => this.step(dropId, d, () => this.check(dropId, d, true)),
        (err: unknown) => this.warn(err, dropId),
      );
    }
  }

  /** Lost the lease: the new holder follows the drops now. */
  private async stepDown(): Promise<void> {
    this.holding = false;
    const ids = [...this.drops.keys()];
    this.drops.clear();
    await Promise.all(ids.map((id) => this.feed.unfollow(id).catch(() => undefined)));
  }

  /**
   * Follows the drops that became active, lets go of retired ones, queues a check of the rest.
   * Queued, not awaited: a long catch-up never holds up the lease's renewal.
   */
  private async scan(): Promise<void> {
    const active = new Set(await this.engine.activeDrops());
    for (const [dropId, d] of this.drops) {
      if (d.checking) continue;
      d.checking = true;
      const checked = this.step(dropId, d, () => this.check(dropId, d)).then(() => {
        d.checking = false;
      });
      // Retired: it changes no more. Its last events are logged, then it is let go.
      if (!active.has(dropId))
        void checked.then(() => {
          if (this.drops.get(dropId) !== d) return;
          this.drops.delete(dropId);
          return this.feed.unfollow(dropId).catch((err: unknown) => this.warn(err, dropId));
        });
    }
    for (const dropId of active) if (!this.drops.has(dropId)) void this.follow(dropId);
  }

  private async follow(dropId: string): Promise<void> {
    const d: Followed = {
      room: undefined,
      logged: undefined,
      cursor: "0",
      chain: Promise.resolve(),
      steps: 0,
      lastAppend: Promise.resolve(),
      failed: false,
      checking: false,
      backlog: [],
      draining: false,
      heard: false,
    };
    this.drops.set(dropId, d);
    try {
      // Subscribed before the catch-up reads the log: nothing falls between the two.
      await this.feed.follow(dropId);
    } catch (err) {
      if (this.drops.get(dropId) === d) this.drops.delete(dropId); // the next scan tries again
      this.warn(err, dropId);
      return;
    }
    await this.step(dropId, d, () => this.catchUp(dropId, d));
  }

  /**
   * Runs `work` after the drop's earlier steps and appends, unless the drop was let go meanwhile.
   * A failure is logged; the next scan's check repairs what it left undone.
   */
  private step(dropId: string, d: Followed, work: () => Promise<void>): Promise<void> {
    d.steps++;
    const run = d.chain
      .then(() => d.lastAppend)
      .then(async () => {
        if (this.drops.get(dropId) !== d) return;
        if (d.failed) {
          d.failed = false;
          d.logged = undefined;
        }
        await work();
        await d.lastAppend;
      });
    d.chain = run
      .catch((err: unknown) => this.warn(err, dropId))
      .finally(() => {
        d.steps--;
      });
    return d.chain;
  }

  /** A live message: appended at once when it is the next version, else after a catch-up. */
  private onLive(dropId: string, events: SaleEvent[]): void {
    const d = this.drops.get(dropId);
    if (!d) return;
    d.heard = true;
    if (d.steps === 0 && !d.failed && this.offer(dropId, d, events)) return;
    d.backlog.push(...events);
    if (d.draining) return;
    d.draining = true;
    void this.step(dropId, d, async () => {
      d.draining = false;
      const backlog = d.backlog;
      d.backlog = [];
      if (!this.offer(dropId, d, backlog)) await this.catchUp(dropId, d);
    });
  }

  /** Sends the appends of the versions that come next; false at a gap (or nothing known yet). */
  private offer(dropId: string, d: Followed, events: SaleEvent[]): boolean {
    for (const ev of events) {
      if (d.logged === undefined || ev.v > d.logged + 1) return false;
      if (ev.v > d.logged) this.append(dropId, d, ev);
    }
    return true;
  }

  /**
   * One read of the drop log's newest entry. The room log behind it while live messages still
   * come is a stream running late (a jump in it shows a loss); behind it with nothing heard
   * since the last check means the last messages were lost: caught up from the log.
   * `force` (after a reconnect) catches up whatever was heard.
   */
  private async check(dropId: string, d: Followed, force = false): Promise<void> {
    const heard = d.heard;
    d.heard = false;
    const latest = await this.feed.latest(dropId);
    const newest = latest?.events.at(-1)?.v;
    if (!latest || newest === undefined) return;
    if (d.logged !== undefined && newest <= d.logged) {
      d.cursor = latest.id;
      return;
    }
    if (heard && !force) return;
    await this.catchUp(dropId, d);
  }

  /** Appends, in version order, whatever of the drop log the room log does not hold yet. */
  private async catchUp(dropId: string, d: Followed): Promise<void> {
    if (d.room === undefined) d.room = (await this.engine.status(dropId)).roomId;
    if (d.logged === undefined) d.logged = await this.roomLog.loggedVersion(d.room, dropId);
    for (;;) {
      const entries = await this.feed.since(dropId, d.cursor, this.o.readBatch);
      for (const entry of entries) {
        for (const ev of entry.events) {
          if (ev.v <= d.logged) continue;
          // Older than the drop log keeps: the drop's state now stands for what is gone.
          if (ev.v > d.logged + 1) await this.snapshot(dropId, d);
          if (ev.v === d.logged + 1) this.append(dropId, d, ev);
        }
        d.cursor = entry.id;
      }
      await d.lastAppend;
      if (entries.length < this.o.readBatch || this.closed || d.failed) return;
    }
  }

  /**
   * Sends one append without waiting for it: the appends of a drop go out on one connection in
   * version order and Redis runs them in that order. One that fails (Redis down) leaves its
   * version out of the room log; the counters of the next event carry the drop's state on.
   */
  private append(dropId: string, d: Followed, ev: SaleEvent): void {
    d.logged = ev.v;
    const sent = this.roomLog.append(d.room ?? ev.room, ev, { dropId, v: ev.v });
    d.lastAppend = sent.then(
      () => undefined,
      (err: unknown) => {
        d.failed = true;
        this.warn(err, dropId);
      },
    );
  }

  private async snapshot(dropId: string, d: Followed): Promise<void> {
    await d.lastAppend;
    const s = await this.engine.status(dropId);
    await this.roomLog.append(
      s.roomId,
      {
        type: "drop.snapshot",
        drop: dropId,
        room: s.roomId,
        v: s.version,
        at: s.serverTime,
        state: s.state,
        available: s.available,
        held: s.held,
        sold: s.sold,
      },
      { dropId, v: s.version },
    );
    d.logged = Math.max(d.logged ?? 0, s.version);
  }

  private warn(err: unknown, dropId: string): void {
    // Calls in flight when the node closes fail with its connection: nothing is lost then.
    if (this.closed) return;
    this.log.warn({ err: (err as Error).message, dropId }, "room appender error");
  }
}
