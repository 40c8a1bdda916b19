import type { RoomInsight } from "../../../protocol/index.ts";
import { financeOfInsight } from "../host/reports-data.ts";
import { FORMAT_LABEL } from "../host/reports-panel.tsx";
import { type ChartSeries, TimeChart } from "../shared/chart.tsx";
import { count, money, percent } from "../shared/format.ts";
import { useI18n } from "../shared/i18n.ts";
import { gmvOf, Kpi, STATE_LABEL } from "../shared/kpi.tsx";
import type { RoomRates } from "./rates.ts";

/** Drops a card lists (the newest first). */
const SHOWN_DROPS = 6;

/**
 * One room on the wall: GMV with its coupon cost and net GMV, orders per second, buy clicks and draw entries per second (a fair
 * window's or raffle's presses are entries, not holds), stock, format and net GMV per drop, and
 * the buying funnel.
 */
export function RoomCard({
  room,
  rates,
  history,
  series,
}: {
  room: RoomInsight;
  rates: RoomRates;
  history: readonly (readonly number[])[];
  series: readonly ChartSeries[];
}) {
  const t = useI18n();
  const gmv = gmvOf(room);
  const finance = financeOfInsight(room);
  const cost = finance.totals;
  const funnel = [
    { label: t("ops.funnel.viewers"), n: room.viewers },
    { label: t("ops.funnel.clicks"), n: room.totals.buyClicks },
    { label: t("ops.funnel.holds"), n: room.totals.holds },
    { label: t("ops.funnel.paid"), n: room.totals.paidOrders },
  ];
  const top = Math.max(1, ...funnel.map((f) => f.n));
  return (
    <article class="panel" aria-labelledby={`room-${room.room}`} data-testid="ops-room" data-room={room.room}>
      <h2 id={`room-${room.room}`}>
        <a href={`/live/${room.room}`}>{room.room}</a>
      </h2>
      <div class="kpis">
        <Kpi label={t("stats.gmv")} value={money(gmv.minor, gmv.currency)} testid="ops-gmv" />
        <Kpi
          label={t("reports.couponCost")}
          value={cost ? money(cost.discountMinor, cost.currency) : "–"}
          testid="ops-coupon-cost"
        />
        <Kpi
          label={t("reports.net")}
          value={cost ? money(cost.netMinor, cost.currency) : "–"}
          testid="ops-net-gmv"
        />
        <Kpi label={t("ops.ordersPerSec")} value={rates.orders.toFixed(1)} />
        <Kpi label={t("ops.clicksPerSec")} value={rates.clicks.toFixed(1)} testid="ops-clicks-rate" />
        <Kpi label={t("ops.entriesPerSec")} value={rates.entries.toFixed(1)} testid="ops-entries-rate" />
        <Kpi label={t("stats.viewers")} value={count(room.viewers)} />
        <Kpi label={t("stats.conversion")} value={percent(room.conversion)} />
      </div>
      <figure style={{ margin: "8px 0" }}>
        <figcaption class="kpi-label">{t("ops.ordersPerSec")}</figcaption>
        <TimeChart title={t("ops.ordersPerSec")} series={series} data={history} height={110} />
      </figure>
      <h3 class="kpi-label">{t("ops.funnel")}</h3>
      {funnel.map((f) => (
        <div key={f.label} class="funnel-row">
          <span>{f.label}</span>
          <div class="bar" role="presentation">
            <span style={{ width: `${(f.n / top) * 100}%` }} />
          </div>
          <span>{count(f.n)}</span>
        </div>
      ))}
      <h3 class="kpi-label">{t("ops.stock")}</h3>
      <table class="table">
        <thead>
          <tr>
            <th scope="col">{t("host.drops.product")}</th>
            <th scope="col">{t("reports.format")}</th>
            <th scope="col">{t("host.drops.state")}</th>
            <th scope="col">{t("ops.stockCol")}</th>
            <th scope="col">{t("reports.net")}</th>
          </tr>
        </thead>
        <tbody>
          {room.drops.slice(0, SHOWN_DROPS).map((d) => {
            const format = finance.formats.get(d.dropId);
            const net = finance.drops.get(d.dropId);
            return (
              <tr key={d.dropId} data-testid="ops-drop" data-ops-drop={d.dropId}>
                <td>{d.title}</td>
                <td data-testid="ops-drop-format">{format ? t(FORMAT_LABEL[format]) : "–"}</td>
                <td class={`state state-${d.state}`}>{t(STATE_LABEL[d.state])}</td>
                <td style={{ minWidth: "9rem" }}>
                  <div class="bar" role="presentation">
                    <span style={{ width: `${d.stock ? (d.available / d.stock) * 100 : 0}%` }} />
                  </div>
                  {t("host.drops.counts", { a: d.available, h: d.held, s: d.sold })}
                </td>
                <td data-testid="ops-drop-net">
                  {net
                    ? t("ops.netOfGross", {
                        net: money(net.netMinor, net.currency),
                        cost: money(net.discountMinor, net.currency),
                      })
                    : "–"}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </article>
  );
}
