import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import path from "node:path";
import { CORS_HEADERS, sendError } from "./io.ts";

/** `/hls/<room>/<file>`: the only names served; anything else (`..`, `%2e`, slashes) is a 404. */
export const HLS_PATH = /^\/hls\/([A-Za-z0-9_-]{1,64})\/(index\.m3u8|[A-Za-z0-9_-]{1,64}\.ts)$/;

/**
 * Serves a room's playlist and segments without auth (a CDN can front them). The playlist changes
 * every segment, so it is never cached; segment names are unique per ffmpeg run, so they are.
 */
export async function serveHls(
  res: ServerResponse,
  root: string,
  room: string,
  file: string,
  /** Rewrites the playlist as served (date correction). */
  filter: (room: string, text: string) => string = (_r, t) => t,
): Promise<void> {
  const full = path.join(root, room, file);
  if (file === "index.m3u8") {
    let text: string;
    try {
      text = filter(room, await readFile(full, "utf8"));
    } catch {
      return sendError(res, 404, "NOT_FOUND", `no HLS playlist for room ${room} (not live, or starting)`);
    }
    res.writeHead(200, {
      ...CORS_HEADERS,
      "Content-Type": "application/vnd.apple.mpegurl",
      "Content-Length": Buffer.byteLength(text),
      "Cache-Control": "no-cache, no-store",
    });
    res.end(text);
    return;
  }
  let size: number;
  try {
    size = (await stat(full)).size;
  } catch {
    return sendError(res, 404, "NOT_FOUND", `no segment ${file} in room ${room}`);
  }
  res.writeHead(200, {
    ...CORS_HEADERS,
    "Content-Type": "video/mp2t",
    "Content-Length": size,
    "Cache-Control": "public, max-age=3600, immutable",
  });
  // The segment may be deleted by the rolling window mid-read: the response just ends early.
  createReadStream(full)
    .on("error", () => res.destroy())
    .pipe(res);
}
