import path from "node:path";
import { resolveTokenSecret, ShadowSwitch, TokenService } from "../auth/index.ts";
import { type Config, childLogger, type Logger, type RedisClient } from "../core/index.ts";
import type { MediaInventory } from "../protocol/index.ts";
import { PLAYLIST } from "./hls/egress.ts";
import { HlsManager } from "./hls/manager.ts";
import { ReplayStore } from "./hls/replay-store.ts";
import { RoomEvents, type RoomState } from "./http/events.ts";
import { nodeRoutes } from "./http/node-routes.ts";
import { replayRoutes } from "./http/replay-routes.ts";
import type { RouteRule } from "./http/router.ts";
import { MediaHttpServer } from "./http/server.ts";
import { signalingRoutes } from "./http/signaling.ts";
import { type IngestRequest, type IngestResponse, ingestRequestSchema, openIngest } from "./ingest.ts";
import { TransportLimits } from "./limits.ts";
import { createMediaMetrics } from "./metrics.ts";
import { RoomRegistry } from "./rooms.ts";
import { WorkerPool } from "./workers.ts";

export interface MediaTierOptions {
  /** Token verifier shared with the gateway; by default built from the configured secret. */
  readonly tokens?: TokenService;
  readonly log?: Logger;
  /**
   * Where the shadow kill switch is read (the gateway's key, `<LIVEDROP_KEY_PREFIX>:shadow:switch`).
   * Absent, or LIVEDROP_SHADOW=off: shadow tokens are refused (403 SHADOW_DISABLED).
   */
  readonly redis?: RedisClient;
}

/** How often open shadow transports are checked against the switch (its own refresh period), ms. */
const SHADOW_SWEEP_MS = 1_000;

/** What is allocated right now, across every worker (leak checks, ops). */

/**
 * The media tier of one node: mediasoup workers (one per core), rooms with their routers,
 * the HTTP server (signaling, events, HLS, metrics) and the HLS egress of live rooms.
 * `close()` releases everything; safe to call twice.
 */
export class MediaTier {
  private closed = false;

  /** True once close() began: /readyz answers 503 while the rooms end. */
  get closing(): boolean {
    return this.closed;
  }
  private readonly shadowSweep: NodeJS.Timeout;

  private constructor(
    readonly pool: WorkerPool,
    readonly rooms: RoomRegistry,
    readonly hls: HlsManager,
    readonly events: RoomEvents,
    private readonly server: MediaHttpServer,
    readonly publicUrl: string,
    private readonly ingestTimeoutMs: number,
    private readonly log: Logger,
    private readonly shadowSwitch: ShadowSwitch | undefined,
    /** Recordings of ended broadcasts; undefined when MEDIA_REPLAY or MEDIA_HLS is off. */
    readonly replays: ReplayStore | undefined,
  ) {
    // Refusing new shadow calls is not enough: streams opened before the switch went off stop too.
    this.shadowSweep = setInterval(() => {
      // Without a switch no shadow token was ever admitted, so there is nothing to close.
      if (!this.shadowSwitch || this.shadowEnabled()) return;
      for (const room of this.rooms.all()) room.closeShadowTransports();
    }, SHADOW_SWEEP_MS);
    this.shadowSweep.unref();
  }

  /** Whether shadow (load-test) tokens are served: a shadow lane is configured and the switch is on. */
  shadowEnabled(): boolean {
    return this.shadowSwitch?.enabled() ?? false;
  }

  /** Every route with its access rule, as the server enforces them. */
  routeRules(): readonly RouteRule[] {
    return this.server.rules;
  }

  static async create(cfg: Config, o: MediaTierOptions = {}): Promise<MediaTier> {
    const log = o.log ?? childLogger("media");
    const tokens = o.tokens ?? (await TokenService.create({ secret: await resolveTokenSecret(cfg) }));
    const pool = await WorkerPool.create({
      workerBin: cfg.MEDIA_WORKER_BIN,
      count: cfg.MEDIA_WORKERS,
      rtcMinPort: cfg.MEDIA_RTC_MIN_PORT,
      rtcMaxPort: cfg.MEDIA_RTC_MAX_PORT,
      log,
    });
    const hlsRoot = cfg.MEDIA_HLS_DIR ? path.resolve(cfg.MEDIA_HLS_DIR) : path.join(cfg.dataDir, "hls");
    const events = new RoomEvents(cfg.MEDIA_MAX_EVENT_STREAMS_PER_USER);
    // The tier is referenced by callbacks wired before it exists; they only run after create().
    let tier: MediaTier | undefined;
    const publish = (room: string) => tier && events.publish(room, tier.state(room));
    const hls = new HlsManager({
      root: hlsRoot,
      segmentS: cfg.MEDIA_HLS_SEGMENT_S,
      listSize: cfg.MEDIA_HLS_LIST_SIZE,
      ffmpegBin: cfg.MEDIA_FFMPEG_BIN,
      log,
      onReadyChange: publish,
    });
    const replays =
      cfg.MEDIA_HLS && cfg.MEDIA_REPLAY
        ? await ReplayStore.create({
            root: cfg.MEDIA_REPLAY_DIR
              ? path.resolve(cfg.MEDIA_REPLAY_DIR)
              : path.join(cfg.dataDir, "replays"),
            retentionMs: cfg.MEDIA_REPLAY_RETENTION_H * 3_600_000,
            maxBytes: cfg.MEDIA_REPLAY_MAX_BYTES,
            sweepMs: cfg.MEDIA_REPLAY_SWEEP_MS,
            // One segment length: well inside the rolling window, so no segment is missed.
            pollMs: cfg.MEDIA_HLS_SEGMENT_S * 1000,
            sources: () =>
              hls
                .all()
                .filter(([, e]) => e.ready)
                .map(([room, e]) => ({
                  room,
                  dir: hls.dirOf(room),
                  playlist: PLAYLIST,
                  correct: (text: string) => e.correctPlaylist(text),
                })),
            log,
          })
        : undefined;
    const rooms = new RoomRegistry({
      pool,
      maxConsumersPerRouter: cfg.MEDIA_MAX_CONSUMERS_PER_ROUTER,
      listenIp: cfg.MEDIA_LISTEN_IP,
      announcedIp: cfg.MEDIA_ANNOUNCED_IP,
      peerTimeoutMs: cfg.MEDIA_PEER_TIMEOUT_MS,
      connectTimeoutMs: cfg.MEDIA_CONNECT_TIMEOUT_MS,
      limits: new TransportLimits({
        perUser: cfg.MEDIA_MAX_TRANSPORTS_PER_USER,
        perRoom: cfg.MEDIA_MAX_TRANSPORTS_PER_ROOM,
      }),
      caps: {
        perHost: cfg.MEDIA_MAX_ROOMS_PER_USER,
        total: cfg.MEDIA_MAX_ROOMS,
        idleMs: cfg.MEDIA_ROOM_IDLE_MS,
      },
      log,
      onChange: (room) => {
        publish(room.name);
        if (cfg.MEDIA_HLS) hls.sync(room);
      },
      onEnded: (room) => {
        publish(room.name);
        // The last segments go into the replay before the egress removes the live folder.
        void (replays?.finish(room.name) ?? Promise.resolve()).then(() => hls.stop(room.name));
      },
    });
    const metrics = createMediaMetrics({ rooms, hls, pool, sseClients: () => events.count });
    let server: MediaHttpServer;
    let shadowSwitch: ShadowSwitch | undefined;
    try {
      // The switch starts "on" and keeps its last state when Redis fails; with no shadow lane here,
      // a Redis unreachable at start means shadow traffic stays off instead.
      const reachable = o.redis
        ? await o.redis.ping().then(
            () => true,
            () => false,
          )
        : false;
      if (o.redis && !reachable)
        log.warn("Redis unreachable: shadow (load-test) traffic is off on this media node");
      if (o.redis && reachable && cfg.LIVEDROP_SHADOW === "on")
        shadowSwitch = await ShadowSwitch.create(o.redis, cfg.LIVEDROP_KEY_PREFIX, log);
      const shadowOn = shadowSwitch;
      server = await MediaHttpServer.create({
        host: cfg.MEDIA_HOST,
        port: cfg.MEDIA_PORT,
        tokens,
        shadowEnabled: () => shadowOn?.enabled() ?? false,
        perAddress: { rate: cfg.MEDIA_SIGNALING_ADDRESS_RATE, burst: cfg.MEDIA_SIGNALING_ADDRESS_BURST },
        perUser: { rate: cfg.MEDIA_SIGNALING_USER_RATE, burst: cfg.MEDIA_SIGNALING_USER_BURST },
        timeouts: {
          headersMs: cfg.MEDIA_HTTP_HEADERS_TIMEOUT_MS,
          requestMs: cfg.MEDIA_HTTP_REQUEST_TIMEOUT_MS,
          keepAliveMs: cfg.MEDIA_HTTP_KEEPALIVE_TIMEOUT_MS,
        },
        metrics,
        log,
        routes: [
          ...nodeRoutes({
            hlsRoot,
            playlistFilter: (room, text) => hls.get(room)?.correctPlaylist(text) ?? text,
            metrics,
            healthy: () => pool.all().some((w) => !w.closed),
            accepting: () => !(tier?.closing ?? false),
            inventory: () => (tier as MediaTier).inventory(),
          }),
          ...replayRoutes({ store: replays, publicUrl: () => tier?.publicUrl ?? "" }),
          ...signalingRoutes({
            rooms,
            events,
            state: (room) => (tier as MediaTier).state(room),
            ingestTimeoutMs: cfg.MEDIA_INGEST_TIMEOUT_MS,
            log,
          }),
        ],
      });
    } catch (err) {
      shadowSwitch?.close();
      await replays?.close();
      rooms.close();
      pool.close();
      throw err;
    }
    const publicUrl = (cfg.MEDIA_PUBLIC_URL ?? server.url).replace(/\/+$/, "");
    tier = new MediaTier(
      pool,
      rooms,
      hls,
      events,
      server,
      publicUrl,
      cfg.MEDIA_INGEST_TIMEOUT_MS,
      log,
      shadowSwitch,
      replays,
    );
    log.info(
      { url: server.url, workers: pool.pids, hls: cfg.MEDIA_HLS ? hlsRoot : "off" },
      "media tier running",
    );
    return tier;
  }

  /** Where this server listens (http://host:port). */
  get url(): string {
    return this.server.url;
  }

  /** What clients are told about a room (GET /rooms/:room and the event stream). */
  state(room: string): RoomState {
    const r = this.rooms.get(room);
    const live = r?.live ?? false;
    const egress = this.hls.get(room);
    return {
      live,
      producers: r?.producerList() ?? [],
      hls: live && egress?.ready ? { playlistUrl: `${this.publicUrl}/hls/${room}/${PLAYLIST}` } : null,
    };
  }

  /** RTP ingest opened in-process with host rights (the launcher's demo room); `owner` is its host. */
  async openIngest(room: string, request: IngestRequest, owner = "livedrop-ingest"): Promise<IngestResponse> {
    const parsed = ingestRequestSchema.parse(request);
    return openIngest(await this.rooms.open(room, owner), owner, parsed, this.ingestTimeoutMs, this.log);
  }

  /** Ends a room as if its host stopped. */
  stopRoom(room: string): void {
    this.rooms.get(room)?.end("stopped");
  }

  /** Counts from the workers themselves (worker.dump / router.dump), not from our own maps. */
  async inventory(): Promise<MediaInventory> {
    const workers = await Promise.all(
      this.pool.all().map(async (w) => {
        const dump = (await w.dump()) as { routerIds: string[] };
        return { pid: w.pid, routers: dump.routerIds.length, transports: 0 };
      }),
    );
    let transports = 0;
    let producers = 0;
    let consumers = 0;
    for (const room of this.rooms.all()) {
      for (const slot of room.fanout.slots) {
        const d = (await slot.router.dump().catch(() => undefined)) as
          | {
              transportIds: string[];
              mapProducerIdConsumerIds: Record<string, string[]>;
              mapConsumerIdProducerId: Record<string, string>;
            }
          | undefined;
        if (!d) continue;
        const w = workers.find((x) => x.pid === slot.worker.pid);
        if (w) w.transports += d.transportIds.length;
        transports += d.transportIds.length;
        // Pipe producers/consumers of edges and the HLS consumers count too: all are worker objects.
        consumers += Object.keys(d.mapConsumerIdProducerId).length;
        producers += Object.keys(d.mapProducerIdConsumerIds).length;
      }
    }
    return {
      workers,
      rooms: this.rooms.all().length,
      transports,
      producers,
      consumers,
      ffmpegPids: this.hls.ffmpegPids(),
      hlsEgresses: this.hls.count,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.shadowSweep);
    this.shadowSwitch?.close();
    this.events.close();
    await this.server.close();
    this.rooms.close();
    await this.replays?.close();
    await this.hls.close();
    this.pool.close();
  }
}
