import uWS, { type HttpRequest, type TemplatedApp, type us_listen_socket } from "uWebSockets.js";
import type { Registry } from "prom-client";
import type { TokenService } from "../auth/index.ts";
import { ShadowSwitch } from "../auth/index.ts";
import { ErrorCode, type Logger, RateLimiter, type RedisClient, SetupError } from "../core/index.ts";
import {
  AuditInbox,
  type Checkout,
  type OrderStore,
  type ReportLimits,
  type ReportsPass,
} from "../orders/index.ts";
import type { SaleEngine } from "../sale-engine/index.ts";
import { ClientAddress } from "./client-address.ts";
import { configureAuctions } from "./commands/index.ts";
import { registerApi } from "./http/api.ts";
import { BuyClicks } from "./http/buy-clicks.ts";
import { handle } from "./http/handler.ts";
import { Insights } from "./http/insights.ts";
import { registerInsightsApi } from "./http/insights-api.ts";
import { startGatewayReports } from "./http/reports-api.ts";
import { refusedForFraming } from "./http/request-framing.ts";
import { type GuardedResponse, send, sendError, sendJson } from "./http/respond.ts";
import { ApiRouter, type RouteRule } from "./http/router.ts";
import { registerStaticFiles } from "./http/static-files.ts";
import type { ShadowLane } from "./lane.ts";
import { DEFAULT_GATEWAY_LIMITS, type GatewayLimits } from "./limits.ts";
import { createMetrics, type GatewayMetrics, registerShadowGauge } from "./metrics.ts";
import { RedisHealth } from "./redis-health.ts";
import { RoomRetention } from "./rooms/room-retention.ts";
import { registerWebSocketEndpoint } from "./ws/endpoint.ts";
import { socketLimits } from "./ws/socket-options.ts";
import { SocketServer } from "./ws/socket-server.ts";

/** uWS ListenOptions (a const enum in its declarations, so spelled out here). */
const LISTEN_DEFAULT = 0;
const LISTEN_EXCLUSIVE_PORT = 1;

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
  /** Limits and deadlines; each field defaults to its config default (core/config.ts). */
  readonly limits?: Partial<GatewayLimits>;
  readonly log: Logger;
  /** The browser client build to serve (the launcher passes it); absent: an API-only gateway. */
  readonly clientDir?: string;
  /** Public base URL of the media tier, handed to browsers. Default http://127.0.0.1:8090. */
  readonly mediaUrl?: string;
  /** Registries of other parts of this process, served on /metrics after the gateway's own. */
  readonly moreMetrics?: readonly Registry[];
  /** The shadow (load-test) lane; absent: shadow tokens are refused (SHADOW_DISABLED). */
  readonly shadow?: ShadowLane;
  /**
   * Report downloads' limits, and whether this node runs the reports pass (funnel snapshots and
   * end-of-live summaries, LIVEDROP_REPORTS_*). Absent: the defaults, and no pass (tests).
   */
  readonly reports?: { readonly limits: ReportLimits; readonly pass: boolean };
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
  private readonly redisHealth: RedisHealth;

  /** The shadow lane's WebSocket side, when this gateway serves one. */
  readonly shadowSockets: SocketServer | undefined;
  readonly shadowSwitch: ShadowSwitch;
  readonly limits: GatewayLimits;
  private readonly clientAddress: ClientAddress;
  private readonly router: ApiRouter;
  /** Trims each lane's room logs to their retention (chat included). */
  private readonly retention: RoomRetention[];
  /** Moves the audit rows CLI commands handed over through Redis into the live audit log. */
  private readonly auditInbox: AuditInbox;
  /** Funnel snapshots and end-of-live summaries, when this node runs them. */
  private readonly reportsPass: ReportsPass | undefined;

  private constructor(
    private readonly o: GatewayServerOptions,
    shadowSwitch: ShadowSwitch,
  ) {
    this.metrics = createMetrics();
    this.log = o.log;
    this.app = uWS.App();
    this.limits = { ...DEFAULT_GATEWAY_LIMITS, ...o.limits };
    this.clientAddress = new ClientAddress(this.limits.trustedProxies);
    this.shadowSwitch = shadowSwitch;
    registerShadowGauge(this.metrics.registry, () => shadowSwitch.enabled());
    for (const engine of [o.engine, ...(o.shadow ? [o.shadow.engine] : [])])
      configureAuctions(engine, this.limits.auctionHistoryLength);
    this.redisHealth = new RedisHealth(o.redis, this.metrics, o.log, this.limits.redisHealthMs);
    this.router = new ApiRouter(this.app, {
      metrics: this.metrics,
      log: o.log,
      tokens: o.tokens,
      limits: {
        perUser: new RateLimiter(this.limits.apiUserRate, this.limits.apiUserBurst),
        perAddress: new RateLimiter(this.limits.apiAddressRate, this.limits.apiAddressBurst),
      },
      clientAddress: this.clientAddress,
      dependencyTimeoutMs: this.limits.dependencyTimeoutMs,
      live: {
        engine: o.engine,
        store: o.store,
        checkout: o.checkout,
        countBuy: (dropId, kind) => this.clicks.count(dropId, kind),
      },
      shadow: o.shadow,
      shadowEnabled: () => shadowSwitch.enabled(),
    });
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
    this.reportsPass = o.reports?.pass
      ? startGatewayReports({
          engine: o.engine,
          store: o.store,
          redis: o.redis,
          keyPrefix: o.keyPrefix,
          clicks: this.clicks,
          limits: o.reports.limits,
          log: o.log,
        })
      : undefined;
    const countBuy = (dropId: string, kind?: "click" | "entry") => this.clicks.count(dropId, kind);
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
      ...socketLimits(this.limits),
    });
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
          ...socketLimits(this.limits),
        })
      : undefined;
    registerWebSocketEndpoint(this.app, {
      tokens: o.tokens,
      maxConnectionsPerIp: this.limits.maxConnectionsPerIp,
      clientAddress: this.clientAddress,
      live: this.sockets,
      shadow: this.shadowSockets,
      shadowEnabled: () => shadowSwitch.enabled(),
    });
    const retention = (keyPrefix: string) =>
      new RoomRetention({
        redis: o.redis,
        keyPrefix,
        retentionDays: this.limits.roomLogRetentionDays,
        intervalS: this.limits.roomLogTrimIntervalS,
        log: o.log,
      }).start();
    this.retention = [retention(o.keyPrefix), ...(o.shadow ? [retention(o.shadow.keyPrefix)] : [])];
    this.auditInbox = new AuditInbox({
      redis: o.redis,
      keyPrefix: o.keyPrefix,
      store: o.store,
      intervalMs: this.limits.auditInboxDrainMs,
      log: o.log,
    }).start();
    this.routes();
  }

  static async create(options: GatewayServerOptions): Promise<GatewayServer> {
    const shadowSwitch = await ShadowSwitch.create(options.redis, options.keyPrefix, options.log);
    const server = new GatewayServer(options, shadowSwitch);
    await server.listen();
    return server;
  }

  /** Every API route with its declared access and lane rule (the access table test reads it). */
  get routeTable(): readonly RouteRule[] {
    return this.router.table;
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
    this.redisHealth.close();
    if (this.listenSocket) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
    await Promise.all([...this.retention.map((r) => r.stop()), this.auditInbox.stop()]);
    await this.reportsPass?.stop();
    await this.clicks.close();
    await this.insights.close();
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const options = this.o.reusePort ? LISTEN_DEFAULT : LISTEN_EXCLUSIVE_PORT;
      // uWS takes (host, port, options, cb); its type declarations only list (port, options, cb).
      const listen = this.app.listen as unknown as (
        host: string,
        port: number,
        options: number,
        cb: (socket: us_listen_socket | false) => void,
      ) => void;
      listen.call(this.app, this.o.host, this.o.port, options, (socket) => {
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
    // Operational endpoints: no token (probes and Prometheus scrape them); framing still checked.
    const probe = (pattern: string, name: string, fn: (g: GuardedResponse) => void | Promise<void>) =>
      this.app.get(pattern, (res, req) => {
        if (!refusedForFraming(req, res, this, name)) handle(this, name, res, fn);
      });
    probe("/healthz", "healthz", (g) => sendJson(g, 200, { status: "ok" }));
    probe("/readyz", "readyz", async (g) => {
      const checks = await this.readiness();
      const ok = !this.draining && Object.values(checks).every((c) => c === "ok");
      sendJson(g, ok ? 200 : 503, { status: ok ? "ready" : "not ready", draining: this.draining, checks });
    });
    probe("/metrics", "metrics", async (g) => {
      // The process's other parts (the order pipeline of `livedrop start`) show on the same page.
      const texts = await Promise.all(
        [this.metrics.registry, ...(this.o.moreMetrics ?? [])].map((r) => r.metrics()),
      );
      send(g, 200, texts.join("\n"), this.metrics.registry.contentType);
    });
    registerApi(this.router, {
      tokens: this.o.tokens,
      guestTokenTtlS: this.o.guestTokenTtlS,
      guestTokenLimiter: new RateLimiter(this.limits.guestTokenRate, this.limits.guestTokenBurst),
      shadowSwitch: this.shadowSwitch,
      hasShadowLane: this.o.shadow !== undefined,
      drawCacheMs: this.limits.drawCacheMs,
      ...(this.o.reports ? { reportLimits: this.o.reports.limits } : {}),
    });
    const mediaUrl = this.o.mediaUrl ?? "http://127.0.0.1:8090";
    registerInsightsApi(this.router, { insights: this.insights, mediaUrl });
    if (this.o.clientDir)
      registerStaticFiles(this.app, {
        metrics: this.metrics,
        log: this.log,
        root: this.o.clientDir,
        mediaUrl,
      });
    this.app.any("/*", (res, req: HttpRequest) => {
      const method = req.getMethod().toUpperCase();
      const url = req.getUrl();
      if (refusedForFraming(req, res, this, "unknown")) return;
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
