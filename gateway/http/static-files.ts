import type { HttpResponse, TemplatedApp } from "uWebSockets.js";
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import type { HandlerContext } from "./handler.ts";
import { refusedForFraming } from "./request-framing.ts";
import { guard } from "./respond.ts";

export interface StaticFilesOptions extends HandlerContext {
  /** The client build (client/dist). */
  readonly root: string;
  /** Origin of the media tier, allowed in the pages' Content-Security-Policy. */
  readonly mediaUrl: string;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".wasm": "application/wasm",
  ".txt": "text/plain; charset=utf-8",
  ".webmanifest": "application/manifest+json",
};
const COMPRESSIBLE = /^(text\/|application\/(json|manifest|javascript)|image\/svg)/;

/** Vite's hashed output never changes under the same name; everything else is revalidated. */
const IMMUTABLE = "public, max-age=31536000, immutable";
const REVALIDATE = "no-cache";
const SHORT = "public, max-age=3600";

/** Largest file served from memory (the build is small; anything bigger is not ours). */
const MAX_FILE_BYTES = 8 * 1024 * 1024;

interface Entry {
  readonly body: Buffer;
  readonly gzip: Buffer | undefined;
  readonly type: string;
  readonly etag: string;
  readonly mtimeMs: number;
}

/**
 * Serves the browser client from client/dist: the three pages under their app paths (the page's
 * HTML for any /live/:room and /host/:room, /ops), hashed assets with immutable caching, and the
 * few public files. Files are read once, gzipped once, and revalidated by mtime. No request
 * path can leave the root: it is decoded, normalised and checked against the root, and dot
 * files are refused. When the client is not built, pages answer 503 with what to run.
 */
export function registerStaticFiles(app: TemplatedApp, o: StaticFilesOptions): void {
  const root = path.resolve(o.root);
  const cache = new Map<string, Entry>();
  const csp = contentSecurityPolicy(o.mediaUrl);

  const load = async (rel: string): Promise<Entry | undefined> => {
    const file = path.resolve(root, rel);
    if (file !== root && !file.startsWith(root + path.sep)) return undefined;
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(file);
    } catch {
      return undefined;
    }
    if (!info.isFile() || info.size > MAX_FILE_BYTES) return undefined;
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === info.mtimeMs) return hit;
    const body = await readFile(file);
    const type = TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
    const entry: Entry = {
      body,
      gzip: COMPRESSIBLE.test(type) && body.length > 512 ? gzipSync(body, { level: 9 }) : undefined,
      type,
      etag: `"${createHash("sha1").update(body).digest("base64url").slice(0, 20)}"`,
      mtimeMs: info.mtimeMs,
    };
    cache.set(file, entry);
    return entry;
  };

  const serve = (pattern: string, resolve: (url: string) => string | undefined, cacheControl: string) =>
    app.get(pattern, (res, req) => {
      const url = req.getUrl();
      const acceptsGzip = /\bgzip\b/.test(req.getHeader("accept-encoding"));
      const ifNoneMatch = req.getHeader("if-none-match");
      if (refusedForFraming(req, res, o, "static")) return;
      const g = guard(res);
      const end = o.metrics.httpDuration.startTimer({ route: "static" });
      const finish = (status: number) => {
        end();
        o.metrics.httpRequests.inc({ route: "static", status: String(status) });
      };
      const rel = resolve(url);
      const lookup = rel === undefined ? Promise.resolve(undefined) : load(rel);
      lookup
        .then((entry) => {
          if (g.aborted) return;
          const isPage = rel?.endsWith(".html") ?? false;
          if (!entry) {
            const status = isPage ? 503 : 404;
            const text = isPage
              ? "The livedrop client is not built: run `npm run build`, then reload.\n"
              : "not found\n";
            write(res, status, "text/plain; charset=utf-8", "no-store", Buffer.from(text), {});
            return finish(status);
          }
          const headers: Record<string, string> = { ETag: entry.etag, Vary: "Accept-Encoding" };
          if (isPage) {
            headers["Content-Security-Policy"] = csp;
            headers["Referrer-Policy"] = "no-referrer";
          }
          if (ifNoneMatch === entry.etag) {
            write(res, 304, undefined, isPage ? REVALIDATE : cacheControl, undefined, headers);
            return finish(304);
          }
          const gz = acceptsGzip ? entry.gzip : undefined;
          if (gz) headers["Content-Encoding"] = "gzip";
          write(res, 200, entry.type, isPage ? REVALIDATE : cacheControl, gz ?? entry.body, headers);
          finish(200);
        })
        .catch((err: unknown) => {
          o.log.error({ err, url }, "static file failed");
          if (!g.aborted)
            write(res, 500, "text/plain; charset=utf-8", "no-store", Buffer.from("error\n"), {});
          finish(500);
        });
    });

  const page = (file: string) => () => file;
  serve("/", page("index.html"), REVALIDATE);
  serve("/live/:room", page("live.html"), REVALIDATE);
  serve("/live/:room/", page("live.html"), REVALIDATE);
  serve("/replay/:room", page("replay.html"), REVALIDATE);
  serve("/replay/:room/", page("replay.html"), REVALIDATE);
  serve("/host/:room", page("host.html"), REVALIDATE);
  serve("/host/:room/", page("host.html"), REVALIDATE);
  serve("/ops", page("ops.html"), REVALIDATE);
  serve("/ops/", page("ops.html"), REVALIDATE);
  serve("/assets/*", safeRelative, IMMUTABLE);
  serve("/demo/*", safeRelative, SHORT);
  serve("/favicon.svg", safeRelative, SHORT);
}

/**
 * The path of a request inside the root, or undefined for anything suspicious: bad percent
 * encoding, NUL, backslashes, `..` or dot-file segments.
 */
export function safeRelative(url: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(url);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return undefined;
  const segments = decoded.split("/").filter((s) => s.length > 0);
  if (segments.length === 0 || segments.some((s) => s.startsWith("."))) return undefined;
  return segments.join("/");
}

/**
 * Scripts only from this origin; media and signaling from the media tier; product images from
 * anywhere over http(s). Chat is rendered as text, and this is the second line of defence.
 */
function contentSecurityPolicy(mediaUrl: string): string {
  let media = "";
  try {
    media = ` ${new URL(mediaUrl).origin}`;
  } catch {
    // no media tier configured
  }
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' https: http: data: blob:",
    `media-src 'self' blob:${media}`,
    `connect-src 'self' ws: wss:${media}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

function write(
  res: HttpResponse,
  status: number,
  type: string | undefined,
  cacheControl: string,
  body: Buffer | undefined,
  headers: Record<string, string>,
): void {
  const text: Record<number, string> = {
    200: "200 OK",
    304: "304 Not Modified",
    404: "404 Not Found",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
  };
  res.cork(() => {
    res.writeStatus(text[status] ?? `${status} Status`);
    if (type) res.writeHeader("Content-Type", type);
    res.writeHeader("Cache-Control", cacheControl);
    res.writeHeader("X-Content-Type-Options", "nosniff");
    for (const [name, value] of Object.entries(headers)) res.writeHeader(name, value);
    if (body) res.end(body);
    else res.endWithoutBody();
  });
}
