import path from "node:path";
import type { Logger } from "../../core/index.ts";
import type { Room } from "../room.ts";
import { HlsEgress } from "./egress.ts";

export interface HlsManagerOptions {
  /** Root folder: one subfolder per room. */
  readonly root: string;
  readonly segmentS: number;
  readonly listSize: number;
  readonly ffmpegBin: string;
  readonly log: Logger;
  /** A room's HLS became ready or went away (clients learn the playlist URL). */
  readonly onReadyChange: (room: string) => void;
}

/** Producers often arrive together (video then audio): wait this long before (re)starting. */
const SETTLE_MS = 400;

/**
 * Keeps one HlsEgress per live room in step with its producers: started when the room goes live,
 * restarted when its set of producers changes, stopped when it ends. Work for one room runs in
 * order (a stop never overtakes the start before it).
 */
export class HlsManager {
  private readonly egresses = new Map<string, HlsEgress>();
  /** Egresses being stopped: still holding ffmpeg and files until stop() resolves. */
  private readonly stopping = new Set<HlsEgress>();
  /** The producer set each egress was started for. */
  private readonly keys = new Map<string, string>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;
  /** Hung ffmpeg runs restarted by any egress of this node since it started (a counter). */
  stalls = 0;

  constructor(private readonly o: HlsManagerOptions) {}

  dirOf(room: string): string {
    return path.join(this.o.root, room);
  }

  get(room: string): HlsEgress | undefined {
    return this.egresses.get(room);
  }

  all(): [string, HlsEgress][] {
    return [...this.egresses.entries()];
  }

  /** ffmpeg processes of every egress, running or still stopping (leak checks). */
  ffmpegPids(): number[] {
    return [...this.egresses.values(), ...this.stopping]
      .map((e) => e.ffmpegPid)
      .filter((p): p is number => p !== undefined);
  }

  /** Egresses that exist now, including those still being stopped. */
  get count(): number {
    return this.egresses.size + this.stopping.size;
  }

  /** Called on every change of a room: schedules the start, restart or stop it needs. */
  sync(room: Room): void {
    if (this.closed) return;
    const existing = this.timers.get(room.name);
    if (existing) clearTimeout(existing);
    const delay = room.live && !room.isEnded ? SETTLE_MS : 0;
    this.timers.set(
      room.name,
      setTimeout(() => {
        this.timers.delete(room.name);
        this.enqueue(room.name, () => this.apply(room));
      }, delay),
    );
  }

  /** Stops a room's egress now (the room ended). */
  stop(room: string): Promise<void> {
    const timer = this.timers.get(room);
    if (timer) clearTimeout(timer);
    this.timers.delete(room);
    return this.enqueue(room, () => this.stopNow(room));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.egresses.keys(), ...this.queues.keys()].map((r) => this.stop(r)));
  }

  private async apply(room: Room): Promise<void> {
    const producers = room.isEnded ? [] : room.producerList();
    const key = producers
      .map((p) => p.id)
      .sort()
      .join(",");
    if (key === (this.keys.get(room.name) ?? "") && (key === "" || this.egresses.has(room.name))) return;
    await this.stopNow(room.name);
    if (key === "" || this.closed) return;
    const live = producers.map((p) => room.producer(p.id)).filter((p) => p !== undefined);
    let announced = false;
    try {
      const egress = await HlsEgress.start({
        room: room.name,
        router: room.originRouter,
        producers: live,
        dir: this.dirOf(room.name),
        segmentS: this.o.segmentS,
        listSize: this.o.listSize,
        ffmpegBin: this.o.ffmpegBin,
        log: this.o.log,
        onStall: () => this.stalls++,
        // Called once the first playlist is on disk, then on every update: announce once.
        onPlaylist: () => {
          if (announced) return;
          announced = true;
          this.o.onReadyChange(room.name);
        },
      });
      this.egresses.set(room.name, egress);
      this.keys.set(room.name, key);
    } catch (err) {
      // The room may have ended while we were starting; anything else is worth a log line.
      if (!room.isEnded)
        this.o.log.error({ room: room.name, err: (err as Error).message }, "HLS egress failed");
    }
  }

  private async stopNow(room: string): Promise<void> {
    const egress = this.egresses.get(room);
    this.egresses.delete(room);
    this.keys.delete(room);
    if (!egress) return;
    const wasReady = egress.ready;
    this.stopping.add(egress);
    try {
      await egress.stop();
    } finally {
      this.stopping.delete(egress);
    }
    if (wasReady) this.o.onReadyChange(room);
  }

  private enqueue(room: string, job: () => Promise<void>): Promise<void> {
    const next = (this.queues.get(room) ?? Promise.resolve()).then(job, job).catch((err: unknown) => {
      this.o.log.error({ room, err: (err as Error).message }, "HLS job failed");
    });
    this.queues.set(room, next);
    void next.then(() => {
      if (this.queues.get(room) === next) this.queues.delete(room);
    });
    return next;
  }
}
