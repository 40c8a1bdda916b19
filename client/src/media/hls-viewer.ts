import type { PlayerSession } from "./player-session.ts";

/**
 * Watches the room's HLS egress through hls.js (the light build: no subtitles, alternate audio or
 * DRM, which a live sale never uses), loaded on demand. Safari plays HLS natively; there the
 * program time comes from the video's own date (getStartDate).
 */
export async function watchHls(
  playlistUrl: string,
  video: HTMLVideoElement,
  serverNow: () => number,
): Promise<PlayerSession> {
  const { default: Hls } = await import("hls.js/light");
  if (!Hls.isSupported()) {
    if (!video.canPlayType("application/vnd.apple.mpegurl")) throw new Error("HLS is not supported here");
    video.src = playlistUrl;
    video.play().catch(() => undefined);
    const nativeDate = () => {
      const start = (video as HTMLVideoElement & { getStartDate?: () => Date }).getStartDate?.();
      const ms = start?.getTime();
      return ms && Number.isFinite(ms) ? ms + video.currentTime * 1000 : undefined;
    };
    return {
      mode: "hls",
      programTimeMs: nativeDate,
      latencyMs: async () => {
        const at = nativeDate();
        return at === undefined ? undefined : serverNow() - at;
      },
      close() {
        video.removeAttribute("src");
        video.load();
      },
    };
  }
  const hls = new Hls({
    // Live edge a few 1 s segments back: low latency without stalling on a phone network.
    liveSyncDurationCount: 2,
    liveMaxLatencyDurationCount: 6,
    maxLiveSyncPlaybackRate: 1.5,
    backBufferLength: 10,
  });
  hls.loadSource(playlistUrl);
  hls.attachMedia(video);
  hls.on(Hls.Events.MANIFEST_PARSED, () => {
    video.play().catch(() => undefined);
  });
  hls.on(Hls.Events.ERROR, (_e, data) => {
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    else setTimeout(() => hls.startLoad(), 1_000); // network: the stream may still be starting
  });
  const programTimeMs = () => hls.playingDate?.getTime() ?? undefined;
  return {
    mode: "hls",
    programTimeMs,
    async latencyMs() {
      const at = programTimeMs();
      return at === undefined ? undefined : serverNow() - at;
    },
    close() {
      hls.destroy();
    },
  };
}
