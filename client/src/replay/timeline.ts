import type { DropStatusResponse, Replay, ReplayChapter } from "../../../protocol/index.ts";

/** A drop as the room drops API returns it. */
export type RoomDrop = DropStatusResponse;

/**
 * The replay's chapters: one per drop of any format (at its start, its format as the kind), in
 * time order, in the shape ({at, kind, title, dropId?}) other moments can use too. Moments outside the
 * recording are left out; a drop opened just before recording began is put at its start.
 */
export function replayChapters(replay: Replay, drops: readonly RoomDrop[]): ReplayChapter[] {
  const chapters: ReplayChapter[] = [];
  for (const d of drops) {
    const end = d.endsAt ?? Number.POSITIVE_INFINITY;
    if (d.startsAt > replay.endedAt || end < replay.startedAt) continue;
    chapters.push({
      at: Math.max(d.startsAt, replay.startedAt),
      // The selling format names the chapter's kind: a drop, an auction, a giveaway, a buy-it-now pin.
      kind: d.format ?? "drop",
      title: d.product.title,
      dropId: d.dropId,
    });
  }
  return chapters.sort((a, b) => a.at - b.at);
}

/**
 * Where a moment of the broadcast is in the recording, seconds from its start. Through the spans,
 * so a restart of the stream (a gap in the broadcast's clock the play time does not have) moves
 * no later chapter; a moment in a gap goes to the start of the next span.
 */
export function offsetS(replay: Replay, at: number): number {
  const spans =
    replay.spans.length > 0
      ? replay.spans
      : [{ at: replay.startedAt, offsetS: 0, durationS: replay.durationS }];
  let offset = 0;
  for (const span of spans) {
    if (at < span.at) break;
    const into = (at - span.at) / 1000;
    // Past this span's end: in the break after it, which plays as the next span's start.
    offset = into <= span.durationS ? span.offsetS + into : span.offsetS + span.durationS;
  }
  return Math.max(0, Math.min(replay.durationS, offset));
}

/**
 * The drop on screen at program time `ms`: the latest one started by then and not ended by
 * then (its card appears at its moment and goes when it ended), or undefined.
 */
export function dropOnScreen(drops: readonly RoomDrop[], ms: number | undefined): RoomDrop | undefined {
  if (ms === undefined) return undefined;
  let best: RoomDrop | undefined;
  for (const d of drops) {
    if (d.startsAt > ms || (d.endsAt !== null && d.endsAt < ms)) continue;
    if (!best || d.startsAt > best.startsAt) best = d;
  }
  return best;
}

/** `m:ss` (or `h:mm:ss`) of a replay offset. */
export function offsetText(s: number): string {
  const total = Math.max(0, Math.floor(s));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}
