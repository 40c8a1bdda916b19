import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import path from "node:path";
import type { Replay, ReplayList } from "../../protocol/index.ts";
import type { ReplayStore } from "../hls/replay-store.ts";
import { CORS_HEADERS, sendError, sendJson } from "./io.ts";
import { type AnyRoute, defineRoute } from "./router.ts";

export interface ReplayRouteDeps {
  /** Absent: replays are off on this node (the list is empty, files are 404). */
  readonly store: ReplayStore | undefined;
  /** Base of the playlist URLs in the list (MEDIA_PUBLIC_URL). */
  readonly publicUrl: () => string;
}

const ROOM = "(?<room>[A-Za-z0-9_-]{1,64})";
/** The only names served; anything else (`..`, `%2e`, slashes) is a 404 before the disk is read. */
const FILE_PATH = new RegExp(
  `^/replays/${ROOM}/(r[0-9a-z]{1,12}-[0-9a-f]{4})/(index\\.m3u8|[A-Za-z0-9-]{1,40}_[0-9]{1,9}\\.ts)$`,
);

const HEADERS = {
  ...CORS_HEADERS,
  "Access-Control-Expose-Headers": "Content-Type, Content-Length, Content-Range, Accept-Ranges",
  "Accept-Ranges": "bytes",
} as const;

/**
 * Replays, public like the live HLS (a CDN can front them): the list of a room's finished
 * recordings, and each one's VOD playlist and segments with ranged reads. A finished recording
 * never changes, so both are cacheable; the list is not (a new one can appear at any moment).
 */
export function replayRoutes(d: ReplayRouteDeps): AnyRoute[] {
  return [
    defineRoute({
      method: "GET",
      path: new RegExp(`^/replays/${ROOM}$`),
      name: "replay.list",
      rule: "public",
      async run(c) {
        const metas = (await d.store?.list(c.room)) ?? [];
        const base = d.publicUrl();
        const replays: Replay[] = metas.map((m) => ({
          id: m.id,
          room: m.room,
          startedAt: m.startedAt,
          endedAt: m.endedAt ?? m.startedAt,
          durationS: m.durationS,
          spans: m.spans ? [...m.spans] : [{ at: m.startedAt, offsetS: 0, durationS: m.durationS }],
          segments: m.segments,
          bytes: m.bytes,
          playlistUrl: `${base}/replays/${c.room}/${m.id}/index.m3u8`,
        }));
        const body: ReplayList = { room: c.room, replays };
        sendJson(c.res, 200, body);
      },
    }),
    defineRoute({
      method: "GET",
      path: FILE_PATH,
      name: "replay.file",
      rule: "public",
      async run(c) {
        const [, id, file] = c.params as [string, string, string];
        if (!d.store || d.store.recording(c.room)?.id === id)
          return sendError(c.res, 404, "NOT_FOUND", `no replay ${id} of room ${c.room}`);
        await serveFile(c.res, path.join(d.store.root, c.room, id, file), c.req.headers.range);
      },
    }),
  ];
}

/** A whole file, or one `bytes=a-b` range of it (206), or 416 for a range outside it. */
async function serveFile(res: ServerResponse, full: string, range: string | undefined): Promise<void> {
  let size: number;
  try {
    size = (await stat(full)).size;
  } catch {
    return sendError(res, 404, "NOT_FOUND", "no such replay file");
  }
  const playlist = full.endsWith(".m3u8");
  const headers = {
    ...HEADERS,
    "Content-Type": playlist ? "application/vnd.apple.mpegurl" : "video/mp2t",
    // Segment names are unique per ffmpeg run; a closed playlist only goes away with its replay.
    "Cache-Control": playlist ? "public, max-age=300" : "public, max-age=86400, immutable",
  };
  let start = 0;
  let end = size - 1;
  if (range !== undefined) {
    const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
    const a = m?.[1] ?? "";
    const b = m?.[2] ?? "";
    if (m && a === "" && b !== "") start = Math.max(0, size - Number(b));
    else if (m && a !== "") {
      start = Number(a);
      if (b !== "") end = Math.min(size - 1, Number(b));
    }
    if (!m || (a === "" && b === "") || start > end || start >= size) {
      res.writeHead(416, { ...headers, "Content-Range": `bytes */${size}`, "Content-Length": 0 });
      res.end();
      return;
    }
    res.writeHead(206, {
      ...headers,
      "Content-Range": `bytes ${start}-${end}/${size}`,
      "Content-Length": end - start + 1,
    });
  } else {
    res.writeHead(200, { ...headers, "Content-Length": size });
  }
  if (size === 0) {
    res.end();
    return;
  }
  createReadStream(full, { start, end })
    .on("error", () => res.destroy())
    .pipe(res);
}
