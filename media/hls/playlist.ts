/** What the rolling playlist says about its live edge. */
export interface PlaylistEdge {
  readonly segments: number;
  readonly targetDurationS: number;
  /** Wall-clock time (ms) at the end of the newest segment, from the program-date-time tags. */
  readonly edgeMs: number | undefined;
}

/**
 * Reads EXT-X-TARGETDURATION and, per segment (tags up to its URI line), EXTINF and
 * EXT-X-PROGRAM-DATE-TIME. A segment without its own date continues from the previous one.
 */
export function parsePlaylist(text: string): PlaylistEdge {
  let target = 0;
  let segments = 0;
  let duration = 0;
  let date: number | undefined;
  let edge: number | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#EXT-X-TARGETDURATION:")) target = Number(line.slice(22));
    else if (line.startsWith("#EXTINF:")) duration = Number.parseFloat(line.slice(8)) * 1000;
    else if (line.startsWith("#EXT-X-PROGRAM-DATE-TIME:")) {
      const t = Date.parse(line.slice(25));
      if (!Number.isNaN(t)) date = t;
    } else if (line && !line.startsWith("#")) {
      segments++;
      const start = date ?? edge;
      edge = start === undefined ? undefined : start + duration;
      date = undefined;
      duration = 0;
    }
  }
  return { segments, targetDurationS: target, edgeMs: edge };
}
