import { render } from "preact";
import { useState } from "preact/hooks";
import { Header } from "../shared/chrome.tsx";
import { useI18n } from "../shared/i18n.ts";
import "../shared/styles.css";

/** The landing page: open a room as a viewer or host, or the ops screen. */
function Index() {
  const t = useI18n();
  const [room, setRoom] = useState("demo");
  const valid = /^[A-Za-z0-9_-]{1,64}$/.test(room);
  return (
    <div class="page">
      <Header title="livedrop" />
      <main class="grid">
        <form
          class="panel"
          onSubmit={(e) => {
            e.preventDefault();
            if (valid) location.assign(`/live/${room}`);
          }}
        >
          <h2>{t("index.title")}</h2>
          <p class="muted">{t("index.help")}</p>
          <label class="form-grid">
            <span class="wide">{t("index.room")}</span>
            <input
              class="wide"
              value={room}
              pattern="[A-Za-z0-9_-]{1,64}"
              onInput={(e) => setRoom((e.target as HTMLInputElement).value)}
            />
          </label>
          <div class="row" style={{ marginTop: "8px" }}>
            <button type="submit" class="btn btn-primary" disabled={!valid}>
              {t("index.watch")}
            </button>
            <a class="btn" href={valid ? `/host/${room}` : undefined}>
              {t("index.host")}
            </a>
            <a class="btn" href="/ops">
              {t("index.ops")}
            </a>
          </div>
        </form>
      </main>
    </div>
  );
}

const root = document.getElementById("app");
if (root) render(<Index />, root);
