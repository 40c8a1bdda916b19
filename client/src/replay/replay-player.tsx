import { useEffect, useRef, useState } from "preact/hooks";
import type { Replay } from "../../../protocol/index.ts";
import { useI18n } from "../shared/i18n.ts";

type Phase = "loading" | "playing" | "error";

/** What the page can ask of the player. */
export interface ReplayControls {
  seek(offsetS: number): void;
}

/**
 * Plays a recording (a VOD playlist) with hls.js, loaded on demand; Safari plays HLS natively.
 * Reports the program time on screen four times a second: hls.js's date of the frame
 * (program-date-time tags), else the recording's start plus the position.
 */
export function ReplayPlayer({
  replay,
  onProgramTime,
  controls,
}: {
  replay: Replay;
  onProgramTime: (ms: number | undefined) => void;
  controls: (c: ReplayControls) => void;
}) {
  const t = useI18n();
  const video = useRef<HTMLVideoElement>(null);
  const [phase, setPhase] = useState<Phase>("loading");
  const [programMs, setProgramMs] = useState<number | undefined>();

  useEffect(() => {
    const el = video.current;
    if (!el) return;
    let cancelled = false;
    let close: () => void = () => undefined;
    let date: () => number | undefined = () => undefined;
    setPhase("loading");
    (async () => {
      const { default: Hls } = await import("hls.js/light");
      if (cancelled) return;
      if (!Hls.isSupported()) {
        el.src = replay.playlistUrl;
        close = () => {
          el.removeAttribute("src");
          el.load();
        };
        return;
      }
      const hls = new Hls({ backBufferLength: 30 });
      hls.loadSource(replay.playlistUrl);
      hls.attachMedia(el);
      hls.on(Hls.Events.MANIFEST_PARSED, () => {
        el.play().catch(() => undefined);
      });
      hls.on(Hls.Events.ERROR, (_e, data) => {
        if (!data.fatal) return;
        if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
        else setPhase("error");
      });
      date = () => hls.playingDate?.getTime() ?? undefined;
      close = () => hls.destroy();
    })().catch(() => !cancelled && setPhase("error"));
    const onPlaying = () => setPhase("playing");
    el.addEventListener("playing", onPlaying);
    const tick = setInterval(() => {
      const ms = date() ?? (el.readyState > 0 ? replay.startedAt + el.currentTime * 1000 : undefined);
      setProgramMs(ms);
      onProgramTime(ms);
    }, 250);
    controls({
      seek(offsetS: number) {
        el.currentTime = offsetS;
        el.play().catch(() => undefined);
      },
    });
    return () => {
      cancelled = true;
      clearInterval(tick);
      el.removeEventListener("playing", onPlaying);
      close();
    };
  }, [replay, onProgramTime, controls]);

  return (
    <section
      class="player"
      aria-label={t("replay.player")}
      data-testid="replay-player"
      data-phase={phase}
      data-program-time={programMs === undefined ? "" : String(Math.round(programMs))}
    >
      <video ref={video} class="video" playsInline muted autoPlay controls data-testid="video" />
      {phase === "loading" ? (
        <div class="player-overlay" role="status">
          {t("replay.loading")}
        </div>
      ) : phase === "error" ? (
        <div class="player-overlay" role="status">
          {t("replay.error")}
        </div>
      ) : null}
    </section>
  );
}
