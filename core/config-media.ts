import { z } from "zod";
import { port } from "./config-types.ts";

/** The media tier's fields of the configuration (core/config.ts composes them). */
export const mediaConfigFields = {
  MEDIA_HOST: z
    .string()
    .min(1)
    .default("127.0.0.1")
    .describe("Media HTTP server bind address (signaling, HLS, metrics). Default `127.0.0.1`."),
  MEDIA_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(8090)
    .describe("Media HTTP port. Default 8090; 0 picks a free port (tests)."),
  MEDIA_PUBLIC_URL: z
    .url()
    .optional()
    .describe(
      "Public base URL of the media server (HLS playlist URLs). Default `http://MEDIA_HOST:MEDIA_PORT`.",
    ),
  MEDIA_WORKERS: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .optional()
    .describe("mediasoup workers (processes, one core each). Default: one per core."),
  MEDIA_WORKER_BIN: z
    .string()
    .min(1)
    .default(
      `/usr/lib/${process.arch === "arm64" ? "aarch64" : "x86_64"}-linux-gnu/mediasoup/mediasoup-worker`,
    )
    .meta({
      description:
        "The mediasoup-worker binary; must be version 3.8.4 like the npm library. Default: the Debian `mediasoup-worker` package's path (`dpkg -L mediasoup-worker`).",
      // The default depends on the machine's architecture; the generated docs show it as a pattern.
      docDefault: "/usr/lib/<arch>-linux-gnu/mediasoup/mediasoup-worker",
    }),
  MEDIA_LISTEN_IP: z
    .string()
    .min(1)
    .default("127.0.0.1")
    .describe(
      "IP the WebRTC and RTP sockets bind to. Default `127.0.0.1` (`0.0.0.0` plus MEDIA_ANNOUNCED_IP in production).",
    ),
  MEDIA_ANNOUNCED_IP: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Public IP put in ICE candidates when it differs from MEDIA_LISTEN_IP (NAT, cloud). Default unset.",
    ),
  MEDIA_RTC_MIN_PORT: port
    .default(40_000)
    .describe("Lowest UDP/TCP port of the workers' RTC range. Default 40000."),
  MEDIA_RTC_MAX_PORT: port
    .default(49_999)
    .describe("Highest UDP/TCP port of the workers' RTC range. Default 49999."),
  MEDIA_MAX_CONSUMERS_PER_ROUTER: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(500)
    .describe(
      "Consumers a room's router takes before new viewers go to another router (on the next worker) fed through pipeToRouter. Default 500.",
    ),
  MEDIA_HLS: z
    .enum(["true", "false", "1", "0"])
    .default("true")
    .transform((v) => v === "true" || v === "1")
    .describe("HLS egress for live rooms (`true`/`false`). Default `true`."),
  MEDIA_HLS_DIR: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Folder for HLS playlists and segments, one subfolder per room. Default `<LIVEDROP_DATA_DIR>/hls`.",
    ),
  MEDIA_HLS_SEGMENT_S: z.coerce
    .number()
    .int()
    .min(1)
    .max(10)
    .default(1)
    .describe("HLS segment length, seconds (also the keyframe request interval). Default 1."),
  MEDIA_HLS_LIST_SIZE: z.coerce
    .number()
    .int()
    .min(2)
    .max(60)
    .default(6)
    .describe("Segments kept in the rolling HLS playlist (older ones are deleted). Default 6."),
  MEDIA_REPLAY: z
    .enum(["true", "false", "1", "0"])
    .default("true")
    .transform((v) => v === "true" || v === "1")
    .describe(
      "Keep each live broadcast's HLS output as a replay (a VOD playlist and its segments) when the room ends (`true`/`false`; needs MEDIA_HLS). Default `true`.",
    ),
  MEDIA_REPLAY_DIR: z
    .string()
    .min(1)
    .optional()
    .describe("Folder for replays, `<room>/<recording id>/` each. Default `<LIVEDROP_DATA_DIR>/replays`."),
  MEDIA_REPLAY_RETENTION_H: z.coerce
    .number()
    .min(0.0001)
    .max(87_600)
    .default(168)
    .describe("A finished replay is deleted this long after it ended, hours. Default 168 (7 days)."),
  MEDIA_REPLAY_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(Number.MAX_SAFE_INTEGER)
    .default(10 * 1024 ** 3)
    .describe(
      "Disk all replays of a media node may use, bytes: past it the oldest finished replays are deleted, and a recording that alone reaches it stops taking segments. Default 10737418240 (10 GiB).",
    ),
  MEDIA_REPLAY_SWEEP_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(86_400_000)
    .default(60_000)
    .describe(
      "How often expired replays are deleted and the disk cap enforced, milliseconds. Default 60000.",
    ),
  MEDIA_INGEST_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .max(600_000)
    .default(10_000)
    .describe(
      "An RTP ingest that sends nothing for this long is closed (the room ends), milliseconds. Default 10000.",
    ),
  MEDIA_FFMPEG_BIN: z
    .string()
    .min(1)
    .default("ffmpeg")
    .describe("ffmpeg binary for HLS egress and `livedrop broadcast`. Default `ffmpeg` (on PATH)."),
  MEDIA_PEER_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(2_000)
    .max(600_000)
    .default(15_000)
    .describe(
      "A WebRTC transport that received nothing (media or RTCP) for this long is closed: a vanished host ends the room, a vanished viewer frees its consumers. mediasoup 3.8.4 has no ICE consent timeout over UDP, so this is how a closed tab is noticed. Milliseconds, default 15000.",
    ),
  MEDIA_SIGNALING_ADDRESS_RATE: z.coerce
    .number()
    .min(0.1)
    .max(1_000_000)
    .default(100)
    .describe(
      "Media signaling calls per client address, per second. Default 100 (HLS files, health and metrics are not counted).",
    ),
  MEDIA_SIGNALING_ADDRESS_BURST: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(300)
    .describe("Burst of media signaling calls per client address after a quiet spell. Default 300."),
  MEDIA_SIGNALING_USER_RATE: z.coerce
    .number()
    .min(0.1)
    .max(1_000_000)
    .default(10)
    .describe("Media signaling calls per signed-in user, per second. Default 10 (a WebRTC join is ~7)."),
  MEDIA_SIGNALING_USER_BURST: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(40)
    .describe("Burst of media signaling calls per signed-in user after a quiet spell. Default 40."),
  MEDIA_HTTP_HEADERS_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(600_000)
    .default(10_000)
    .describe(
      "A media HTTP request whose headers have not all arrived this long after it began is answered 408 and its socket closed (slowloris), milliseconds. Default 10000; at most the request timeout.",
    ),
  MEDIA_HTTP_REQUEST_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(600_000)
    .default(30_000)
    .describe(
      "Longest a media HTTP request (headers and body) may take to arrive, milliseconds. Default 30000. Responses are not bounded by it: event streams stay open.",
    ),
  MEDIA_HTTP_KEEPALIVE_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(600_000)
    .default(5_000)
    .describe(
      "An idle keep-alive connection to the media server is closed after this, milliseconds. Default 5000.",
    ),
  MEDIA_MAX_TRANSPORTS_PER_USER: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(10)
    .describe(
      "Transports (WebRTC and RTP ingest) one user id may hold open on a media node, all rooms together; past it, 429 MEDIA_TRANSPORT_LIMIT. Default 10 (a viewer needs one, a host one or two).",
    ),
  MEDIA_MAX_TRANSPORTS_PER_ROOM: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(4_000)
    .describe(
      "Viewers' receive transports one room may hold on a media node; past it, 429 MEDIA_TRANSPORT_LIMIT. Hosts' transports are not counted, so a host can always go live. Default 4000 (each takes a UDP and a TCP port of the RTC range).",
    ),
  MEDIA_CONNECT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(600_000)
    .default(15_000)
    .describe(
      "A WebRTC transport whose DTLS is not connected this long after it was opened is closed, and its ports and limit slots come back (abandoned or hostile joins), milliseconds. Default 15000.",
    ),
  MEDIA_MAX_ROOMS_PER_USER: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(2)
    .describe(
      "Rooms one host (user id) may hold open on a media node at once: a room opens when its host fetches capabilities, opens a send transport or an ingest, and counts until it ends. Past it, 429 MEDIA_ROOM_LIMIT. Default 2.",
    ),
  MEDIA_MAX_ROOMS: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(200)
    .describe(
      "Rooms (each with its mediasoup routers) a media node holds at once; past it, 429 MEDIA_ROOM_LIMIT. Default 200.",
    ),
  MEDIA_ROOM_IDLE_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(3_600_000)
    .default(60_000)
    .describe(
      "A room that is not live and has no transport this long is closed (a host that never went live), ms. Default 60000.",
    ),
  MEDIA_MAX_EVENT_STREAMS_PER_USER: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(8)
    .describe(
      "Room event streams (SSE) one user id may hold open on a media node; past it, 429 MEDIA_EVENT_STREAM_LIMIT. Default 8.",
    ),
};
