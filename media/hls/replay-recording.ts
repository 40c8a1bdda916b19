import { copyFile, link, mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ReplaySpan } from "../../protocol/index.ts";

export const REPLAY_PLAYLIST = "index.m3u8";
export const REPLAY_META = "meta.json";

/** What meta.json holds (the list route reads it; the sweep reads endedAt and bytes). */
export interface ReplayMeta {
  readonly id: string;
  readonly room: string;
  /** Program date of the first segment, ms epoch (first seen, if the playlist carries none). */
  readonly startedAt: number;
  /** Set once the broadcast ended and the playlist got #EXT-X-ENDLIST. */
  readonly endedAt: number | null;
  readonly durationS: number;
  /** Stretches without a break in program time (absent in a meta.json written before spans). */
  readonly spans?: readonly ReplaySpan[];
  readonly segments: number;
  readonly bytes: number;
  /** Segments were refused because the disk cap was reached. */
  readonly truncated: boolean;
}

export interface Entry {
  readonly name: string;
  readonly durationS: number;
  readonly dateMs: number | undefined;
  /** First segment of a new ffmpeg run (a restart or a new producer set): timestamps jump. */
  readonly discontinuity: boolean;
}

/** Segments of a live playlist, each with the tags before its URI line. */
function liveSegments(text: string): { name: string; durationS: number; dateMs: number | undefined }[] {
  const out: { name: string; durationS: number; dateMs: number | undefined }[] = [];
  let duration = 0;
  let date: number | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#EXTINF:")) duration = Number.parseFloat(line.slice(8));
    else if (line.startsWith("#EXT-X-PROGRAM-DATE-TIME:")) {
      const t = Date.parse(line.slice(25));
      date = Number.isNaN(t) ? undefined : t;
    } else if (line && !line.startsWith("#")) {
      out.push({ name: line, durationS: Number.isFinite(duration) ? duration : 0, dateMs: date });
      duration = 0;
      date = undefined;
    }
  }
  return out;
}

/** Segment names ffmpeg writes: `<run>_<n>.ts`; anything else in a playlist is ignored. */
const SEGMENT = /^([A-Za-z0-9-]{1,40})_[0-9]{1,9}\.ts$/;

/**
 * One room's broadcast being kept: each sync links the live playlist's new segments into the
 * recording's folder (a hard link, so the rolling window deleting the live file frees nothing
 * and costs no copy; a copy across file systems) and rewrites an EVENT playlist; finish() makes
 * it VOD (#EXT-X-ENDLIST). Syncs run one at a time.
 */
export class ReplayRecording {
  private readonly entries: Entry[] = [];
  private readonly seen = new Set<string>();
  private lastRun: string | undefined;
  private bytes = 0;
  private truncated = false;
  private endedAt: number | null = null;
  private chain: Promise<void> = Promise.resolve();
  private readonly firstSeenAt = Date.now();

  constructor(
    readonly room: string,
    readonly id: string,
    readonly dir: string,
  ) {}

  get size(): number {
    return this.bytes;
  }

  get segmentCount(): number {
    return this.entries.length;
  }

  get finished(): boolean {
    return this.endedAt !== null;
  }

  /**
   * Takes the live playlist's segments not kept yet from `liveDir`. When `roomForBytes` says no,
   * the disk cap is reached: the segment is dropped and the replay marked truncated.
   */
  sync(liveDir: string, playlist: string, roomForBytes: (bytes: number) => boolean): Promise<void> {
    const run = () => this.syncNow(liveDir, playlist, roomForBytes);
    this.chain = this.chain.then(run, run);
    return this.chain;
  }

  /** Ends the recording: the playlist becomes VOD. Idempotent. */
  finish(): Promise<void> {
    const run = async () => {
      if (this.endedAt !== null) return;
      this.endedAt = Date.now();
      await this.write();
    };
    this.chain = this.chain.then(run, run);
    return this.chain;
  }

  meta(): ReplayMeta {
    const startedAt = this.entries[0]?.dateMs ?? this.firstSeenAt;
    return {
      id: this.id,
      room: this.room,
      startedAt: Math.round(startedAt),
      endedAt: this.endedAt,
      durationS: roundS(this.entries.reduce((s, e) => s + e.durationS, 0)),
      spans: spansOf(this.entries, startedAt),
      segments: this.entries.length,
      bytes: this.bytes,
      truncated: this.truncated,
    };
  }

  private async syncNow(
    liveDir: string,
    playlist: string,
    roomForBytes: (bytes: number) => boolean,
  ): Promise<void> {
    if (this.endedAt !== null) return;
    let added = false;
    for (const seg of liveSegments(playlist)) {
      const m = SEGMENT.exec(seg.name);
      if (!m || this.seen.has(seg.name)) continue;
      this.seen.add(seg.name);
      const from = path.join(liveDir, seg.name);
      const size = await stat(from).then(
        (s) => s.size,
        () => -1,
      );
      if (size < 0) continue; // already rolled out of the live window
      if (!roomForBytes(size)) {
        this.truncated = true;
        continue;
      }
      await mkdir(this.dir, { recursive: true });
      const to = path.join(this.dir, seg.name);
      const kept = await link(from, to).then(
        () => true,
        () =>
          copyFile(from, to).then(
            () => true,
            () => false,
          ),
      );
      if (!kept) continue;
      const runId = m[1] as string;
      this.entries.push({
        name: seg.name,
        durationS: seg.durationS,
        dateMs: seg.dateMs,
        discontinuity: this.lastRun !== undefined && runId !== this.lastRun,
      });
      this.lastRun = runId;
      this.bytes += size;
      added = true;
    }
    if (added) await this.write();
  }

  private playlistText(): string {
    const target = Math.max(1, Math.ceil(Math.max(0, ...this.entries.map((e) => e.durationS))));
    const lines = [
      "#EXTM3U",
      "#EXT-X-VERSION:3",
      `#EXT-X-TARGETDURATION:${target}`,
      "#EXT-X-MEDIA-SEQUENCE:0",
      `#EXT-X-PLAYLIST-TYPE:${this.endedAt === null ? "EVENT" : "VOD"}`,
      "#EXT-X-INDEPENDENT-SEGMENTS",
    ];
    for (const e of this.entries) {
      if (e.discontinuity) lines.push("#EXT-X-DISCONTINUITY");
      if (e.dateMs !== undefined) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(e.dateMs).toISOString()}`);
      lines.push(`#EXTINF:${e.durationS.toFixed(6)},`, e.name);
    }
    if (this.endedAt !== null) lines.push("#EXT-X-ENDLIST");
    return `${lines.join("\n")}\n`;
  }

  /** Playlist and meta, each replaced whole (a reader never sees half a file). */
  private async write(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeAtomic(path.join(this.dir, REPLAY_PLAYLIST), this.playlistText());
    await writeAtomic(path.join(this.dir, REPLAY_META), JSON.stringify(this.meta()));
  }
}

/** A gap in program dates longer than this between two kept segments starts a new span. */
const SPAN_GAP_MS = 1_000;

const roundS = (s: number) => Math.round(s * 1000) / 1000;

/**
 * The recording's spans: a new one at every new ffmpeg run and wherever the next segment's program
 * date is not where the previous one ended (segments rolled out of the live window before a sync,
 * or refused at the disk cap). A segment without a date continues its span.
 */
export function spansOf(entries: readonly Entry[], startedAt: number): ReplaySpan[] {
  const spans: { at: number; offsetS: number; durationS: number }[] = [];
  let offset = 0;
  for (const e of entries) {
    const span = spans.at(-1);
    const endsAt = span ? span.at + span.durationS * 1000 : startedAt;
    const at = e.dateMs ?? endsAt;
    if (!span || e.discontinuity || Math.abs(at - endsAt) > SPAN_GAP_MS)
      spans.push({ at: Math.round(at), offsetS: roundS(offset), durationS: 0 });
    const current = spans.at(-1) as { durationS: number };
    current.durationS = roundS(current.durationS + e.durationS);
    offset += e.durationS;
  }
  return spans;
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

/** meta.json of a recording folder, or undefined when missing or unreadable. */
export async function readReplayMeta(dir: string): Promise<ReplayMeta | undefined> {
  try {
    const m = JSON.parse(await readFile(path.join(dir, REPLAY_META), "utf8")) as ReplayMeta;
    return typeof m.id === "string" && typeof m.bytes === "number" ? m : undefined;
  } catch {
    return undefined;
  }
}
