import {
  type Config,
  childLogger,
  connectRedis,
  type RedisClient,
  redisTargetFromConfig,
} from "../core/index.ts";
import { type Broadcast, startBroadcast } from "./broadcast.ts";
import { MediaTier } from "./tier.ts";

export interface MediaNode {
  readonly tier: MediaTier | undefined;
  /** What runs where, for the launcher's summary. */
  readonly lines: string[];
  /** Stops the demo encoder and the tier; safe to call twice. */
  stop(): Promise<void>;
}

/** A crashed demo encoder is started again after this long, milliseconds. */
const DEMO_RESTART_MS = 2_000;

/**
 * The media tier as `npm start` runs it: the tier from the configuration plus, when `demoRoom`
 * is set, a test pattern broadcast into that room in-process (so the demo room is always live).
 * The shadow kill switch is read through `redis`, or through a connection of its own to the
 * configured Redis. A tier that cannot start (no mediasoup worker binary, port taken) is reported
 * in the lines and the rest of the stack runs without it.
 */
export async function startMediaNode(
  cfg: Config,
  o: { demoRoom?: string; redis?: RedisClient } = {},
): Promise<MediaNode> {
  const log = childLogger("media");
  let tier: MediaTier;
  // Few retries: a missing Redis must not hold up the start (the switch then reads as off).
  const ownRedis = o.redis
    ? undefined
    : connectRedis(redisTargetFromConfig(cfg), { maxRetriesPerRequest: 2 });
  ownRedis?.on("error", (err) => log.debug({ err: err.message }, "media redis connection error"));
  const redis = o.redis ?? (ownRedis as RedisClient);
  try {
    tier = await MediaTier.create(cfg, { redis, log });
  } catch (err) {
    ownRedis?.disconnect();
    log.error({ err: (err as Error).message }, "media tier not started");
    return {
      tier: undefined,
      lines: [`media        NOT running: ${(err as Error).message}`],
      stop: async () => undefined,
    };
  }
  const lines = [
    `media        ${tier.publicUrl}  WebRTC signaling /media/v1/rooms/:room, HLS /hls/:room/index.m3u8, metrics /metrics; ${tier.pool.size} mediasoup worker(s)`,
  ];
  let broadcast: Broadcast | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  const room = o.demoRoom;
  const demo = async (): Promise<void> => {
    if (stopped || !room) return;
    try {
      broadcast = await startBroadcast({
        source: "testsrc",
        open: (request) => tier.openIngest(room, request),
        ffmpegBin: cfg.MEDIA_FFMPEG_BIN,
        log,
        size: "640x360",
        fps: 25,
        videoKbps: 600,
        onExit: (code, stderr) => {
          log.warn({ code, stderr: stderr.slice(-300) }, "demo encoder stopped; starting it again");
          // Its comedia transports are locked to the dead process's ports: a new run needs a new ingest.
          tier.stopRoom(room);
          restartTimer = setTimeout(() => void demo(), DEMO_RESTART_MS);
        },
      });
    } catch (err) {
      log.error({ err: (err as Error).message }, "demo broadcast failed to start");
    }
  };
  if (room) {
    await demo();
    lines.push(
      `demo stream  room "${room}" live from a test pattern: WebRTC via /media/v1/rooms/${room}, HLS ${tier.publicUrl}/hls/${room}/index.m3u8`,
    );
  }
  return {
    tier,
    lines,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (restartTimer) clearTimeout(restartTimer);
      await broadcast?.stop();
      await tier.close();
      ownRedis?.disconnect();
    },
  };
}
