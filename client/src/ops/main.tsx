import { render } from "preact";
import { useMemo, useRef, useState } from "preact/hooks";
import type { Health, OpsOverview } from "../../../protocol/index.ts";
import { ReportDownloads } from "../host/reports-download.tsx";
import { api } from "../shared/api.ts";
import { pushSample } from "../shared/chart.tsx";
import { Header } from "../shared/chrome.tsx";
import { count, money } from "../shared/format.ts";
import { useI18n } from "../shared/i18n.ts";
import { Kpi } from "../shared/kpi.tsx";
import { usePoll } from "../shared/poll.ts";
import { peekClaims, privilegedToken, rememberPrivilegedToken } from "../shared/tokens.ts";
import { type RoomRates, ratesBetween } from "./rates.ts";
import { RoomCard } from "./room-card.tsx";
import "../shared/styles.css";

const POLL_MS = 2_000;

function HealthPanel({ health }: { health: Health }) {
  const t = useI18n();
  const mark = (ok: boolean) => <span class={ok ? "ok" : "bad"}>{ok ? t("ops.ok") : t("ops.down")}</span>;
  const mb = (n: number | null) => (n === null ? "–" : `${(n / 1024 / 1024).toFixed(0)} MB`);
  const ms = (n: number | null) => (n === null ? "–" : `${n} ms`);
  const q = health.queues;
  return (
    <section class="panel" aria-labelledby="health-title" data-testid="ops-health">
      <h2 id="health-title">{t("ops.health")}</h2>
      <table class="table">
        <tbody>
          <tr>
            <th scope="row">{t("ops.gateway")}</th>
            <td>{mark(health.gateway.ok)}</td>
            <td>
              {t("ops.gatewayLine", {
                conns: count(health.gateway.connections),
                rss: mb(health.gateway.rssBytes),
                lag: health.gateway.eventLoopP99Ms,
              })}
            </td>
          </tr>
          <tr>
            <th scope="row">Redis</th>
            <td>{mark(health.redis.ok)}</td>
            <td>
              {t("ops.redisLine", {
                ping: ms(health.redis.pingMs),
                mem: mb(health.redis.usedMemoryBytes),
                ops: health.redis.opsPerSec ?? "–",
              })}
            </td>
          </tr>
          <tr>
            <th scope="row">{t("ops.queues")}</th>
            <td>{mark(q.ok && (q.orders?.failed ?? 0) === 0)}</td>
            <td>
              {q.orders && q.holds
                ? t("ops.queueLine", {
                    wait: q.orders.waiting + q.holds.waiting,
                    active: q.orders.active + q.holds.active,
                    delayed: q.holds.delayed + q.orders.delayed,
                    failed: q.orders.failed + q.holds.failed,
                  })
                : "–"}
            </td>
          </tr>
          <tr>
            <th scope="row">{t("ops.store")}</th>
            <td>{mark(health.store.ok)}</td>
            <td>{ms(health.store.pingMs)}</td>
          </tr>
        </tbody>
      </table>
    </section>
  );
}

/** The wall screen: every live room and the platform's health, refreshed every two seconds. */
function Ops({ token }: { token: string }) {
  const t = useI18n();
  const [view, setView] = useState<OpsOverview | undefined>();
  const [history, setHistory] = useState<Record<string, number[][]>>({});
  const [rates, setRates] = useState<Record<string, RoomRates>>({});
  const prev = useRef<OpsOverview | undefined>(undefined);
  const error = usePoll(
    () => api<OpsOverview>("/api/v1/ops/overview", { token }),
    POLL_MS,
    (o) => {
      const p = prev.current;
      prev.current = o;
      const nextRates: Record<string, RoomRates> = {};
      for (const r of o.rooms) {
        const before = p?.rooms.find((x) => x.room === r.room);
        nextRates[r.room] = ratesBetween(before, r, p ? (o.serverTime - p.serverTime) / 1000 : 0);
      }
      setRates(nextRates);
      setHistory((h) => {
        const next: Record<string, number[][]> = {};
        for (const r of o.rooms)
          next[r.room] = pushSample(
            h[r.room] ?? [[], []],
            [o.serverTime / 1000, nextRates[r.room]?.orders ?? 0],
            150,
          );
        return next;
      });
      setView(o);
    },
    true,
  );
  const series = useMemo(() => [{ label: t("ops.ordersPerSec"), color: "#ffcc4d" }], [t]);
  const totalGmv = new Map<string, number>();
  for (const r of view?.rooms ?? [])
    for (const g of r.totals.gmv) totalGmv.set(g.currency, (totalGmv.get(g.currency) ?? 0) + g.minor);
  const allRates = Object.values(rates).reduce((a, b) => a + b.orders, 0);
  const allEntries = Object.values(rates).reduce((a, b) => a + b.entries, 0);

  return (
    <div class="page ops-page">
      <Header title={t("ops.title")}>
        <span class="muted" aria-live="off">
          {view ? new Date(view.serverTime).toLocaleTimeString() : ""}
        </span>
      </Header>
      {error ? (
        <div class="banner banner-stop" role="alert">
          {t("ops.error", { message: error.message })}
        </div>
      ) : null}
      <main class="grid">
        <section class="kpis" aria-label={t("ops.totals")}>
          <Kpi
            label={t("ops.totalGmv")}
            value={
              totalGmv.size === 0
                ? money(0, "USD")
                : [...totalGmv].map(([currency, minor]) => money(minor, currency)).join(" · ")
            }
            testid="ops-total-gmv"
          />
          <Kpi label={t("ops.ordersPerSec")} value={allRates.toFixed(1)} />
          <Kpi label={t("ops.entriesPerSec")} value={allEntries.toFixed(1)} />
          <Kpi label={t("ops.rooms")} value={count(view?.rooms.length ?? 0)} />
        </section>
        {view ? <HealthPanel health={view.health} /> : null}
        <section class="panel" aria-label={t("reports.title")}>
          <ReportDownloads token={token} />
        </section>
        {view && view.rooms.length === 0 ? <p class="muted">{t("ops.noRooms")}</p> : null}
        <div class="grid cols" style={{ padding: 0 }}>
          {view?.rooms.map((r) => (
            <RoomCard
              key={r.room}
              room={r}
              rates={rates[r.room] ?? { orders: 0, clicks: 0, entries: 0 }}
              history={history[r.room] ?? [[], []]}
              series={series}
            />
          ))}
        </div>
      </main>
    </div>
  );
}

function OpsApp() {
  const t = useI18n();
  const [token, setToken] = useState(() => privilegedToken());
  const [value, setValue] = useState("");
  if (token && peekClaims(token).role === "admin") return <Ops token={token} />;
  return (
    <form
      class="panel"
      style={{ margin: "12px" }}
      onSubmit={(e) => {
        e.preventDefault();
        rememberPrivilegedToken(value.trim());
        setToken(value.trim());
      }}
    >
      <h1>{t("ops.title")}</h1>
      <p class="muted">{t("ops.gate.help")}</p>
      {token ? (
        <p class="bad" role="alert">
          {t("ops.gate.denied")}
        </p>
      ) : null}
      <label class="form-grid">
        <span class="wide">{t("ops.gate.label")}</span>
        <input
          class="wide"
          required
          value={value}
          onInput={(e) => setValue((e.target as HTMLInputElement).value)}
        />
      </label>
      <button type="submit" class="btn btn-primary" style={{ marginTop: "8px" }}>
        {t("host.gate.submit")}
      </button>
    </form>
  );
}

const root = document.getElementById("app");
if (root) render(<OpsApp />, root);
