import type { ComponentChildren } from "preact";
import type { ConnectionState } from "./connection.ts";
import { count } from "./format.ts";
import { LANGS, lang, setLang, useI18n } from "./i18n.ts";

/** Page header: title, extra status (viewers, live badge), language switch. */
export function Header({ title, children }: { title: string; children?: ComponentChildren }) {
  const t = useI18n();
  return (
    <header class="top">
      <h1 class="top-title">{title}</h1>
      <div class="top-extra">{children}</div>
      <label class="lang">
        <span class="sr-only">{t("lang.label")}</span>
        <select value={lang()} onChange={(e) => setLang((e.target as HTMLSelectElement).value as never)}>
          {LANGS.map((l) => (
            <option key={l.id} value={l.id}>
              {l.label}
            </option>
          ))}
        </select>
      </label>
    </header>
  );
}

/** The room's viewer count, with words for screen readers instead of the eye. */
export function Viewers({ n }: { n: number }) {
  const t = useI18n();
  return (
    <span class="viewers">
      <span aria-hidden="true">👁 </span>
      <span data-testid="viewers">{count(n)}</span>
      <span class="sr-only"> {t("live.watching")}</span>
    </span>
  );
}

/** Shown while the connection is down; the page keeps working from its last state. */
export function ReconnectBanner({ state }: { state: ConnectionState }) {
  const t = useI18n();
  if (state === "open" || state === "connecting") return null;
  return (
    <div
      class={`banner ${state === "stopped" ? "banner-stop" : ""}`}
      role="status"
      data-testid="reconnect-banner"
    >
      {state === "stopped" ? t("conn.stopped") : t("conn.reconnecting")}
    </div>
  );
}
