import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { HlsManager } from "./hls/manager.ts";
import type { MediaKind } from "./room.ts";
import type { RoomRegistry } from "./rooms.ts";
import type { WorkerPool } from "./workers.ts";

export interface MetricSources {
  readonly rooms: RoomRegistry;
  readonly hls: HlsManager;
  readonly pool: WorkerPool;
  readonly sseClients: () => number;
}

interface RoomSnapshot {
  readonly room: string;
  readonly producers: Record<MediaKind, number>;
  readonly consumers: number;
  readonly transports: number;
  readonly routers: number;
  readonly producerBitrate: Record<MediaKind, number>;
  readonly egressBitrate: number;
  readonly hlsLatencyS: number | undefined;
  readonly hlsRestarts: number | undefined;
}

/** One measurement of every room per scrape, shared by the gauges (prom-client collects them concurrently). */
function snapshotter(src: MetricSources): () => Promise<RoomSnapshot[]> {
  let cached: { at: number; value: Promise<RoomSnapshot[]> } | undefined;
  return () => {
    if (cached && Date.now() - cached.at < 1_000) return cached.value;
    const value = Promise.all(
      src.rooms.all().map(async (room): Promise<RoomSnapshot> => {
        const c = room.counts();
        const list = room.producerList();
        const rates = await room.bitrates();
        const egress = src.hls.get(room.name);
        return {
          room: room.name,
          producers: {
            audio: list.filter((p) => p.kind === "audio").length,
            video: list.filter((p) => p.kind === "video").length,
          },
          consumers: c.consumers,
          transports: c.transports,
          routers: c.routers,
          producerBitrate: rates.producer,
          egressBitrate: rates.egress,
          hlsLatencyS: egress?.latencyEstimateS,
          hlsRestarts: egress?.ffmpegRestarts,
        };
      }),
    );
    cached = { at: Date.now(), value };
    return value;
  };
}

/**
 * The media tier's Prometheus metrics, on its own registry. Per-room gauges are computed at
 * scrape time from the live objects: producers, consumers, bitrates (mediasoup getStats: one
 * call per producer and per viewer transport), HLS latency estimate, worker CPU.
 */
export function createMediaMetrics(src: MetricSources) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "livedrop_media_" });
  const snapshot = snapshotter(src);
  const perRoom = (
    name: string,
    help: string,
    read: (s: RoomSnapshot) => number | undefined | Partial<Record<MediaKind, number>>,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ["room", "kind"],
      registers: [registry],
      async collect() {
        const rooms = await snapshot();
        this.reset();
        for (const s of rooms) {
          const v = read(s);
          if (typeof v === "number") this.set({ room: s.room }, v);
          else if (v) for (const [kind, n] of Object.entries(v)) this.set({ room: s.room, kind }, n);
        }
      },
    });

  perRoom("livedrop_media_room_producers", "Producers in the room, by kind", (s) => s.producers);
  perRoom("livedrop_media_room_consumers", "WebRTC consumers (viewers' streams)", (s) => s.consumers);
  perRoom("livedrop_media_room_transports", "Client transports (host, viewers, ingest)", (s) => s.transports);
  perRoom("livedrop_media_room_routers", "Routers: the origin plus pipeToRouter edges", (s) => s.routers);
  perRoom(
    "livedrop_media_room_producer_bitrate_bps",
    "Bitrate the host sends, by kind, bits per second",
    (s) => s.producerBitrate,
  );
  perRoom(
    "livedrop_media_room_egress_bitrate_bps",
    "Bitrate sent to WebRTC viewers, bits per second",
    (s) => s.egressBitrate,
  );
  perRoom(
    "livedrop_media_room_hls_latency_seconds",
    "Estimated HLS viewer latency: age of the newest segment's end when listed (program-date-time) + hls.js hold-back of 3 target durations",
    (s) => s.hlsLatencyS,
  );
  perRoom(
    "livedrop_media_room_hls_ffmpeg_restarts",
    "HLS ffmpeg restarts since the room went live",
    (s) => s.hlsRestarts,
  );

  new Gauge({
    name: "livedrop_media_rooms",
    help: "Rooms on this node, and how many are live",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const all = src.rooms.all();
      this.set({ state: "open" }, all.length);
      this.set({ state: "live" }, all.filter((r) => r.live).length);
    },
  });
  new Gauge({
    name: "livedrop_media_sse_clients",
    help: "Open room event streams",
    registers: [registry],
    collect() {
      this.set(src.sseClients());
    },
  });
  new Gauge({
    name: "livedrop_media_worker_cpu_seconds",
    help: "CPU time used by each mediasoup worker (user + system, from getResourceUsage), seconds",
    labelNames: ["pid"],
    registers: [registry],
    async collect() {
      this.reset();
      await Promise.all(
        src.pool.all().map(async (w) => {
          const u = await w.getResourceUsage().catch(() => undefined);
          if (u) this.set({ pid: String(w.pid) }, (u.ru_utime + u.ru_stime) / 1000);
        }),
      );
    },
  });

  new Counter({
    name: "livedrop_media_hls_stalls_total",
    help: "HLS ffmpeg runs found hung (media reaching them, no new playlist) and restarted on this node",
    registers: [registry],
    collect() {
      // The count lives in the HLS manager; mirrored at scrape time (it only grows).
      this.reset();
      this.inc(src.hls.stalls);
    },
  });

  return {
    registry,
    httpRequests: new Counter({
      name: "livedrop_media_http_requests_total",
      help: "Media HTTP requests by route and status",
      labelNames: ["route", "status"] as const,
      registers: [registry],
    }),
  };
}

export type MediaMetrics = ReturnType<typeof createMediaMetrics>;
