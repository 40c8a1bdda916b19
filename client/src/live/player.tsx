import { useEffect, useRef, useState } from "preact/hooks";
import { MediaApi } from "../media/media-api.ts";
import { type PlayerSession, StreamOffline } from "../media/player-session.ts";
import { clientConfig } from "../shared/api.ts";
import { useI18n } from "../shared/i18n.ts";
import type { ServerClock } from "../shared/server-clock.ts";

export type PlayMode = "webrtc" | "hls";
type Phase = "loading" | "playing" | "offline" | "error";

const MODE_KEY = "livedrop.playMode";

/** ?mode=hls|webrtc, else the viewer's last choice, else WebRTC. */
export function initialMode(): PlayMode {
  const q = new URLSearchParams(location.search).get("mode");
  if (q === "hls" || q === "webrtc") return q;
  try {
    const saved = localStorage.getItem(MODE_KEY);
    if (saved === "hls" || saved === "webrtc") return saved;
  } catch {
    // storage blocked
  }
  return "webrtc";
}

/**
 * The livestream: WebRTC when it can (sub-second), HLS through hls.js for scale, switchable, with
 * a latency readout. Each path is a dynamic import, so neither library is in the first load.
 * Follows the media tier's room events: the host going live, stopping, or changing tracks.
 */
export function Player({
  room,
  token,
  clock,
  onProgramTime,
}: {
  room: string;
  token: () => Promise<string>;
  clock: ServerClock;
  /** HLS: program time of the frame on screen (ms), for showing drops in step with the video. */
  onProgramTime: (ms: number | undefined, mode: PlayMode) => void;
}) {
  const t = useI18n();
  const video = useRef<HTMLVideoElement>(null);
  const [mode, setMode] = useState<PlayMode>(initialMode);
  const [phase, setPhase] = useState<Phase>("loading");
  const [fellBack, setFellBack] = useState(false);
  const [latency, setLatency] = useState<number | undefined>();
  const [muted, setMuted] = useState(true);
  const [generation, setGeneration] = useState(0);
  const session = useRef<PlayerSession | undefined>(undefined);

  // Room events: a change of liveness or producers restarts playback.
  useEffect(() => {
    let off: (() => void) | undefined;
    let last = "";
    let cancelled = false;
    (async () => {
      const [cfg, tok] = await Promise.all([clientConfig(), token()]);
      if (cancelled) return;
      off = new MediaApi(cfg.mediaUrl, tok, room).events((s) => {
        const key = `${s.live}|${s.producers.map((p) => p.id).join(",")}`;
        if (key !== last) {
          last = key;
          setGeneration((g) => g + 1);
        }
      });
    })().catch(() => undefined);
    return () => {
      cancelled = true;
      off?.();
    };
  }, [room, token]);

  useEffect(() => {
    const el = video.current;
    if (!el) return;
    let cancelled = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    setPhase("loading");
    setLatency(undefined);
    (async () => {
      const [cfg, tok] = await Promise.all([clientConfig(), token()]);
      const api = new MediaApi(cfg.mediaUrl, tok, room);
      let s: PlayerSession;
      if (mode === "webrtc" && "RTCPeerConnection" in window) {
        try {
          s = await (await import("../media/webrtc-viewer.ts")).watchWebRtc(api, el);
        } catch (err) {
          if (err instanceof StreamOffline) throw err;
          // WebRTC blocked (network, capacity): HLS still reaches this viewer.
          setFellBack(true);
          s = await startHls(api, el);
        }
      } else {
        s = await startHls(api, el);
      }
      if (cancelled) {
        s.close();
        return;
      }
      session.current = s;
      setPhase("playing");
    })().catch((err: unknown) => {
      if (cancelled) return;
      setPhase(err instanceof StreamOffline ? "offline" : "error");
      retry = setTimeout(() => setGeneration((g) => g + 1), 5_000);
    });

    async function startHls(api: MediaApi, el: HTMLVideoElement): Promise<PlayerSession> {
      const state = await api.roomState();
      if (!state.live) throw new StreamOffline();
      return (await import("../media/hls-viewer.ts")).watchHls(api.playlistUrl(state), el, () => clock.now());
    }

    return () => {
      cancelled = true;
      clearTimeout(retry);
      session.current?.close();
      session.current = undefined;
    };
  }, [mode, room, generation, token, clock]);

  // Latency readout once a second; HLS program time four times a second.
  useEffect(() => {
    const slow = setInterval(() => {
      session.current
        ?.latencyMs()
        .then(setLatency)
        .catch(() => undefined);
    }, 1_000);
    const fast = setInterval(() => {
      const s = session.current;
      onProgramTime(s?.programTimeMs(), s?.mode ?? mode);
    }, 250);
    return () => {
      clearInterval(slow);
      clearInterval(fast);
    };
  }, [onProgramTime, mode]);

  const choose = (m: PlayMode) => {
    setFellBack(false);
    setMode(m);
    try {
      localStorage.setItem(MODE_KEY, m);
    } catch {
      // storage blocked
    }
  };

  const active = session.current?.mode ?? mode;
  return (
    <section
      class="player"
      aria-label={t("player.label")}
      data-testid="player"
      data-phase={phase}
      data-mode={active}
    >
      <video ref={video} class="video" playsInline muted={muted} autoPlay data-testid="video" />
      {phase !== "playing" ? (
        <div class="player-overlay" role="status">
          {phase === "loading"
            ? t("player.loading")
            : phase === "offline"
              ? t("player.offline")
              : t("player.error")}
        </div>
      ) : null}
      <div class="player-bar">
        <fieldset class="seg" aria-label={t("player.mode")}>
          {(["webrtc", "hls"] as const).map((m) => (
            <button
              key={m}
              type="button"
              class={`seg-btn ${mode === m ? "on" : ""}`}
              aria-pressed={mode === m}
              onClick={() => choose(m)}
            >
              {m === "webrtc" ? t("player.webrtc") : t("player.hls")}
            </button>
          ))}
        </fieldset>
        <span class="latency" data-testid="latency">
          {latency === undefined
            ? ""
            : t("player.latency", { s: (latency / 1000).toFixed(latency < 1000 ? 2 : 1) })}
          {fellBack ? ` · ${t("player.fellBack")}` : ""}
        </span>
        <button
          type="button"
          class="btn btn-quiet"
          onClick={() => {
            setMuted(!muted);
            video.current?.play().catch(() => undefined);
          }}
        >
          {muted ? t("player.unmute") : t("player.mute")}
        </button>
      </div>
    </section>
  );
}
