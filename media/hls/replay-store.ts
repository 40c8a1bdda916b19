import { randomBytes } from "node:crypto";
import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "../../core/index.ts";
import { type ReplayMeta, ReplayRecording, readReplayMeta } from "./replay-recording.ts";

/** A room whose live HLS can be recorded right now. */
export interface ReplaySource {
  readonly room: string;
  /** The live folder (ffmpeg's playlist and segments). */
  readonly dir: string;
  /** The live playlist's file name in `dir`. */
  readonly playlist: string;
  /** The playlist as served (program-date-time corrected), so replay dates match the live ones. */
  readonly correct: (text: string) => string;
}

export interface ReplayStoreOptions {
  /** `<root>/<room>/<recording id>/`. */
  readonly root: string;
  /** Finished replays older than this (since they ended) are deleted, ms. */
  readonly retentionMs: number;
  /** Disk all replays may use, bytes. */
  readonly maxBytes: number;
  /** Period of the retention and cap sweep, ms. */
  readonly sweepMs: number;
  /** Period at which live playlists are read for new segments, ms (under the live window). */
  readonly pollMs: number;
  /** Rooms with a ready live playlist now. */
  readonly sources: () => readonly ReplaySource[];
  readonly log: Logger;
}

const ROOM_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const ID_NAME = /^r[0-9a-z]{1,12}-[0-9a-f]{4}$/;

/**
 * Keeps every live broadcast as a replay: while a room's HLS is ready its new segments are
 * linked into a recording (polled faster than the rolling window deletes them); finish() (the
 * room ended) takes the last ones and closes the playlist. A sweep deletes replays past their
 * retention and the oldest finished ones while all together pass the disk cap.
 */
export class ReplayStore {
  private readonly active = new Map<string, ReplayRecording>();
  private readonly pollTimer: NodeJS.Timeout;
  private readonly sweepTimer: NodeJS.Timeout;
  /** Bytes of finished replays on disk, as of the last sweep (plus those finished since). */
  private finishedBytes = 0;
  private closed = false;
  private sweeping: Promise<void> | undefined;
  private readonly finishing = new Map<string, Promise<void>>();
  /** Rooms finished whose live egress has not stopped yet. */
  private readonly ended = new Set<string>();

  private constructor(private readonly o: ReplayStoreOptions) {
    this.pollTimer = setInterval(() => void this.poll(), o.pollMs);
    this.sweepTimer = setInterval(() => void this.sweep(), o.sweepMs);
    this.pollTimer.unref();
    this.sweepTimer.unref();
  }

  static async create(o: ReplayStoreOptions): Promise<ReplayStore> {
    const store = new ReplayStore(o);
    await store.sweep();
    return store;
  }

  get root(): string {
    return this.o.root;
  }

  /** The recording a room has open now, if any. */
  recording(room: string): ReplayRecording | undefined {
    return this.active.get(room);
  }

  /** Reads every ready source once (tests call it to avoid waiting for the timer). */
  async poll(): Promise<void> {
    if (this.closed) return;
    const sources = this.o.sources();
    // An ended room's egress is gone: the room may go live again, as a new recording.
    for (const room of this.ended) if (!sources.some((s) => s.room === room)) this.ended.delete(room);
    await Promise.all(sources.filter((s) => !this.ended.has(s.room)).map((s) => this.take(s)));
  }

  /**
   * The room ended: its last segments are taken (before the live folder is removed) and the
   * recording is closed as VOD; a recording that kept nothing is removed. Never throws.
   */
  finish(room: string): Promise<void> {
    const pending = this.finishing.get(room);
    if (pending) return pending;
    const done = this.finishNow(room).finally(() => this.finishing.delete(room));
    this.finishing.set(room, done);
    return done;
  }

  private async finishNow(room: string): Promise<void> {
    // Until its egress stops, the ended room's playlist is still there: polls must not reopen it.
    this.ended.add(room);
    const source = this.o.sources().find((s) => s.room === room);
    if (source) await this.take(source, true);
    const rec = this.active.get(room);
    if (!rec) return;
    this.active.delete(room);
    try {
      if (rec.segmentCount === 0) {
        await rm(rec.dir, { recursive: true, force: true });
        return;
      }
      await rec.finish();
      this.finishedBytes += rec.size;
      if (this.finishedBytes + this.activeBytes() > this.o.maxBytes) this.sweepSoon();
      this.o.log.info(rec.meta(), "replay kept");
    } catch (err) {
      this.o.log.error({ room, err: (err as Error).message }, "replay could not be finished");
    }
  }

  /** Finished replays of a room, newest first. */
  async list(room: string): Promise<ReplayMeta[]> {
    if (!ROOM_NAME.test(room)) return [];
    const ids = await readdir(path.join(this.o.root, room)).catch(() => [] as string[]);
    const metas = await Promise.all(
      ids.filter((id) => ID_NAME.test(id)).map((id) => readReplayMeta(path.join(this.o.root, room, id))),
    );
    return metas
      .filter((m): m is ReplayMeta => m !== undefined && m.endedAt !== null)
      .sort((a, b) => b.startedAt - a.startedAt);
  }

  /** Deletes expired replays, then the oldest finished ones while over the cap. Never throws. */
  async sweep(): Promise<void> {
    try {
      const now = Date.now();
      const finished: { dir: string; meta: ReplayMeta }[] = [];
      const rooms = await readdir(this.o.root).catch(() => [] as string[]);
      for (const room of rooms.filter((r) => ROOM_NAME.test(r))) {
        for (const id of await readdir(path.join(this.o.root, room)).catch(() => [] as string[])) {
          if (!ID_NAME.test(id) || this.active.get(room)?.id === id) continue;
          const dir = path.join(this.o.root, room, id);
          const meta = await readReplayMeta(dir);
          // A folder without a closed playlist is left over from a crash: nobody can play it.
          if (!meta || meta.endedAt === null) await rm(dir, { recursive: true, force: true });
          else if (now - meta.endedAt > this.o.retentionMs) await rm(dir, { recursive: true, force: true });
          else finished.push({ dir, meta });
        }
      }
      finished.sort((a, b) => (a.meta.endedAt ?? 0) - (b.meta.endedAt ?? 0));
      let total = finished.reduce((s, f) => s + f.meta.bytes, 0) + this.activeBytes();
      while (total > this.o.maxBytes && finished.length > 0) {
        const oldest = finished.shift() as { dir: string; meta: ReplayMeta };
        await rm(oldest.dir, { recursive: true, force: true });
        total -= oldest.meta.bytes;
      }
      this.finishedBytes = finished.reduce((s, f) => s + f.meta.bytes, 0);
    } catch (err) {
      this.o.log.error({ err: (err as Error).message }, "replay sweep failed");
    }
  }

  /** Closes every open recording as VOD (the node stops) and stops the timers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pollTimer);
    clearInterval(this.sweepTimer);
    await Promise.all([...this.active.keys()].map((room) => this.finish(room)));
  }

  /** One sweep at a time, started when a new segment would pass the cap. */
  private sweepSoon(): void {
    if (this.sweeping || this.closed) return;
    this.sweeping = this.sweep().finally(() => {
      this.sweeping = undefined;
    });
  }

  private activeBytes(): number {
    let n = 0;
    for (const r of this.active.values()) n += r.size;
    return n;
  }

  /** `last`: the finishing call itself, the only one that may read an ended room. */
  private async take(s: ReplaySource, last = false): Promise<void> {
    let text: string;
    try {
      text = s.correct(await readFile(path.join(s.dir, s.playlist), "utf8"));
    } catch {
      return; // not written yet, or being replaced: the next poll reads it
    }
    if (this.ended.has(s.room) && !last) return;
    let rec = this.active.get(s.room);
    if (!rec) {
      if (this.closed || !ROOM_NAME.test(s.room)) return;
      const id = `r${Date.now().toString(36)}-${randomBytes(2).toString("hex")}`;
      rec = new ReplayRecording(s.room, id, path.join(this.o.root, s.room, id));
      this.active.set(s.room, rec);
    }
    // Finished replays are swept to make room; the open ones alone may not pass the cap.
    const room = (bytes: number) => {
      const active = this.activeBytes() + bytes;
      if (this.finishedBytes + active > this.o.maxBytes) this.sweepSoon();
      return active <= this.o.maxBytes;
    };
    try {
      await rec.sync(s.dir, text, room);
    } catch (err) {
      this.o.log.warn({ room: s.room, err: (err as Error).message }, "replay segment not kept");
    }
  }
}
