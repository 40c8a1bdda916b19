import { useEffect, useRef, useState } from "preact/hooks";
import { MediaApi, type MediaRoom } from "../media/media-api.ts";
import { type PlayerSession, StreamOffline } from "../media/player-session.ts";
import { clientConfig } from "../shared/api.ts";
import { type MessageKey, useI18n } from "../shared/i18n.ts";
import type { ServerClock } from "../shared/server-clock.ts";

export type PlayMode = "webrtc" | "hls";
type Phase = "loading" | "starting" | "playing" | "offline" | "error";
type MediaState = Pick<MediaRoom, "live" | "producers" | "hls">;

const MODE_KEY = "livedrop.playMode";
const PHASE_TEXT: Record<Exclude<Phase, "playing">, MessageKey> = {
  loading: "player.loading",
  starting: "player.starting",
  offline: "player.offline",
  error: "player.error",
};

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
  onDelay,
}: {
  room: string;
  token: () => Promise<string>;
  clock: ServerClock;
  /** HLS: program time of the frame on screen (ms), for showing drops in step with the video. */
  onProgramTime: (ms: number | undefined, mode: PlayMode) => void;
  /** Each playback delay sample (the latency readout's), for the room's delay reports. */
  onDelay?: (ms: number, mode: PlayMode) => void;
}) {
  const t = useI18n();
  const video = useRef<HTMLVideoElement>(null);
  const [mode, setMode] = useState<PlayMode>(initialMode);
  const [phase, setPhase] = useState<Phase>("loading");
  const [fellBack, setFellBack] = useState(false);
  const [latency, setLatency] = useState<number | undefined>();
  const [muted, setMuted] = useState(true);
  const [retries, setRetries] = useState(0);
  const [media, setMedia] = useState<MediaState | undefined>();
  const session = useRef<PlayerSession | undefined>(undefined);

  // The room's media state: pushed by the media tier (SSE), fetched once if no push comes.
  useEffect(() => {
    let off: (() => void) | undefined;
    let cancelled = false;
    let fallback: ReturnType<typeof setTimeout> | undefined;
    const fetchState = async (): Promise<void> => {
      const [cfg, tok] = await Promise.all([clientConfig(), token()]);
      const s = await new MediaApi(cfg.mediaUrl, tok, room).roomState();
      if (!cancelled) setMedia((m) => m ?? s);
    };
    const poll = () => {
      fetchState().catch(() => {
        if (cancelled) return;
        setPhase("error");
        fallback = setTimeout(poll, 5_000);
      });
    };
    (async () => {
      const [cfg, tok] = await Promise.all([clientConfig(), token()]);
      if (cancelled) return;
      off = new MediaApi(cfg.mediaUrl, tok, room).events((s) => setMedia(s));
      fallback = setTimeout(poll, 3_000);
    })().catch(() => poll());
    return () => {
      cancelled = true;
      clearTimeout(fallback);
      off?.();
    };
  }, [room, token]);

  // What playback depends on: WebRTC on the host's producers, HLS on the playlist being ready.
  const streamKey = !media
    ? "unknown"
    : !media.live
      ? "offline"
      : mode === "hls"
        ? `hls|${media.hls ? "ready" : "starting"}`
        : `webrtc|${media.producers.map((p) => p.id).join(",")}`;

  useEffect(() => {
    const el = video.current;
    if (!el || !media) return;
    if (!media.live) {
      setPhase("offline");
      return;
    }
    if (mode === "hls" && !media.hls) {
      setPhase("starting");
      // The media tier pushes the playlist's readiness; ask as well, in case a push is missed.
      const check = setTimeout(() => {
        Promise.all([clientConfig(), token()])
          .then(([cfg, tok]) => new MediaApi(cfg.mediaUrl, tok, room).roomState())
          .then((s) => (s.hls ? setMedia(s) : setRetries((n) => n + 1)))
          .catch(() => setRetries((n) => n + 1));
      }, 3_000);
      return () => clearTimeout(check);
    }
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
      retry = setTimeout(() => setRetries((n) => n + 1), 5_000);
    });

    async function startHls(api: MediaApi, el: HTMLVideoElement): Promise<PlayerSession> {
      const state = await api.roomState();
      if (!state.live || !state.hls) throw new StreamOffline();
      return (await import("../media/hls-viewer.ts")).watchHls(api.playlistUrl(state), el, () => clock.now());
    }

    return () => {
      cancelled = true;
      clearTimeout(retry);
      session.current?.close();
      session.current = undefined;
    };
    // `streamKey` stands for the parts of `media` that matter; other pushes change nothing.
  }, [mode, room, streamKey, retries, token, clock]);

  // Latency readout once a second; HLS program time four times a second.
  useEffect(() => {
    const slow = setInterval(() => {
      const s = session.current;
      s?.latencyMs()
        .then((ms) => {
          setLatency(ms);
          if (ms !== undefined) onDelay?.(ms, s.mode);
        })
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
  }, [onProgramTime, onDelay, mode]);

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
          {t(PHASE_TEXT[phase])}
          {phase === "offline" ? (
            // Off air: the room's last broadcast, with its products, is on the replay page.
            <a class="btn" href={`/replay/${encodeURIComponent(room)}`} data-testid="replay-link">
              {t("player.watchReplay")}
            </a>
          ) : null}
        </div>
      ) : null}
      <div class="player-bar">
        <fieldset class="seg">
          <legend class="sr-only">{t("player.mode")}</legend>
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
