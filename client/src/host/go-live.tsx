import { useEffect, useRef, useState } from "preact/hooks";
import { MediaApi, type MediaRoom } from "../media/media-api.ts";
import type { Publication } from "../media/publisher.ts";
import { clientConfig } from "../shared/api.ts";
import { useI18n } from "../shared/i18n.ts";

type Phase = "idle" | "starting" | "live" | "stopping" | "error";

/** Picture heights a host can send; lower ones for a weak uplink or a busy machine. */
const QUALITIES = [720, 540, 360] as const;
type Quality = (typeof QUALITIES)[number];
const QUALITY_KEY = "livedrop.hostQuality";

/** ?quality=360|540|720, else the host's last choice, else 720p. */
function initialQuality(): Quality {
  const fromUrl = Number(new URLSearchParams(location.search).get("quality"));
  if (QUALITIES.includes(fromUrl as Quality)) return fromUrl as Quality;
  try {
    const saved = Number(localStorage.getItem(QUALITY_KEY));
    if (QUALITIES.includes(saved as Quality)) return saved as Quality;
  } catch {
    // storage blocked
  }
  return 720;
}

/**
 * Going live: the camera and microphone over WebRTC (mediasoup-client, loaded when the host
 * presses the button), or an encoder / test pattern through the RTP ingest command. Shows what
 * the media tier reports about the room, whoever feeds it.
 */
export function GoLive({ room, token }: { room: string; token: string }) {
  const t = useI18n();
  const preview = useRef<HTMLVideoElement>(null);
  const [phase, setPhase] = useState<Phase>("idle");
  const [error, setError] = useState("");
  const [quality, setQuality] = useState<Quality>(initialQuality);
  const [media, setMedia] = useState<Pick<MediaRoom, "live" | "producers"> | undefined>();
  const publication = useRef<Publication | undefined>(undefined);
  const stream = useRef<MediaStream | undefined>(undefined);

  useEffect(() => {
    let off: (() => void) | undefined;
    let cancelled = false;
    clientConfig()
      .then((cfg) => {
        if (cancelled) return;
        const api = new MediaApi(cfg.mediaUrl, token, room);
        api
          .roomState()
          .then((s) => setMedia(s))
          .catch(() => undefined);
        off = api.events(setMedia);
      })
      .catch(() => undefined);
    return () => {
      cancelled = true;
      off?.();
      publication.current?.stop().catch(() => undefined);
      for (const track of stream.current?.getTracks() ?? []) track.stop();
    };
  }, [room, token]);

  const start = async () => {
    setPhase("starting");
    setError("");
    try {
      const cfg = await clientConfig();
      const s = await navigator.mediaDevices.getUserMedia({
        video: {
          width: { ideal: Math.round((quality * 16) / 9) },
          height: { ideal: quality },
          frameRate: { ideal: 30 },
        },
        audio: true,
      });
      stream.current = s;
      if (preview.current) {
        preview.current.srcObject = s;
        preview.current.play().catch(() => undefined);
      }
      const { publish } = await import("../media/publisher.ts");
      publication.current = await publish(new MediaApi(cfg.mediaUrl, token, room), s);
      setPhase("live");
    } catch (err) {
      for (const track of stream.current?.getTracks() ?? []) track.stop();
      stream.current = undefined;
      setError((err as Error).message);
      setPhase("error");
    }
  };

  const stop = async () => {
    setPhase("stopping");
    await publication.current?.stop().catch(() => undefined);
    publication.current = undefined;
    for (const track of stream.current?.getTracks() ?? []) track.stop();
    stream.current = undefined;
    if (preview.current) preview.current.srcObject = null;
    setPhase("idle");
  };

  return (
    <section class="panel" aria-labelledby="golive-title" data-testid="go-live" data-phase={phase}>
      <h2 id="golive-title">{t("host.live.title")}</h2>
      <video ref={preview} class="preview" muted playsInline aria-label={t("host.live.preview")} />
      <div class="row" style={{ marginTop: "8px" }}>
        <label class="row">
          {t("host.live.quality")}
          <select
            value={quality}
            disabled={phase === "live" || phase === "starting"}
            onChange={(e) => {
              const q = Number((e.target as HTMLSelectElement).value) as Quality;
              setQuality(q);
              try {
                localStorage.setItem(QUALITY_KEY, String(q));
              } catch {
                // storage blocked
              }
            }}
          >
            {QUALITIES.map((q) => (
              <option key={q} value={q}>
                {q}p
              </option>
            ))}
          </select>
        </label>
        {phase === "live" || phase === "stopping" ? (
          <button
            type="button"
            class="btn"
            onClick={stop}
            disabled={phase === "stopping"}
            data-testid="stop-live"
          >
            {t("host.live.stop")}
          </button>
        ) : (
          <button
            type="button"
            class="btn btn-primary"
            onClick={start}
            disabled={phase === "starting"}
            data-testid="start-live"
          >
            {phase === "starting" ? t("host.live.starting") : t("host.live.start")}
          </button>
        )}
        <span role="status" data-testid="media-state">
          {media
            ? media.live
              ? t("host.live.onAir", { n: media.producers.length })
              : t("host.live.offAir")
            : t("host.live.unknown")}
        </span>
      </div>
      {error ? (
        <p class="bad" role="alert">
          {error}
        </p>
      ) : null}
      <details>
        <summary>{t("host.live.ingest")}</summary>
        <p class="muted">{t("host.live.ingestHelp")}</p>
        <pre>{`npx livedrop broadcast --room ${room} --source testsrc\nnpx livedrop broadcast --room ${room} --source ./show.mp4`}</pre>
      </details>
    </section>
  );
}
