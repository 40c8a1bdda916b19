import { useMemo, useRef, useState } from "preact/hooks";
import type { RoomInsight } from "../../../protocol/index.ts";
import { api } from "../shared/api.ts";
import { pushSample, TimeChart } from "../shared/chart.tsx";
import { count, money, percent } from "../shared/format.ts";
import { useI18n } from "../shared/i18n.ts";
import { gmvOf, Kpi } from "../shared/kpi.tsx";
import { usePoll } from "../shared/poll.ts";

/**
 * The host's live figures, polled every two seconds: viewers, holds per second (from the change
 * in holds between polls), units sold and GMV as charts; conversion and expiries as numbers.
 */
export function StatsPanel({ room, token }: { room: string; token: string }) {
  const t = useI18n();
  const [latest, setLatest] = useState<RoomInsight | undefined>();
  const [data, setData] = useState<number[][]>([[], [], [], [], []]);
  const prev = useRef<RoomInsight | undefined>(undefined);

  const error = usePoll(
    () => api<RoomInsight>(`/api/v1/rooms/${room}/stats`, { token }),
    2_000,
    (r) => {
      const p = prev.current;
      const dt = p ? (r.serverTime - p.serverTime) / 1000 : 0;
      const holdsPerSec = p && dt > 0 ? Math.max(0, (r.totals.holds - p.totals.holds) / dt) : 0;
      prev.current = r;
      setLatest(r);
      // The GMV chart plots major units (cents / 100): its shape, not its exact figure, which the KPI gives.
      setData((d) =>
        pushSample(d, [
          r.serverTime / 1000,
          r.viewers,
          holdsPerSec,
          r.totals.unitsSold,
          gmvOf(r).minor / 100,
        ]),
      );
    },
    true,
  );

  const series = useMemo(
    () => ({
      viewers: [{ label: t("stats.viewers"), color: "#7cc4ff" }],
      holds: [{ label: t("stats.holdsPerSec"), color: "#ffcc4d" }],
      sold: [{ label: t("stats.sold"), color: "#3ddc97" }],
      gmv: [{ label: t("stats.gmv"), color: "#ff3d6e" }],
    }),
    [t],
  );
  const col = (i: number) => [data[0] ?? [], data[i] ?? []];
  const last = (i: number) => data[i]?.at(-1) ?? 0;
  const gmv = latest ? gmvOf(latest) : undefined;

  return (
    <section class="panel" aria-labelledby="stats-title" data-testid="stats">
      <h2 id="stats-title">{t("stats.title")}</h2>
      {error ? (
        <p class="bad" role="alert">
          {error.message}
        </p>
      ) : null}
      <div class="kpis">
        <Kpi label={t("stats.viewers")} value={count(latest?.viewers ?? 0)} />
        <Kpi label={t("stats.holdsPerSec")} value={last(2).toFixed(1)} />
        <Kpi label={t("stats.sold")} value={count(latest?.totals.unitsSold ?? 0)} />
        <Kpi label={t("stats.gmv")} value={gmv ? money(gmv.minor, gmv.currency) : "–"} testid="host-gmv" />
        <Kpi label={t("stats.conversion")} value={percent(latest?.conversion ?? null)} />
        <Kpi label={t("stats.expiries")} value={count(latest?.totals.expiredUnits ?? 0)} />
      </div>
      <div class="grid cols" style={{ padding: "12px 0 0" }}>
        <figure>
          <figcaption class="kpi-label">{t("stats.viewers")}</figcaption>
          <TimeChart title={t("stats.viewers")} series={series.viewers} data={col(1)} />
        </figure>
        <figure>
          <figcaption class="kpi-label">{t("stats.holdsPerSec")}</figcaption>
          <TimeChart title={t("stats.holdsPerSec")} series={series.holds} data={col(2)} />
        </figure>
        <figure>
          <figcaption class="kpi-label">{t("stats.sold")}</figcaption>
          <TimeChart title={t("stats.sold")} series={series.sold} data={col(3)} />
        </figure>
        <figure>
          <figcaption class="kpi-label">{t("stats.gmv")}</figcaption>
          <TimeChart title={t("stats.gmv")} series={series.gmv} data={col(4)} />
        </figure>
      </div>
    </section>
  );
}
