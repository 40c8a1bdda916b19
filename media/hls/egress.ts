import { randomBytes } from "node:crypto";
import { type FSWatcher, watch } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "../../core/index.ts";
import { FfmpegProcess } from "../ffmpeg-process.ts";
import type { types } from "../mediasoup.ts";
import { parsePlaylist } from "./playlist.ts";
import { buildSdp, plainRtpCapabilities, type SdpStream } from "./sdp.ts";
import { freeUdpPair, isUdpPortFree } from "./udp-ports.ts";

export interface HlsEgressOptions {
  readonly room: string;
  readonly router: types.Router;
  readonly producers: readonly types.Producer[];
  /** This room's folder: playlist, segments, SDP. Emptied at start, removed at stop. */
  readonly dir: string;
  readonly segmentS: number;
  readonly listSize: number;
  readonly ffmpegBin: string;
  readonly log: Logger;
  /** The playlist exists (first segment written) or changed. */
  readonly onPlaylist?: () => void;
  /**
   * ffmpeg is taken for hung, killed and restarted when media kept reaching it for this long
   * without a new playlist, ms. Default: STALL_SEGMENTS segment lengths, at least MIN_STALL_MS.
   */
  readonly stallMs?: number;
  /** ffmpeg was found hung and is being restarted (the node's stall counter). */
  readonly onStall?: () => void;
}

export const PLAYLIST = "index.m3u8";
/** Fallback check for a new playlist, in case a file-system event is missed. */
const POLL_MS = 1_000;
/** Playlist updates of each ffmpeg run used to calibrate its program-date-time clock. */
const CALIBRATION_UPDATES = 5;
/** Hung-ffmpeg watchdog: no new playlist for this many segment lengths while media flows. */
const STALL_SEGMENTS = 8;
const MIN_STALL_MS = 10_000;
/** hls.js starts this many target durations behind the live edge (liveSyncDurationCount). */
export const PLAYER_HOLD_BACK_SEGMENTS = 3;

/**
 * HLS for one live room: the room's producers are consumed on PlainTransports (plain RTP, no
 * RTX, no header extensions) aimed at loopback ports ffmpeg reads through an SDP file; ffmpeg
 * transcodes to H.264/AAC and writes a rolling playlist of 1 s segments with program-date-time
 * tags, deleting old segments. A keyframe is requested every segment length (a browser encoder
 * sends one only when asked); ffmpeg is restarted if it dies. stop() releases all of it.
 */
export class HlsEgress {
  private readonly transports: types.PlainTransport[] = [];
  private readonly consumers: types.Consumer[] = [];
  private ffmpeg: FfmpegProcess | undefined;
  private keyframeTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private watcher: FSWatcher | undefined;
  private lastPlaylist = "";
  private calibration = { updates: 0, minLagMs: Number.POSITIVE_INFINITY };
  private stopped = false;
  /**
   * Since when ffmpeg has had media and written nothing, ms epoch: reset by its start, by a new
   * playlist, and by a check that finds no media reached it (a silent source is not its fault).
   */
  private busySince = Date.now();
  /** Bytes sent to ffmpeg at the last check (consumer stats). */
  private bytesAtCheck = 0;
  private watchdogTimer: NodeJS.Timeout | undefined;
  /** Times ffmpeg was killed for hanging. */
  stallRestarts = 0;
  /** The ports ffmpeg listens on (RTP; RTCP is +1). */
  readonly ports: number[] = [];
  readonly startedAt = Date.now();
  /** When the first playlist appeared, ms epoch. */
  firstPlaylistAt: number | undefined;
  /** Seconds a viewer is behind real time, estimated at the last playlist update. */
  latencyEstimateS: number | undefined;
  /** Wall-clock gap between the newest segment's end (corrected date) and its listing, seconds. */
  edgeLagS: number | undefined;
  /**
   * Milliseconds added to ffmpeg's program-date-time tags when the playlist is served. ffmpeg
   * dates a run's first segment with the wall clock at muxer start, which comes after the input
   * probe and the first keyframe wait, so its dates run ahead of the media by up to seconds. A
   * segment is listed the moment the keyframe opening the next one is muxed, so "listed at" minus
   * "date of its end" measures that error (plus the small decode/encode delay, and detection
   * noise, hence the minimum over the run's first updates).
   */
  pdtCorrectionMs = 0;

  private constructor(private readonly o: HlsEgressOptions) {}

  static async start(o: HlsEgressOptions): Promise<HlsEgress> {
    const egress = new HlsEgress(o);
    try {
      await egress.open();
    } catch (err) {
      await egress.stop();
      throw err;
    }
    return egress;
  }

  get ready(): boolean {
    return this.firstPlaylistAt !== undefined;
  }

  get ffmpegPid(): number | undefined {
    return this.ffmpeg?.pid;
  }

  get ffmpegRestarts(): number {
    return this.ffmpeg?.restarts ?? 0;
  }

  /** Kills ffmpeg as if it crashed (restart test). */
  crashFfmpeg(): void {
    this.ffmpeg?.crash();
  }

  /** Stops ffmpeg, closes the consumers and transports, removes the room's files. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.keyframeTimer) clearInterval(this.keyframeTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.watchdogTimer) clearInterval(this.watchdogTimer);
    this.watcher?.close();
    await this.ffmpeg?.stop();
    for (const t of this.transports) t.close();
    await rm(this.o.dir, { recursive: true, force: true });
  }

  private async open(): Promise<void> {
    const { router, dir } = this.o;
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const streams: SdpStream[] = [];
    for (const producer of this.o.producers) {
      const port = await freeUdpPair();
      this.ports.push(port);
      const transport = await router.createPlainTransport({
        listenIp: "127.0.0.1",
        rtcpMux: false,
        comedia: false,
        appData: { hls: this.o.room },
      });
      this.transports.push(transport);
      await transport.connect({ ip: "127.0.0.1", port, rtcpPort: port + 1 });
      const consumer = await transport.consume({
        producerId: producer.id,
        rtpCapabilities: plainRtpCapabilities(router),
        paused: true,
      });
      this.consumers.push(consumer);
      streams.push({ port, consumer });
    }
    const sdpFile = path.join(dir, "input.sdp");
    await writeFile(sdpFile, buildSdp(streams));
    this.ffmpeg = new FfmpegProcess({
      bin: this.o.ffmpegBin,
      args: () => this.ffmpegArgs(sdpFile),
      log: this.o.log,
      name: `hls ${this.o.room}`,
      // Its files are deleted right after: no need to let it finish them.
      stopGraceMs: 0,
      onStart: () => {
        // A new run has a new date error; a restarted ffmpeg decodes from the next keyframe.
        this.calibration = { updates: 0, minLagMs: Number.POSITIVE_INFINITY };
        this.busySince = Date.now();
        setTimeout(() => this.requestKeyFrames(), 300);
      },
    });
    // Media sent before ffmpeg binds its ports would be lost: wait until it holds them.
    for (let waited = 0; waited < 3_000; waited += 50) {
      if (!(await isUdpPortFree(this.ports[0] as number))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const c of this.consumers) await c.resume();
    this.requestKeyFrames();
    this.keyframeTimer = setInterval(() => this.requestKeyFrames(), this.o.segmentS * 1000);
    this.watcher = watch(dir, (_event, name) => {
      if (name && String(name).startsWith(PLAYLIST)) void this.poll();
    });
    this.watcher.on("error", () => undefined);
    this.pollTimer = setInterval(() => void this.poll(), POLL_MS);
    const stallMs = this.o.stallMs ?? Math.max(MIN_STALL_MS, STALL_SEGMENTS * this.o.segmentS * 1000);
    this.watchdogTimer = setInterval(() => void this.checkStall(stallMs), Math.min(2_000, stallMs / 2));
  }

  /** Bytes the HLS consumers have sent to ffmpeg so far. */
  private async bytesToFfmpeg(): Promise<number> {
    let bytes = 0;
    for (const c of this.consumers) {
      const stats = await c.getStats().catch(() => []);
      for (const s of stats) bytes += Number(s.byteCount ?? 0);
    }
    return bytes;
  }

  /**
   * A running ffmpeg that got media for stallMs without writing a playlist is hung (an exit
   * would have restarted it already): killed, so the supervisor starts a fresh one. A source that
   * sends nothing (a paused host) is not ffmpeg's fault and leaves it alone.
   */
  private async checkStall(stallMs: number): Promise<void> {
    const bytes = await this.bytesToFfmpeg();
    const silent = bytes <= this.bytesAtCheck;
    this.bytesAtCheck = bytes;
    if (silent) this.busySince = Date.now();
    const ffmpeg = this.ffmpeg;
    if (this.stopped || !ffmpeg?.running || Date.now() - this.busySince < stallMs) return;
    this.stallRestarts++;
    this.o.onStall?.();
    this.o.log.warn(
      {
        room: this.o.room,
        pid: ffmpeg.pid,
        stalledMs: Date.now() - this.busySince,
        stderr: ffmpeg.stderrTail().slice(-600),
      },
      "HLS ffmpeg writes no segments although media reaches it; restarting it",
    );
    this.busySince = Date.now(); // the fresh run gets a full window
    ffmpeg.crash();
  }

  private ffmpegArgs(sdpFile: string): string[] {
    const { segmentS, listSize, dir } = this.o;
    const run = `${Date.now().toString(36)}${randomBytes(2).toString("hex")}`;
    const hasVideo = this.consumers.some((c) => c.kind === "video");
    const hasAudio = this.consumers.some((c) => c.kind === "audio");
    return [
      ...["-hide_banner", "-loglevel", "error", "-nostdin"],
      ...["-protocol_whitelist", "file,rtp,udp"],
      // A short probe: ffmpeg starts muxing (and dating segments) sooner after the first frame.
      ...["-fflags", "+genpts", "-analyzeduration", "1000000", "-probesize", "1000000"],
      ...["-i", sdpFile],
      ...(hasVideo ? ["-map", "0:v:0"] : []),
      ...(hasAudio ? ["-map", "0:a:0"] : []),
      ...(hasVideo
        ? [
            ...["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p"],
            // Frames keep their RTP times (equal times dropped), never duplicated up to a guessed
            // rate: a run that joins mid-stream can guess 90k fps and then drown in duplicates.
            ...["-fps_mode", "vfr"],
            // A keyframe at every segment boundary: segments start independently.
            ...["-force_key_frames", `expr:gte(t,n_forced*${segmentS})`, "-sc_threshold", "0"],
          ]
        : []),
      ...(hasAudio ? ["-c:a", "aac", "-b:a", "96k", "-ac", "2", "-ar", "48000"] : []),
      ...["-f", "hls", "-hls_time", String(segmentS), "-hls_list_size", String(listSize)],
      // append_list: a restarted ffmpeg continues the playlist (after a discontinuity) instead of
      // starting its numbering over, which players would take for going back in time.
      ...["-hls_flags", "delete_segments+program_date_time+independent_segments+temp_file+append_list"],
      ...["-hls_segment_filename", path.join(dir, `${run}_%05d.ts`)],
      path.join(dir, PLAYLIST),
    ];
  }

  private requestKeyFrames(): void {
    for (const c of this.consumers)
      if (c.kind === "video" && !c.closed) c.requestKeyFrame().catch(() => undefined);
  }

  /** The playlist as served: ffmpeg's, with the program-date-time tags corrected. */
  correctPlaylist(text: string): string {
    if (this.pdtCorrectionMs === 0) return text;
    return text.replace(/^#EXT-X-PROGRAM-DATE-TIME:(.+)$/gm, (line, date: string) => {
      const t = Date.parse(date.trim());
      return Number.isNaN(t)
        ? line
        : `#EXT-X-PROGRAM-DATE-TIME:${new Date(t + this.pdtCorrectionMs).toISOString()}`;
    });
  }

  /** Notices a new playlist version: readiness, date calibration, latency estimate. */
  private async poll(): Promise<void> {
    const seenAt = Date.now();
    let text: string;
    try {
      text = await readFile(path.join(this.o.dir, PLAYLIST), "utf8");
    } catch {
      return; // not written yet, or being replaced: the next event or poll looks again
    }
    if (text === this.lastPlaylist || this.stopped) return;
    this.lastPlaylist = text;
    this.busySince = Date.now();
    const edge = parsePlaylist(text);
    if (edge.segments === 0) return;
    if (edge.edgeMs !== undefined) {
      const lagMs = seenAt - edge.edgeMs;
      if (this.calibration.updates < CALIBRATION_UPDATES) {
        this.calibration.updates++;
        this.calibration.minLagMs = Math.min(this.calibration.minLagMs, lagMs);
        this.pdtCorrectionMs = Math.round(Math.min(0, this.calibration.minLagMs));
      }
      this.edgeLagS = (lagMs - this.pdtCorrectionMs) / 1000;
      this.latencyEstimateS = Math.max(0, this.edgeLagS) + PLAYER_HOLD_BACK_SEGMENTS * edge.targetDurationS;
    }
    if (this.firstPlaylistAt === undefined) {
      this.firstPlaylistAt = seenAt;
      this.o.log.info({ room: this.o.room, afterMs: seenAt - this.startedAt }, "HLS playlist ready");
    }
    this.o.onPlaylist?.();
  }
}
