import uWS, { type HttpRequest, type TemplatedApp, type us_listen_socket } from "uWebSockets.js";
import { CLIENT_DIST_DIR } from "../client/index.ts";
import { ErrorCode, type Logger, type RedisClient, SetupError } from "../core/index.ts";
import { RateLimiter } from "../core/index.ts";
import type { Checkout, OrderStore } from "../orders/index.ts";
import type { SaleEngine } from "../sale-engine/index.ts";
import type { TokenService } from "./auth/index.ts";
import { registerApi } from "./http/api.ts";
import { BuyClicks } from "./http/buy-clicks.ts";
import { handle } from "./http/handler.ts";
import { Insights } from "./http/insights.ts";
import { registerInsightsApi } from "./http/insights-api.ts";
import { send, sendError, sendJson } from "./http/respond.ts";
import { registerStaticFiles } from "./http/static-files.ts";
import type { ShadowLane } from "./lane.ts";
import { createMetrics, type GatewayMetrics } from "./metrics.ts";
import { ShadowSwitch } from "./shadow-switch.ts";
import { registerWebSocketEndpoint } from "./ws/endpoint.ts";
import { SocketServer } from "./ws/socket-server.ts";

export interface GatewayServerOptions {
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly redis: RedisClient;
  readonly store: OrderStore;
  readonly engine: SaleEngine;
  readonly checkout: Checkout;
  readonly tokens: TokenService;
  /** Lifetime of guest tokens, seconds. */
  readonly guestTokenTtlS: number;
  /** A dedicated connection for the WebSocket side's sharded pub/sub subscriptions. */
  readonly subscriber: RedisClient;
  /** Namespace of Redis keys (room logs). */
  readonly keyPrefix: string;
  /** WebSocket connections per client address. Default 5000. */
  readonly maxConnectionsPerIp?: number;
  readonly log: Logger;
  /** The browser client build to serve. Default client/dist. */
  readonly clientDir?: string;
  /** Public base URL of the media tier, handed to browsers. Default http://127.0.0.1:8090. */
  readonly mediaUrl?: string;
  /** The shadow (load-test) lane; absent: shadow tokens are refused (SHADOW_DISABLED). */
  readonly shadow?: ShadowLane;
  /**
   * Share the port with other processes (SO_REUSEPORT). Default false: the port is exclusive, so
   * a second server on a taken port fails instead of silently taking a share of its connections.
   */
  readonly reusePort?: boolean;
}

/**
 * The gateway's HTTP side on uWebSockets.js: liveness, readiness, Prometheus metrics and the JSON
 * API (gateway/http/api.ts), and the WebSocket endpoint `/ws` (gateway/ws/socket-server.ts).
 */
export class GatewayServer {
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  private readonly app: TemplatedApp;
  readonly sockets: SocketServer;
  private listenSocket: us_listen_socket | undefined;
  private closed = false;
  private draining = false;
  port = 0;
  /** Buy clicks per drop and the read-only figures of the host console and ops screen. */
  private readonly clicks: BuyClicks;
  private readonly insights: Insights;

  /** The shadow lane's WebSocket side, when this gateway serves one. */
  readonly shadowSockets: SocketServer | undefined;
  readonly shadowSwitch: ShadowSwitch;

  private constructor(
    private readonly o: GatewayServerOptions,
    shadowSwitch: ShadowSwitch,
  ) {
    this.metrics = createMetrics();
    this.log = o.log;
    this.app = uWS.App();
    this.clicks = new BuyClicks(o.redis, o.keyPrefix, o.log);
    this.insights = new Insights({
      engine: o.engine,
      store: o.store,
      redis: o.redis,
      keyPrefix: o.keyPrefix,
      clicks: this.clicks,
      metrics: this.metrics,
      log: o.log,
    });
    const countBuy = (dropId: string) => this.clicks.count(dropId);
    this.sockets = new SocketServer(this.app, {
      engine: o.engine,
      countBuy,
      checkout: o.checkout,
      tokens: o.tokens,
      redis: o.redis,
      subscriber: o.subscriber,
      keyPrefix: o.keyPrefix,
      metrics: this.metrics,
      log: o.log,
    });
    this.shadowSwitch = shadowSwitch;
    // Shadow traffic: the same code on the shadow lane's engine, store and Redis namespace; its
    // topics apart from the live ones, and stopped by the kill switch.
    this.shadowSockets = o.shadow
      ? new SocketServer(this.app, {
          engine: o.shadow.engine,
          checkout: o.shadow.checkout,
          tokens: o.tokens,
          redis: o.redis,
          subscriber: o.shadow.subscriber,
          keyPrefix: o.shadow.keyPrefix,
          metrics: this.metrics,
          log: o.log.child({ lane: "shadow" }),
          topicPrefix: "shadow:",
          serving: () => shadowSwitch.enabled(),
        })
      : undefined;
    registerWebSocketEndpoint(this.app, {
      tokens: o.tokens,
      maxConnectionsPerIp: o.maxConnectionsPerIp ?? 5_000,
      live: this.sockets,
      shadow: this.shadowSockets,
      shadowEnabled: () => shadowSwitch.enabled(),
    });
    this.routes();
  }

  static async create(options: GatewayServerOptions): Promise<GatewayServer> {
    const shadowSwitch = await ShadowSwitch.create(options.redis, options.keyPrefix, options.log);
    const server = new GatewayServer(options, shadowSwitch);
    await server.listen();
    return server;
  }

  get url(): string {
    return `http://${this.o.host}:${this.port}`;
  }

  /** Stops accepting connections; readiness turns 503 first so a balancer drains us. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.draining = true;
    this.sockets.shutdown();
    this.shadowSockets?.shutdown();
    this.shadowSwitch.close();
    if (this.listenSocket) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
    await this.clicks.close();
    await this.insights.close();
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const options = this.o.reusePort ? uWS.LIBUS_LISTEN_DEFAULT : uWS.LIBUS_LISTEN_EXCLUSIVE_PORT;
      this.app.listen(this.o.host, this.o.port, options, (socket) => {
        if (!socket) {
          reject(
            new SetupError(
              ErrorCode.PORT_IN_USE,
              `gateway could not listen on ${this.o.host}:${this.o.port}: the port is in use (or the address is not this machine's)`,
            ),
          );
          return;
        }
        this.listenSocket = socket;
        this.port = uWS.us_socket_local_port(socket);
        resolve();
      });
    });
  }

  private routes(): void {
    this.app.get("/healthz", (res) =>
      handle(this, "healthz", res, (g) => sendJson(g, 200, { status: "ok" })),
    );
    this.app.get("/readyz", (res) =>
      handle(this, "readyz", res, async (g) => {
        const checks = await this.readiness();
        const ok = !this.draining && Object.values(checks).every((c) => c === "ok");
        sendJson(g, ok ? 200 : 503, { status: ok ? "ready" : "not ready", draining: this.draining, checks });
      }),
    );
    this.app.get("/metrics", (res) =>
      handle(this, "metrics", res, async (g) => {
        send(g, 200, await this.metrics.registry.metrics(), this.metrics.registry.contentType);
      }),
    );
    registerApi(this.app, {
      metrics: this.metrics,
      log: this.log,
      engine: this.o.engine,
      countBuy: (dropId) => this.clicks.count(dropId),
      store: this.o.store,
      checkout: this.o.checkout,
      tokens: this.o.tokens,
      guestTokenTtlS: this.o.guestTokenTtlS,
      ipLimiter: new RateLimiter(50, 100),
      tokenLimiter: new RateLimiter(2, 10),
      shadow: this.o.shadow,
      shadowSwitch: this.shadowSwitch,
    });
    const mediaUrl = this.o.mediaUrl ?? "http://127.0.0.1:8090";
    registerInsightsApi(this.app, {
      metrics: this.metrics,
      log: this.log,
      insights: this.insights,
      tokens: this.o.tokens,
      mediaUrl,
      ipLimiter: new RateLimiter(50, 100),
    });
    registerStaticFiles(this.app, {
      metrics: this.metrics,
      log: this.log,
      root: this.o.clientDir ?? CLIENT_DIST_DIR,
      mediaUrl,
    });
    this.app.any("/*", (res, req: HttpRequest) => {
      const method = req.getMethod().toUpperCase();
      const url = req.getUrl();
      handle(this, "unknown", res, (g) => sendError(g, 404, "NOT_FOUND", `no route for ${method} ${url}`));
    });
  }

  /** Each dependency answers within a second, or counts as down. */
  private async readiness(): Promise<Record<string, string>> {
    const within = <T>(p: Promise<T>) =>
      Promise.race([
        p.then(() => "ok"),
        new Promise<string>((r) => setTimeout(() => r("timeout"), 1_000)),
      ]).catch((err: unknown) => `error: ${(err as Error).message}`);
    const [redis, store] = await Promise.all([within(this.o.redis.ping()), within(this.o.store.ping())]);
    return { redis, store };
  }
}
