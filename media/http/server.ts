import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TokenService } from "../../auth/index.ts";
import { type Logger, RateLimiter } from "../../core/index.ts";
import type { MediaMetrics } from "../metrics.ts";
import { CORS_HEADERS, sendError, sendFailure } from "./io.ts";
import { type AnyRoute, admit, checkRoutes, type RouteRule } from "./router.ts";

/** A token bucket: requests per second and the burst after a quiet spell. */
export interface RateLimit {
  readonly rate: number;
  readonly burst: number;
}

/** How long a client may take to send a request, and to stay idle between requests, ms. */
export interface HttpTimeouts {
  /** Headers complete within this of the request's start (slowloris), else 408 and close. */
  readonly headersMs: number;
  /** Headers and body complete within this; the response (an event stream) is not bounded. */
  readonly requestMs: number;
  /** An idle keep-alive socket is closed after this. */
  readonly keepAliveMs: number;
}

export interface MediaHttpOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Every route the server answers (OPTIONS preflights aside); each declares its rule. */
  readonly routes: readonly AnyRoute[];
  readonly tokens: TokenService;
  /** The shadow kill switch: false refuses every shadow token (403 SHADOW_DISABLED). */
  readonly shadowEnabled: () => boolean;
  /** Signaling calls (every non-public route) per client address and per user. */
  readonly perAddress: RateLimit;
  readonly perUser: RateLimit;
  readonly timeouts: HttpTimeouts;
  readonly metrics: MediaMetrics;
  readonly log: Logger;
}

/**
 * The media tier's HTTP server, on node:http rather than uWebSockets.js: its traffic is low-rate
 * signaling, long-lived event streams and file streaming, where node's streams give back-pressure
 * and abort handling for free (uWS would need tryEnd/onWritable loops for segments and careful
 * onAborted handling for SSE). HLS at scale is meant to sit behind a CDN anyway.
 */
export class MediaHttpServer {
  private readonly server: http.Server;
  private closed = false;
  private readonly addressLimiter: RateLimiter;
  private readonly userLimiter: RateLimiter;
  /** The rule of every route, checked at start: a route without one never serves. */
  readonly rules: readonly RouteRule[];
  port = 0;

  private constructor(private readonly o: MediaHttpOptions) {
    this.rules = checkRoutes(o.routes);
    this.addressLimiter = new RateLimiter(o.perAddress.rate, o.perAddress.burst);
    this.userLimiter = new RateLimiter(o.perUser.rate, o.perUser.burst);
    const t = o.timeouts;
    // node checks the timeouts on this period, so a socket lives at most timeout + period.
    const checkEveryMs = Math.max(10, Math.min(1_000, Math.floor(t.headersMs / 4)));
    this.server = http.createServer(
      {
        // node refuses a headers timeout above the request timeout.
        headersTimeout: Math.min(t.headersMs, t.requestMs),
        requestTimeout: t.requestMs,
        keepAliveTimeout: t.keepAliveMs,
        connectionsCheckingInterval: checkEveryMs,
      },
      (req, res) => this.dispatch(req, res),
    );
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
    for (const r of this.o.routes) {
      if (r.method !== method) continue;
      const match = r.path.exec(pathname);
      if (!match) continue;
      route = r.name;
      // Players poll public files every second: only signaling counts against the address.
      if (r.rule !== "public" && !this.addressLimiter.take(req.socket.remoteAddress ?? "unknown")) {
        sendError(res, 429, "RATE_LIMITED", "too many signaling requests from this address; slow down");
        done(429);
        return;
      }
      const gate = {
        tokens: this.o.tokens,
        userLimiter: this.userLimiter,
        shadowEnabled: this.o.shadowEnabled,
      };
      admit(r, req, res, match, query, gate)
        .then((c) => r.run(c))
        .then(
          () => done(res.statusCode),
          (err: unknown) => done(sendFailure(res, err, this.o.log, route)),
        );
      return;
    }
    sendError(res, 404, "NOT_FOUND", `no route for ${method} ${pathname}`);
    done(404);
  }
}
