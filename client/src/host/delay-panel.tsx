import { useState } from "preact/hooks";
import type { RoomDelayResponse } from "../../../protocol/index.ts";
import { api } from "../shared/api.ts";
import { count } from "../shared/format.ts";
import { useI18n } from "../shared/i18n.ts";
import { Kpi } from "../shared/kpi.tsx";
import { usePoll } from "../shared/poll.ts";

/** How often the panel asks for the room's delay, ms (the gateway nodes share theirs about every second). */
const POLL_MS = 2_000;

/** Seconds, to the hundredth under a second (WebRTC) and the tenth above (HLS). */
function seconds(ms: number): string {
  return (ms / 1000).toFixed(ms < 1000 ? 2 : 1);
}

/**
 * The room's viewers' video delay (every viewer's latest report, over every gateway node): its
 * median, 95th percentile and longest, per way of watching, and the fair window it implies,
 * which a drop whose window comes from the room's video delay opens with.
 */
export function DelayPanel({ room, token }: { room: string; token: string }) {
  const t = useI18n();
  const [d, setD] = useState<RoomDelayResponse | undefined>();
  const error = usePoll(
    () => api<RoomDelayResponse>(`/api/v1/rooms/${room}/delay`, { token }),
    POLL_MS,
    setD,
  );
  const sources = [
    ["HLS", d?.bySource.hls],
    ["WebRTC", d?.bySource.webrtc],
  ] as const;
  return (
    <section class="panel" aria-labelledby="delay-title" data-testid="delay-panel">
      <h2 id="delay-title">{t("delay.title")}</h2>
      {error ? (
        <p class="bad" role="alert">
          {error.message}
        </p>
      ) : null}
      <p class="kpi-value" data-testid="delay-window">
        {d ? t("delay.window", { s: String(d.impliedWindowMs / 1000) }) : "–"}
      </p>
      <p class="muted">{d && d.reports === 0 ? t("delay.none") : t("delay.help")}</p>
      <div class="kpis">
        <Kpi label={t("delay.reports")} value={count(d?.reports ?? 0)} testid="delay-reports" />
        <Kpi label={t("delay.p50")} value={d?.reports ? `${seconds(d.p50Ms)} s` : "–"} />
        <Kpi label={t("delay.p95")} value={d?.reports ? `${seconds(d.p95Ms)} s` : "–"} testid="delay-p95" />
        <Kpi label={t("delay.max")} value={d?.reports ? `${seconds(d.maxMs)} s` : "–"} />
      </div>
      <ul class="muted" data-testid="delay-sources">
        {sources.map(([name, s]) => (
          <li key={name}>
            {t("delay.source", { name, n: count(s?.count ?? 0), s: seconds(s?.p95Ms ?? 0) })}
          </li>
        ))}
      </ul>
    </section>
  );
}
