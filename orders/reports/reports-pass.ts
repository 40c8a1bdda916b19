import type { Logger } from "../../core/index.ts";
import type { DropStatus, SaleEngine } from "../../sale-engine/index.ts";
import type { OrderStore } from "../store/index.ts";
import { type FunnelSnapshot, recordFunnelSnapshots } from "./funnel-snapshots.ts";
import { writeRoomSummary } from "./room-summary.ts";

/** Where the funnel's Redis-side figures come from (the gateway: room viewers, buy clicks). */
export interface FunnelSource {
  /** Viewers of the drop's room and buy clicks of the drop, now, for each drop asked. */
  read(drops: readonly DropStatus[]): Promise<Map<string, { viewers: number; buyClicks: number }>>;
}

/** The one node of many that runs the timed rounds (a Redis lease on the gateways). */
export interface RoundLeader {
  /** Takes or renews the lead; false while another node has it. */
  hold(): Promise<boolean>;
  /** Gives the lead up, so another node takes it at its next round. */
  release(): Promise<void>;
}

export interface ReportsPassOptions {
  readonly engine: SaleEngine;
  readonly store: OrderStore;
  readonly funnel: FunnelSource;
  /** Folder of the summaries (LIVEDROP_REPORTS_DIR). */
  readonly dir: string;
  /** Funnel snapshot interval, s (LIVEDROP_REPORTS_FUNNEL_SNAPSHOT_S). */
  readonly funnelSnapshotS: number;
  /** Scheduled summary interval, s; 0: none (LIVEDROP_REPORTS_SUMMARY_INTERVAL_S). */
  readonly summaryIntervalS: number;
  /** Newest drops the scheduled summary looks at (LIVEDROP_REPORTS_SUMMARY_SCAN_DROPS). */
  readonly summaryScanDrops: number;
  /** When several nodes start the pass, only the leader's timed rounds run; absent: always. */
  readonly leader?: RoundLeader;
  readonly log: Logger;
}

/**
 * Copies the funnel figures of running drops into the order store every `funnelSnapshotS`; when
 * a drop it watched has ended, takes its final snapshot and, once no drop of its room is still
 * running, writes the room's end-of-live summary. `summarise(room)` does the last step on demand
 * (a live session that ended, the scheduled pass). With a `leader`, the timed rounds run on one
 * node at a time; every step is idempotent all the same, so a stalled leader that overlaps its
 * successor writes the same rows and files.
 */
export class ReportsPass {
  /** Drops seen running at the last tick: their room, to notice when they end. */
  private watched = new Map<string, DropStatus>();
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<unknown> | undefined;
  /** Timed rounds this node ran (a node without the lead runs none). */
  roundsRun = 0;

  constructor(private readonly o: ReportsPassOptions) {}

  start(): this {
    this.every(this.o.funnelSnapshotS, () => this.tick());
    if (this.o.summaryIntervalS > 0) this.every(this.o.summaryIntervalS, () => this.scheduled());
    return this;
  }

  /** One round at a time: a slow round makes the next tick skip, not pile up. */
  private every(seconds: number, round: () => Promise<unknown>): void {
    const timer = setInterval(() => {
      this.running ??= this.asLeader(round)
        .catch((err: unknown) => this.o.log.warn({ err: (err as Error).message }, "reports pass failed"))
        .finally(() => {
          this.running = undefined;
        });
    }, seconds * 1000);
    timer.unref();
    this.timers.push(timer);
  }

  private async asLeader(round: () => Promise<unknown>): Promise<void> {
    if (this.o.leader && !(await this.o.leader.hold())) return;
    this.roundsRun++;
    await round();
  }

  /** The scheduled pass: summaries of the rooms whose drops have all ended, among the newest drops. */
  async scheduled(): Promise<string[]> {
    const rooms = await this.roomsAllEnded((await this.o.engine.listDrops()).slice(-this.o.summaryScanDrops));
    const changed: string[] = [];
    for (const room of rooms) if (await this.summarise(room)) changed.push(room);
    return changed;
  }

  /** One round: snapshot running drops, finish the ones that ended. Returns the rooms summarised. */
  async tick(): Promise<string[]> {
    const ids = await this.o.engine.activeDrops();
    const statuses = await Promise.all(ids.map((id) => this.o.engine.status(id)));
    const running = statuses.filter((s) => s.state !== "ended");
    const ended = await Promise.all(
      [...this.watched.keys()]
        .filter((id) => !running.some((s) => s.dropId === id))
        .map((id) => this.o.engine.status(id)),
    );
    await this.snapshot(running, false);
    await this.snapshot(ended, true);
    this.watched = new Map(running.map((s) => [s.dropId, s]));
    const rooms = [...new Set(ended.map((s) => s.roomId))].filter(
      (r) => !running.some((s) => s.roomId === r),
    );
    for (const room of rooms) await this.summarise(room);
    return rooms;
  }

  /** Rooms whose drops have all ended, among `dropIds`. */
  async roomsAllEnded(dropIds: readonly string[]): Promise<string[]> {
    const statuses = await Promise.all(dropIds.map((id) => this.o.engine.status(id)));
    const byRoom = new Map<string, boolean>();
    for (const s of statuses) byRoom.set(s.roomId, (byRoom.get(s.roomId) ?? true) && s.state === "ended");
    return [...byRoom].filter(([, allEnded]) => allEnded).map(([room]) => room);
  }

  /** Final snapshots of the room's ended drops, then its summary files. */
  async summarise(roomId: string): Promise<boolean> {
    const ids = await this.o.engine.dropsInRoom(roomId);
    const statuses = await Promise.all(ids.map((id) => this.o.engine.status(id)));
    await this.snapshot(
      statuses.filter((s) => s.state === "ended"),
      true,
    );
    const written = await this.o.store.report((db) => writeRoomSummary(db, roomId, this.o.dir));
    if (written.changed) this.o.log.info({ room: roomId, file: written.jsonPath }, "room summary written");
    return written.changed;
  }

  private async snapshot(drops: readonly DropStatus[], final: boolean): Promise<void> {
    if (drops.length === 0) return;
    const figures = await this.o.funnel.read(drops);
    const snapshots: FunnelSnapshot[] = drops.map((s) => ({
      dropId: s.dropId,
      roomId: s.roomId,
      viewers: figures.get(s.dropId)?.viewers ?? 0,
      buyClicks: figures.get(s.dropId)?.buyClicks ?? 0,
      final,
    }));
    await this.o.store.report((db) => recordFunnelSnapshots(db, snapshots));
  }

  /** Stops the timer and waits for a running round; safe to call twice. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.running;
    await this.o.leader?.release().catch((err: unknown) => {
      this.o.log.warn({ err: (err as Error).message }, "reports lead not given up");
    });
  }
}
