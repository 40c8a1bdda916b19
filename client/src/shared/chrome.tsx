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
      <svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
        <path d="M12 5C6.5 5 2.7 9.1 1.5 12c1.2 2.9 5 7 10.5 7s9.3-4.1 10.5-7C21.3 9.1 17.5 5 12 5zm0 11a4 4 0 1 1 0-8 4 4 0 0 1 0 8z" />
      </svg>
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
