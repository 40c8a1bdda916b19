import type { DropFormat } from "../../../protocol/index.ts";
import { money } from "../shared/format.ts";
import { type MessageKey, useI18n } from "../shared/i18n.ts";
import { Kpi } from "../shared/kpi.tsx";
import { type MoneyFigures, useRoomFinance } from "./reports-data.ts";
import { ReportDownloads } from "./reports-download.tsx";

/** The report summary is a heavier query than the live stats: read it less often. */
export const FINANCE_POLL_MS = 5_000;

export const FORMAT_LABEL: Record<DropFormat, MessageKey> = {
  drop: "reports.format.drop",
  auction: "reports.format.auction",
  giveaway: "reports.format.giveaway",
  buy_now: "reports.format.buy_now",
};

/** Gross GMV, coupon cost and net GMV as three figures (testids `<prefix>-gross|coupon-cost|net-gmv`). */
export function MoneyKpis({ figures, prefix }: { figures: MoneyFigures | undefined; prefix: string }) {
  const t = useI18n();
  const show = (n: number | undefined) => (figures && n !== undefined ? money(n, figures.currency) : "–");
  return (
    <>
      <Kpi label={t("reports.gross")} value={show(figures?.grossMinor)} testid={`${prefix}-gross`} />
      <Kpi
        label={t("reports.couponCost")}
        value={show(figures?.discountMinor)}
        testid={`${prefix}-coupon-cost`}
      />
      <Kpi label={t("reports.net")} value={show(figures?.netMinor)} testid={`${prefix}-net-gmv`} />
    </>
  );
}

/**
 * The host's sales money: gross and net GMV and coupon cost of the room and of each drop (paid
 * orders, as the reports count them), each drop's format, and the room's CSV report downloads.
 */
export function ReportsPanel({
  room,
  token,
  drops,
}: {
  room: string;
  token: string;
  drops: readonly { dropId: string; title: string }[];
}) {
  const t = useI18n();
  const { finance, error } = useRoomFinance(
    room,
    token,
    drops.map((d) => d.dropId),
    FINANCE_POLL_MS,
  );
  const cell = (f: MoneyFigures | undefined, n: (f: MoneyFigures) => number) =>
    f ? money(n(f), f.currency) : "–";
  return (
    <section class="panel" aria-labelledby="reports-title" data-testid="reports">
      <h2 id="reports-title">{t("reports.title")}</h2>
      {error ? (
        <p class="bad" role="alert">
          {error.message}
        </p>
      ) : null}
      <div class="kpis">
        <MoneyKpis figures={finance.totals} prefix="host" />
      </div>
      <table class="table">
        <thead>
          <tr>
            <th scope="col">{t("host.drops.product")}</th>
            <th scope="col">{t("reports.format")}</th>
            <th scope="col">{t("reports.gross")}</th>
            <th scope="col">{t("reports.couponCost")}</th>
            <th scope="col">{t("reports.net")}</th>
          </tr>
        </thead>
        <tbody>
          {drops.map((d) => {
            const f = finance.drops.get(d.dropId);
            const format = finance.formats.get(d.dropId);
            return (
              <tr key={d.dropId} data-testid="reports-drop" data-report-drop={d.dropId}>
                <td>{d.title}</td>
                <td data-testid="reports-drop-format">{format ? t(FORMAT_LABEL[format]) : "–"}</td>
                <td>{cell(f, (x) => x.grossMinor)}</td>
                <td data-testid="reports-drop-coupon-cost">{cell(f, (x) => x.discountMinor)}</td>
                <td data-testid="reports-drop-net">{cell(f, (x) => x.netMinor)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <ReportDownloads token={token} room={room} />
    </section>
  );
}
