import { useState } from "preact/hooks";
import { ApiError } from "../shared/api.ts";
import { type MessageKey, useI18n } from "../shared/i18n.ts";

/** How long a downloaded file's blob URL stays valid: the browser reads it after the click returns. */
const BLOB_URL_LIFETIME_MS = 60_000;

/**
 * Fetches a report with the bearer token (a plain link cannot send it) and saves it under the
 * name the gateway gives (Content-Disposition).
 */
export async function downloadReport(path: string, token: string): Promise<string> {
  const res = await fetch(path, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) {
    const body = (await res.json().catch(() => undefined)) as { error?: { code?: string; message?: string } };
    throw new ApiError(
      res.status,
      body?.error?.code ?? `HTTP_${res.status}`,
      body?.error?.message ?? `HTTP ${res.status}`,
    );
  }
  const name = /filename="([^"]+)"/.exec(res.headers.get("content-disposition") ?? "")?.[1] ?? "report.csv";
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), BLOB_URL_LIFETIME_MS);
  return name;
}

type ReportKind = "hourly" | "drops" | "summary";
const LABEL: Record<ReportKind, MessageKey> = {
  hourly: "reports.hourly",
  drops: "reports.drops",
  summary: "reports.summary",
};

/**
 * CSV download buttons: a room's hourly, per-drop and end-of-live reports (its host or an admin),
 * or without a room every room's hourly and per-drop reports (an admin). Ranges are the
 * gateway's default (the last seven days; the summary is the room's whole history).
 */
export function ReportDownloads({ token, room }: { token: string; room?: string }) {
  const t = useI18n();
  const [busy, setBusy] = useState<ReportKind | undefined>();
  const [error, setError] = useState<string | undefined>();
  const kinds: readonly ReportKind[] = room ? ["hourly", "drops", "summary"] : ["hourly", "drops"];
  const base = room ? `/api/v1/rooms/${room}/reports` : "/api/v1/reports";
  const run = async (kind: ReportKind) => {
    setBusy(kind);
    setError(undefined);
    try {
      await downloadReport(`${base}/${kind}?format=csv`, token);
    } catch (err) {
      setError(t("reports.failed", { message: (err as Error).message }));
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <fieldset
      style={{
        display: "flex",
        flexWrap: "wrap",
        gap: "8px",
        alignItems: "center",
        border: 0,
        padding: 0,
        margin: 0,
      }}
    >
      <legend class="kpi-label">{t("reports.downloads")}</legend>
      {kinds.map((k) => (
        <button
          key={k}
          type="button"
          class="btn"
          disabled={busy !== undefined}
          aria-busy={busy === k}
          data-testid={`report-${k}`}
          onClick={() => run(k)}
        >
          {t(LABEL[k])}
        </button>
      ))}
      {error ? (
        <span class="bad" role="alert">
          {error}
        </span>
      ) : null}
    </fieldset>
  );
}
