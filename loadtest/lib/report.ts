import { METRICS, type MetricSpec } from "./scenarios.ts";
import { baseMetric, type MetricSummary, parseThreshold, type RunSummary, type Series } from "./summary.ts";

/**
 * The run report: one self-contained HTML file (inline CSS and SVG charts, no script, nothing
 * fetched from anywhere, so it opens from a CI artifact or an e-mail), and a short text version
 * for the terminal. Both runners render the same RunSummary.
 */

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function fmt(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return "–";
  // Grouped by hand: k6's JavaScript runtime has no Intl.
  if (Math.abs(v) >= 1000) return String(Math.round(v)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  if (Number.isInteger(v)) return String(v);
  return v.toFixed(Math.abs(v) < 10 ? 2 : 1);
}

function helpOf(name: string): string {
  return (METRICS as Record<string, MetricSpec>)[baseMetric(name)]?.help ?? "";
}

const TREND_BARS = ["min", "med", "p(90)", "p(95)", "p(99)", "max"] as const;
const W = 640;

/** Horizontal bars (one per statistic) with dashed markers where thresholds sit. */
function trendChart(m: MetricSummary, markers: { label: string; value: number; ok: boolean }[]): string {
  const rows = TREND_BARS.map((k) => ({ label: k, value: m.values[k] ?? 0 }));
  const top = Math.max(1, ...rows.map((r) => r.value), ...markers.map((x) => x.value)) * 1.08;
  const left = 56;
  const barH = 16;
  const gap = 6;
  const h = rows.length * (barH + gap) + 26;
  const x = (v: number) => left + ((W - left - 70) * v) / top;
  const bars = rows
    .map((r, i) => {
      const y = 4 + i * (barH + gap);
      return `<text x="${left - 6}" y="${y + 12}" text-anchor="end" class="l">${esc(r.label)}</text><rect x="${left}" y="${y}" width="${Math.max(1, x(r.value) - left).toFixed(1)}" height="${barH}" class="bar"/><text x="${(x(r.value) + 4).toFixed(1)}" y="${y + 12}" class="v">${fmt(r.value)}</text>`;
    })
    .join("");
  const marks = markers
    .map((mk) => {
      const mx = x(mk.value).toFixed(1);
      return `<line x1="${mx}" x2="${mx}" y1="0" y2="${h - 20}" class="${mk.ok ? "mark ok" : "mark bad"}"/><text x="${mx}" y="${h - 6}" text-anchor="middle" class="l">${esc(mk.label)}</text>`;
    })
    .join("");
  return `<svg viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img">${bars}${marks}</svg>`;
}

/** One line chart per series, with its min/max labelled. */
function seriesChart(s: Series): string {
  const h = 160;
  const pad = 34;
  const pts = s.points;
  const maxT = Math.max(1, ...pts.map((p) => p[0]));
  const maxV = Math.max(1, ...pts.map((p) => p[1]));
  const x = (t: number) => pad + ((W - pad - 10) * t) / maxT;
  const y = (v: number) => h - pad + 10 - ((h - pad - 10) * v) / maxV;
  const line = pts.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ");
  return `<svg viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img"><line x1="${pad}" x2="${W - 10}" y1="${h - pad + 10}" y2="${h - pad + 10}" class="axis"/><line x1="${pad}" x2="${pad}" y1="0" y2="${h - pad + 10}" class="axis"/><text x="${pad - 4}" y="12" text-anchor="end" class="l">${fmt(maxV)}</text><text x="${pad - 4}" y="${h - pad + 10}" text-anchor="end" class="l">0</text><text x="${W - 10}" y="${h - 8}" text-anchor="end" class="l">${fmt(maxT)} s</text><polyline points="${line}" class="line"/></svg>`;
}

function table(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((c) => `<th>${c}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:980px;color:#1d2330;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde2ea;padding-bottom:4px}
h3{font-size:14px;margin:18px 0 2px}.muted{color:#5b6475}.badge{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600;color:#fff}
.pass{background:#1f8a4c}.fail{background:#c2342b}table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #dde2ea;padding:3px 9px;text-align:left}
th{background:#f3f5f9}td.ok{color:#1f8a4c;font-weight:600}td.bad{color:#c2342b;font-weight:600}p.ok{color:#1f8a4c}p.bad{color:#c2342b;font-weight:600}code{background:#f3f5f9;padding:0 3px}
svg .bar{fill:#4a78c2}svg .l{font-size:11px;fill:#5b6475}svg .v{font-size:11px;fill:#1d2330}svg .mark{stroke-width:1.5;stroke-dasharray:4 3}
svg .ok{stroke:#1f8a4c}svg .bad{stroke:#c2342b}svg .axis{stroke:#aab2c0}svg .line{fill:none;stroke:#4a78c2;stroke-width:1.8}`;

export function renderHtml(s: RunSummary): string {
  const verdict = `<span class="badge ${s.ok ? "pass" : "fail"}">${s.ok ? "PASSED" : "FAILED"}</span>`;
  const thresholdRows = s.thresholds.map((t) => [
    `<code>${esc(t.metric)}</code>`,
    `<code>${esc(t.expr)}</code>`,
    fmt(t.actual),
    `${t.ok ? "✓ pass" : "✗ fail"}`,
  ]);
  const thresholdTable = table(["metric", "threshold", "actual", ""], thresholdRows).replace(
    /<td>(✓ pass|✗ fail)<\/td>/g,
    (_m, v: string) => `<td class="${v.startsWith("✓") ? "ok" : "bad"}">${v}</td>`,
  );
  const entries = Object.entries(s.metrics).sort(([a], [b]) => a.localeCompare(b));
  const trends = entries
    .filter(([, m]) => m.type === "trend" && (m.values.count ?? 1) > 0)
    .map(([name, m]) => {
      const markers = s.thresholds
        .filter((t) => t.metric === name)
        .map((t) => ({ t, p: parseThreshold(t.expr) }))
        .filter(({ p }) => p.stat !== "count")
        .map(({ t, p }) => ({ label: `${p.stat}${p.op}${p.value}`, value: p.value, ok: t.ok }));
      const unit = m.contains === "time" || name.endsWith("_ms") ? " (ms)" : "";
      return `<h3><code>${esc(name)}</code>${unit}</h3><div class="muted">${esc(helpOf(name))} · ${fmt(m.values.count)} samples, avg ${fmt(m.values.avg)}</div>${trendChart(m, markers)}`;
    })
    .join("");
  const others = entries
    .filter(([, m]) => m.type !== "trend")
    .map(([name, m]) => {
      const v =
        m.type === "rate"
          ? `${fmt((m.values.rate ?? 0) * 100)} % (${fmt(m.values.passes)} of ${fmt((m.values.passes ?? 0) + (m.values.fails ?? 0))})`
          : m.type === "counter"
            ? `${fmt(m.values.count)}${m.values.rate !== undefined ? ` (${fmt(m.values.rate)}/s)` : ""}`
            : fmt(m.values.value);
      return [`<code>${esc(name)}</code>`, esc(m.type), v, esc(helpOf(name))];
    });
  const series = (s.series ?? [])
    .filter((x) => x.points.length > 1)
    .map((x) => `<h3>${esc(x.name)} <span class="muted">(${esc(x.unit)})</span></h3>${seriesChart(x)}`)
    .join("");
  const kv = (o: Readonly<Record<string, unknown>>) =>
    table(
      ["", ""],
      Object.entries(o).map(([k, v]) => [esc(k), esc(typeof v === "number" ? fmt(v) : String(v))]),
    ).replace("<thead><tr><th></th><th></th></tr></thead>", "");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>livedrop load test: ${esc(s.loadtest)} ${s.ok ? "passed" : "failed"}</title><style>${CSS}</style></head><body>
<h1>livedrop load test: ${esc(s.loadtest)} ${verdict}</h1>
<div class="muted">${esc(s.runner)} runner · ${esc(s.target)} · ${s.shadow ? "shadow traffic" : "real traffic"} · started ${esc(s.startedAt)} · ${fmt(s.durationMs / 1000)} s</div>
<h2>Result</h2>${kv(s.result)}
${s.generator ? `<h2>Load generator</h2><p class="${s.generator.saturated ? "bad" : "ok"}">${esc(generatorVerdict(s))}</p>` : ""}
<h2>Thresholds</h2>${thresholdTable}
${series ? `<h2>Over time</h2>${series}` : ""}
<h2>Latencies</h2>${trends || '<p class="muted">no latency samples</p>'}
<h2>Counters and rates</h2>${table(["metric", "type", "value", "meaning"], others)}
<h2>Parameters</h2>${kv(s.params)}
${s.notes?.length ? `<h2>Notes</h2><ul>${s.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>` : ""}
</body></html>
`;
}

/** One sentence: saturated or not, why, and what that means for failed thresholds. */
export function generatorVerdict(s: RunSummary): string {
  const g = s.generator;
  if (!g) return "not measured";
  const figures = [
    g.cpuPct !== undefined ? `CPU p95 ${fmt(g.cpuPct)} % of a core` : "",
    g.hostCpuPct !== undefined ? `machine CPU p95 ${fmt(g.hostCpuPct)} %` : "",
    g.cpuSlowdown !== undefined ? `work slowdown p95 ${fmt(g.cpuSlowdown)}×` : "",
    g.lagP95Ms !== undefined ? `loop delay p95 ${fmt(g.lagP95Ms)} ms` : "",
    g.iterationLagP95Ms !== undefined ? `iteration lag p95 ${fmt(g.iterationLagP95Ms)} ms` : "",
    g.droppedIterations !== undefined ? `${fmt(g.droppedIterations)} dropped iterations` : "",
  ].filter(Boolean);
  const measured = figures.length ? ` (${figures.join(", ")})` : "";
  if (!g.saturated) return `not saturated${measured}`;
  const blame = s.ok ? "" : "; failed latency thresholds may be the generator's, not the service's";
  return `SATURATED: ${g.reasons.join("; ")}${measured}${blame}`;
}

/** A few lines for the terminal: verdict, thresholds, then the key trends. */
export function renderText(s: RunSummary): string {
  const lines = [
    `livedrop load test ${s.loadtest}: ${s.ok ? "PASSED" : "FAILED"} (${s.runner}, ${s.target})`,
  ];
  for (const t of s.thresholds)
    lines.push(`  ${t.ok ? "✓" : "✗"} ${t.metric} ${t.expr}  (actual ${fmt(t.actual)})`);
  for (const [name, m] of Object.entries(s.metrics)) {
    if (m.type !== "trend" || !m.values.count) continue;
    lines.push(
      `  ${name}: med ${fmt(m.values.med)} p95 ${fmt(m.values["p(95)"])} p99 ${fmt(m.values["p(99)"])} max ${fmt(m.values.max)} (n=${fmt(m.values.count)})`,
    );
  }
  if (s.generator) lines.push(`  load generator: ${generatorVerdict(s)}`);
  for (const n of s.notes ?? []) lines.push(`  note: ${n}`);
  return `${lines.join("\n")}\n`;
}
