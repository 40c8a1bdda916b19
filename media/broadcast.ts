import { execFile } from "node:child_process";
import { access } from "node:fs/promises";
import { promisify } from "node:util";
import { ErrorCode, LivedropError, type Logger, SetupError, ValidationError } from "../core/index.ts";
import { FfmpegProcess } from "./ffmpeg-process.ts";
import type { IngestRequest, IngestResponse, IngestStream } from "./ingest.ts";

export interface BroadcastOptions {
  /** `testsrc` (a moving test pattern and a tone) or the path of a media file (looped). */
  readonly source: string;
  /** Opens the ingest: over HTTP (CLI) or in-process (launcher). */
  readonly open: (request: IngestRequest) => Promise<IngestResponse>;
  readonly ffmpegBin?: string;
  readonly log: Logger;
  /** Test pattern size, `WxH`. Default 640x360. */
  readonly size?: string;
  /** Test pattern frame rate. Default 30. */
  readonly fps?: number;
  /** Video bitrate, kbit/s. Default 800. */
  readonly videoKbps?: number;
  /** VP8 (default, what browsers decode everywhere) or H264 (constrained baseline). */
  readonly videoCodec?: "VP8" | "H264";
  /** ffmpeg stopped (it ended or failed) without stop() being called. */
  readonly onExit?: (code: number | null, stderr: string) => void;
}

export interface Broadcast {
  readonly ingest: IngestResponse;
  readonly pid: number | undefined;
  /** Stops ffmpeg (the ingest itself closes when the room stops, or goes silent). */
  stop(): Promise<void>;
}

const execFileP = promisify(execFile);

/**
 * Sends a test pattern or a file through ffmpeg as plain RTP into the room's ingest
 * PlainTransports: VP8 (or H.264) video and Opus audio, with the SSRCs and payload types the
 * ingest assigned, RTCP on its own port. A keyframe every second lets WebRTC viewers start
 * fast (a PLI from mediasoup does not reach ffmpeg). ffmpeg is not restarted: a comedia
 * transport stays locked to the first sender's ports, so a new run needs a new ingest.
 */
export async function startBroadcast(o: BroadcastOptions): Promise<Broadcast> {
  const bin = o.ffmpegBin ?? "ffmpeg";
  const testsrc = o.source === "testsrc";
  if (!testsrc) {
    await access(o.source).catch(() => {
      throw new ValidationError(`--source: no such file ${o.source} (or use testsrc)`);
    });
  }
  const withAudio = testsrc || (await hasAudio(o.source, bin));
  const videoCodec = o.videoCodec ?? "VP8";
  const ingest = await o.open({
    video: { codec: videoCodec },
    ...(withAudio ? { audio: { codec: "opus" } } : {}),
  });
  if (!ingest.video) throw new SetupError(ErrorCode.INTERNAL, "the ingest answered without a video stream");
  const fps = o.fps ?? 30;
  const input = testsrc
    ? [
        ...["-re", "-f", "lavfi", "-i", `testsrc2=size=${o.size ?? "640x360"}:rate=${fps}`],
        ...["-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"],
      ]
    : ["-re", "-stream_loop", "-1", "-i", o.source];
  const audioInput = testsrc ? "1:a:0" : "0:a:0";
  const kbps = o.videoKbps ?? 800;
  const video =
    videoCodec === "VP8"
      ? ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-error-resilient", "1"]
      : ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-profile:v", "baseline"];
  const args = [
    ...["-hide_banner", "-loglevel", "error", "-nostdin"],
    ...input,
    ...["-map", "0:v:0", ...video, "-pix_fmt", "yuv420p", "-b:v", `${kbps}k`, "-maxrate", `${kbps}k`],
    ...["-bufsize", `${kbps}k`, "-g", String(fps), "-keyint_min", String(fps)],
    ...rtpOut(ingest.video),
    ...(ingest.audio
      ? [
          ...["-map", audioInput, "-c:a", "libopus", "-b:a", "64k", "-ac", "2", "-ar", "48000"],
          ...rtpOut(ingest.audio),
        ]
      : []),
  ];
  let stopping = false;
  const ffmpeg = new FfmpegProcess({
    bin,
    args,
    log: o.log,
    name: "broadcast",
    restart: false,
    onExit: (code) => {
      if (!stopping) o.onExit?.(code, ffmpeg.stderrTail());
    },
  });
  return {
    ingest,
    get pid() {
      return ffmpeg.pid;
    },
    async stop() {
      stopping = true;
      await ffmpeg.stop();
    },
  };
}

/**
 * Opens an ingest over the media HTTP API (`POST /media/v1/rooms/:room/ingest`) with a host
 * token; an error reply becomes a typed error with the server's code.
 */
export function ingestOverHttp(mediaUrl: string, room: string, token: string) {
  return async (request: IngestRequest): Promise<IngestResponse> => {
    const res = await fetch(
      `${mediaUrl.replace(/\/+$/, "")}/media/v1/rooms/${encodeURIComponent(room)}/ingest`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(request),
      },
    );
    const body = (await res.json().catch(() => ({}))) as IngestResponse & {
      error?: { code: string; message: string };
    };
    if (!res.ok) {
      const code = body.error?.code ?? "INTERNAL";
      throw new RemoteError(
        code,
        `media server refused the ingest (${res.status} ${code}): ${body.error?.message ?? ""}`,
      );
    }
    return body;
  };
}

/** An error answered by the media server: its code, as the server sent it. */
export class RemoteError extends LivedropError {
  constructor(code: string, message: string) {
    super(ErrorCode.INTERNAL, message, { remoteCode: code });
  }
}

function rtpOut(s: IngestStream): string[] {
  return [
    ...["-f", "rtp", "-ssrc", String(s.ssrc), "-payload_type", String(s.payloadType)],
    `rtp://${s.ip}:${s.port}?rtcpport=${s.rtcpPort}&pkt_size=1200`,
  ];
}

/** Whether a file has an audio stream (ffprobe sits next to ffmpeg). */
async function hasAudio(file: string, ffmpegBin: string): Promise<boolean> {
  const ffprobe = ffmpegBin.replace(/ffmpeg$/, "ffprobe");
  try {
    const { stdout } = await execFileP(ffprobe, [
      ...["-v", "error", "-select_streams", "a", "-show_entries", "stream=index", "-of", "csv=p=0"],
      file,
    ]);
    return stdout.trim().length > 0;
  } catch {
    return false;
  }
}
