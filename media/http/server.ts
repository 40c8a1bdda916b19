import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type Logger, RateLimiter } from "../../core/index.ts";
import type { TokenService } from "../../gateway/index.ts";
import type { MediaMetrics } from "../metrics.ts";
import { HLS_PATH, serveHls } from "./hls-files.ts";
import { CORS_HEADERS, sendError, sendFailure, sendJson } from "./io.ts";
import { type Route, routeContext } from "./router.ts";

export interface MediaHttpOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly routes: readonly Route[];
  readonly tokens: TokenService;
  readonly hlsRoot: string;
  readonly playlistFilter?: (room: string, text: string) => string;
  readonly metrics: MediaMetrics;
  readonly healthy: () => boolean;
  readonly log: Logger;
}

/**
 * Signaling requests per client address and per user, per second, and the burst after a quiet
 * spell. Joining over WebRTC takes about seven calls and a host's go-live a few more; HLS files,
 * health and metrics are not counted (players poll the playlist every second).
 */
const SIGNALING_PER_ADDRESS = { rate: 100, burst: 300 };
const SIGNALING_PER_USER = { rate: 10, burst: 40 };

/**
 * The media tier's HTTP server, on node:http rather than uWebSockets.js: its traffic is low-rate
 * signaling, long-lived event streams and file streaming, where node's streams give back-pressure
 * and abort handling for free (uWS would need tryEnd/onWritable loops for segments and careful
 * onAborted handling for SSE). HLS at scale is meant to sit behind a CDN anyway.
 */
export class MediaHttpServer {
  private readonly server: http.Server;
  private closed = false;
  private readonly addressLimiter = new RateLimiter(SIGNALING_PER_ADDRESS.rate, SIGNALING_PER_ADDRESS.burst);
  private readonly userLimiter = new RateLimiter(SIGNALING_PER_USER.rate, SIGNALING_PER_USER.burst);
  port = 0;

  private constructor(private readonly o: MediaHttpOptions) {
    this.server = http.createServer((req, res) => this.dispatch(req, res));
    this.server.keepAliveTimeout = 5_000;
    // Event streams stay open for hours; request timeouts would cut them.
    this.server.requestTimeout = 0;
  }

  static async create(o: MediaHttpOptions): Promise<MediaHttpServer> {
    const s = new MediaHttpServer(o);
    await new Promise<void>((resolve, reject) => {
      s.server.once("error", reject);
      s.server.listen(o.port, o.host, () => {
        s.server.off("error", reject);
        resolve();
      });
    });
    s.port = (s.server.address() as AddressInfo).port;
    return s;
  }

  get url(): string {
    const host = this.o.host.includes(":") ? `[${this.o.host}]` : this.o.host;
    return `http://${host}:${this.port}`;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    // The raw path, never normalized: HLS names are matched strictly, so `..` cannot slip through.
    const raw = req.url ?? "/";
    const q = raw.indexOf("?");
    const pathname = q >= 0 ? raw.slice(0, q) : raw;
    const query = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : "");
    const method = req.method ?? "GET";
    let route = "unknown";
    const done = (status: number) => this.o.metrics.httpRequests.inc({ route, status: String(status) });

    if (method === "OPTIONS") {
      res.writeHead(204, {
        ...CORS_HEADERS,
        "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
        "Access-Control-Allow-Headers": "Authorization, Content-Type",
        "Access-Control-Max-Age": "600",
      });
      res.end();
      done(204);
      return;
    }
    if (method === "GET" && pathname === "/healthz") {
      route = "healthz";
      const ok = this.o.healthy();
      sendJson(res, ok ? 200 : 503, { status: ok ? "ok" : "no mediasoup worker" });
      done(ok ? 200 : 503);
      return;
    }
    if (method === "GET" && pathname === "/metrics") {
      route = "metrics";
      this.o.metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { ...CORS_HEADERS, "Content-Type": this.o.metrics.registry.contentType });
          res.end(text);
          done(200);
        },
        (err: unknown) => done(sendFailure(res, err, this.o.log, route)),
      );
      return;
    }
    const hls = method === "GET" ? HLS_PATH.exec(pathname) : null;
    if (hls) {
      route = "hls";
      serveHls(res, this.o.hlsRoot, hls[1] as string, hls[2] as string, this.o.playlistFilter).then(
        () => done(res.statusCode),
        (err: unknown) => done(sendFailure(res, err, this.o.log, route)),
      );
      return;
    }
    for (const r of this.o.routes) {
      if (r.method !== method) continue;
      const match = r.path.exec(pathname);
      if (!match) continue;
      route = r.name;
      if (!this.addressLimiter.take(req.socket.remoteAddress ?? "unknown")) {
        sendError(res, 429, "RATE_LIMITED", "too many signaling requests from this address; slow down");
        done(429);
        return;
      }
      r.run(routeContext(req, res, match, query, this.o.tokens, this.userLimiter)).then(
        () => done(res.statusCode),
        (err: unknown) => done(sendFailure(res, err, this.o.log, route)),
      );
      return;
    }
    sendError(res, 404, "NOT_FOUND", `no route for ${method} ${pathname}`);
    done(404);
  }
}
