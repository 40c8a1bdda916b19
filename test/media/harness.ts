import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { build } from "vite";
import { TokenService } from "../../auth/index.ts";
import { childLogger, loadConfig, type RedisClient } from "../../core/index.ts";
import { MediaTier } from "../../media/index.ts";

/** A JSON reply: an error body, or the fields of a success. */
export interface ApiReply {
  readonly status: number;
  readonly json: { error?: { code: string; message: string }; [field: string]: unknown };
}

export interface MediaStack {
  readonly tier: MediaTier;
  readonly tokens: TokenService;
  readonly dir: string;
  token(
    userId: string,
    role?: "viewer" | "host" | "admin",
    rooms?: string[],
    shadow?: boolean,
  ): Promise<string>;
  /** fetch against the media server with a Bearer token. */
  api(token: string, method: string, urlPath: string, body?: unknown): Promise<ApiReply>;
  stop(): Promise<void>;
}

/**
 * A media tier on a free port with its own data folder; the worker count and limits are
 * overridable. With `redis` it reads the shadow kill switch there (else shadow tokens are refused).
 */
export async function startMediaStack(
  env: Record<string, string> = {},
  o: { redis?: RedisClient } = {},
): Promise<MediaStack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-media-test-"));
  const cfg = loadConfig({
    LIVEDROP_DATA_DIR: dir,
    MEDIA_PORT: "0",
    MEDIA_WORKERS: "2",
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
    ...env,
  });
  const tokens = await TokenService.create({ secret: "m".repeat(48) });
  const log = childLogger("test-media").child({}, { level: process.env.LOG_LEVEL ?? "warn" });
  const tier = await MediaTier.create(cfg, { tokens, log, ...(o.redis ? { redis: o.redis } : {}) });
  return {
    tier,
    tokens,
    dir,
    token: (userId, role = "viewer", rooms = [], shadow = false) =>
      tokens.issue({ userId, role, rooms, shadow, ttlSeconds: 3600 }),
    async api(token, method, urlPath, body) {
      const res = await fetch(`${tier.url}${urlPath}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let json: ApiReply["json"];
      try {
        json = JSON.parse(text);
      } catch {
        json = { text };
      }
      return { status: res.status, json };
    },
    async stop() {
      await tier.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let bundle: Promise<string> | undefined;

/** mediasoup-client and the test page logic, bundled once per test process with vite's build API. */
export function pageBundle(): Promise<string> {
  bundle ??= (async () => {
    const outDir = mkdtempSync(path.join(os.tmpdir(), "livedrop-media-page-"));
    try {
      await build({
        configFile: false,
        root: process.cwd(),
        logLevel: "warn",
        build: {
          lib: {
            entry: path.resolve("test/media/pages/webrtc-page.js"),
            formats: ["iife"],
            name: "ldMediaPage",
            fileName: () => "webrtc.js",
          },
          outDir,
          emptyOutDir: true,
          minify: false,
          copyPublicDir: false,
        },
      });
      return await readFile(path.join(outDir, "webrtc.js"), "utf8");
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  })();
  return bundle;
}

/**
 * A tiny static server for the test page: its own origin (so every media call is cross-origin,
 * as for the real client) on 127.0.0.1, a secure context where getUserMedia works.
 */
export async function startPageServer(): Promise<{ url: string; close(): Promise<void> }> {
  const js = await pageBundle();
  const hlsJs = await readFile(path.resolve("node_modules/hls.js/dist/hls.min.js"), "utf8");
  const html =
    '<!doctype html><html><head><meta charset="utf-8"><title>media test</title>' +
    '<script src="/hls.js"></script><script src="/webrtc.js"></script></head><body></body></html>';
  const server = http.createServer((req, res) => {
    const body =
      req.url === "/webrtc.js" ? js : req.url === "/hls.js" ? hlsJs : req.url === "/" ? html : undefined;
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    const type = req.url === "/" ? "text/html" : "text/javascript";
    res.writeHead(200, { "content-type": `${type}; charset=utf-8` }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** Polls `read` until `ok` holds, or fails with the last value after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  read: () => Promise<T> | T,
  ok: (v: T) => boolean,
  timeoutMs = 20_000,
  everyMs = 250,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await read();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  const shown = typeof last === "object" && last !== null ? Object.keys(last).join(",") : String(last);
  throw new Error(`timed out waiting for ${what}; last value ${shown.slice(0, 300)}`);
}

/** framesDecoded of the page's WebRTC video after it rose past `min` (or a timeout error). */
export function framesDecodedAbove(page: Page, min: number, timeoutMs = 20_000): Promise<number> {
  return waitFor(
    `framesDecoded > ${min}`,
    () => page.evaluate(() => (globalThis as unknown as PageGlobal).ld.framesDecoded()),
    (n) => n > min,
    timeoutMs,
  );
}

export interface PageArgs {
  readonly base: string;
  readonly room: string;
  readonly token: string;
}

/** What test/media/pages/webrtc-page.js puts on `window.ld`. */
export interface PageApi {
  watch(o: PageArgs): Promise<{ transportId: string; consumers: { id: string; kind: string }[] }>;
  publish(o: PageArgs): Promise<{ transportId: string; producerIds: string[] }>;
  framesDecoded(): Promise<number>;
  playHls(url: string): boolean;
  hlsStats():
    | { currentTime: number; playingDateMs: number | null; nowMs: number; errors: string[] }
    | undefined;
  closeAll(): void;
}
/** `(globalThis as unknown as PageGlobal).ld` inside page.evaluate (which runs in the browser). */
export type PageGlobal = { ld: PageApi };
