import { parseArgs } from "node:util";
import { resolveTokenSecret, TokenService } from "../auth/index.ts";
import { childLogger, config, ValidationError, validate } from "../core/index.ts";
import { ingestOverHttp, startBroadcast } from "../media/index.ts";
import { roomIdSchema } from "../protocol/index.ts";
import { untilSignal } from "./until-signal.ts";

export const BROADCAST_USAGE = `livedrop broadcast --room R --source testsrc|FILE [options]
  Sends a moving test pattern with a tone, or a media file (looped), through ffmpeg as plain RTP
  into the room's ingest (POST /media/v1/rooms/R/ingest). The room is live until Ctrl-C, which
  stops ffmpeg and the room.
  --room R            room to go live in (required)
  --source S          testsrc, or the path of a media file (required)
  --media-url URL     media server (default MEDIA_PUBLIC_URL, else http://MEDIA_HOST:MEDIA_PORT)
  --token T           a host token for the room (default: one signed here with the local secret,
                      GATEWAY_TOKEN_SECRET or <data dir>/token-secret, valid 12 h)
  --codec VP8|H264    video codec sent (default VP8)
  --size WxH          test pattern size (default 640x360)
  --fps N             test pattern frame rate (default 30)
  --kbps N            video bitrate, kbit/s (default 800)`;

/** `livedrop broadcast`: the encoder side of an RTP ingest, for demos, encoders and load tests. */
export async function runBroadcast(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      room: { type: "string" },
      source: { type: "string" },
      "media-url": { type: "string" },
      token: { type: "string" },
      codec: { type: "string", default: "VP8" },
      size: { type: "string", default: "640x360" },
      fps: { type: "string", default: "30" },
      kbps: { type: "string", default: "800" },
    },
    strict: true,
  });
  const room = validate(roomIdSchema, values.room, "--room");
  if (!values.source) throw new ValidationError("--source is required (testsrc or a file path)");
  if (values.codec !== "VP8" && values.codec !== "H264")
    throw new ValidationError("--codec must be VP8 or H264");
  if (!/^\d{2,4}x\d{2,4}$/.test(values.size)) throw new ValidationError("--size: expected WxH, e.g. 640x360");
  const fps = Number(values.fps);
  const kbps = Number(values.kbps);
  if (!(Number.isInteger(fps) && fps >= 1 && fps <= 60)) throw new ValidationError("--fps: 1..60");
  if (!(Number.isInteger(kbps) && kbps >= 50 && kbps <= 20_000))
    throw new ValidationError("--kbps: 50..20000");

  const cfg = config();
  const mediaUrl = (
    values["media-url"] ??
    cfg.MEDIA_PUBLIC_URL ??
    `http://${cfg.MEDIA_HOST}:${cfg.MEDIA_PORT}`
  ).replace(/\/+$/, "");
  const token =
    values.token ??
    (await (
      await TokenService.create({ secret: await resolveTokenSecret(cfg) })
    ).issue({
      userId: `broadcast-${room}`,
      role: "host",
      rooms: [room],
      ttlSeconds: 12 * 3600,
    }));
  const stopRoom = () =>
    fetch(`${mediaUrl}/media/v1/rooms/${room}/stop`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    }).catch(() => undefined);

  let failed: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => {
    failed = resolve;
  });
  const broadcast = await startBroadcast({
    source: values.source,
    open: ingestOverHttp(mediaUrl, room, token),
    ffmpegBin: cfg.MEDIA_FFMPEG_BIN,
    log: childLogger("broadcast"),
    videoCodec: values.codec,
    size: values.size,
    fps,
    videoKbps: kbps,
    onExit: (code, stderr) => {
      process.stderr.write(`ffmpeg stopped (exit ${code}): ${stderr.slice(-500)}\n`);
      failed(1);
    },
  });
  const { video, audio } = broadcast.ingest;
  process.stdout.write(
    [
      `broadcasting ${values.source} into room ${room} on ${mediaUrl} (ffmpeg pid ${broadcast.pid})`,
      `  video ${video?.codec} -> ${video?.ip}:${video?.port}${audio ? `, audio opus -> ${audio.ip}:${audio.port}` : ""}`,
      `  HLS   ${mediaUrl}/hls/${room}/index.m3u8 (after a few seconds)`,
      "Ctrl-C stops the broadcast and the room.",
      "",
    ].join("\n"),
  );
  const code = await Promise.race([
    untilSignal(async () => undefined, { graceMs: cfg.LIVEDROP_STOP_GRACE_MS }),
    exited,
  ]);
  await broadcast.stop();
  await stopRoom();
  return code;
}
