import { useEffect, useState } from "preact/hooks";
import type { DrawResponse } from "../../../protocol/index.ts";
import { ApiError, api } from "../shared/api.ts";
import { Header } from "../shared/chrome.tsx";
import { type MessageKey, useI18n } from "../shared/i18n.ts";
import { guestUserId } from "../shared/tokens.ts";
import { checkDraw, type Difference, type DrawCheck, maskOf } from "./draw-check.ts";
import "../shared/styles.css";

/** Differences listed one by one; past this many, the rest only shows in the table. */
const MAX_DIFFERENCES_SHOWN = 20;

type Load =
  | { readonly phase: "loading" }
  | { readonly phase: "open" | "none" }
  | { readonly phase: "error"; readonly message: string }
  | {
      readonly phase: "checked";
      readonly draw: DrawResponse;
      readonly check: DrawCheck;
      /** This browser's buyer's mask in the list, when it has one. */
      readonly mine: string | undefined;
    };

function differenceText(t: (k: MessageKey, p?: Record<string, string | number>) => string, d: Difference) {
  switch (d.kind) {
    case "badSeed":
      return t("verify.diff.badSeed");
    case "hash":
      return t("verify.hashBad", { hash: d.hash });
    case "duplicate":
      return t("verify.diff.duplicate", { entry: d.entry });
    case "unknownSkipped":
      return t("verify.diff.unknownSkipped", { entry: d.entry });
    case "order":
      return t("verify.diff.order", { i: d.position, got: d.got || "–", want: d.want });
    case "granted":
      return t("verify.diff.granted", { entry: d.entry, got: d.got, want: d.want });
  }
}

/**
 * `/live/:room?verify=DROP`: fetches the published draw (GET /api/v1/drops/:dropId/draw, public)
 * and recomputes it here with WebCrypto (draw-check.ts): the seed against its commitment, the
 * order, every entry's units. The server's own `verified` is shown as its claim, never used.
 */
export function VerifyPage({ dropId, room }: { dropId: string; room: string | undefined }) {
  const t = useI18n();
  const [load, setLoad] = useState<Load>({ phase: "loading" });

  useEffect(() => {
    let live = true;
    api<DrawResponse>(`/api/v1/drops/${encodeURIComponent(dropId)}/draw`)
      .then(async (draw) => {
        const check = await checkDraw(draw);
        const me = guestUserId();
        const mine = me && check.hashOk && draw.seed ? await maskOf(draw.seed, me) : undefined;
        if (live) setLoad({ phase: "checked", draw, check, mine });
      })
      .catch((err: unknown) => {
        if (!live) return;
        if (err instanceof ApiError && err.code === "DRAW_OPEN") setLoad({ phase: "open" });
        else if (err instanceof ApiError && err.status === 404) setLoad({ phase: "none" });
        else setLoad({ phase: "error", message: (err as Error).message });
      });
    return () => {
      live = false;
    };
  }, [dropId]);

  return (
    <div class="page verify-page">
      <Header title={t("verify.title")}>
        {room ? <a href={`/live/${encodeURIComponent(room)}`}>{room}</a> : null}
      </Header>
      <main class="grid" data-testid="verify" data-phase={load.phase}>
        <p class="muted">{t("verify.help")}</p>
        {load.phase === "loading" ? <p role="status">{t("verify.loading")}</p> : null}
        {load.phase === "open" ? <p role="status">{t("verify.open")}</p> : null}
        {load.phase === "none" ? <p role="status">{t("verify.none")}</p> : null}
        {load.phase === "error" ? (
          <p class="bad" role="alert">
            {t("verify.error", { message: load.message })}
          </p>
        ) : null}
        {load.phase === "checked" ? <Checked draw={load.draw} check={load.check} mine={load.mine} /> : null}
      </main>
    </div>
  );
}

function Checked({ draw, check, mine }: { draw: DrawResponse; check: DrawCheck; mine: string | undefined }) {
  const t = useI18n();
  // Each entry's place in the server's order (by its published position).
  const listedAt = new Map(
    [...draw.entries].sort((a, b) => a.position - b.position).map((e, i) => [e.entry, i]),
  );
  return (
    <>
      <section class="panel" aria-labelledby="verify-result">
        <h2
          id="verify-result"
          class={check.ok ? "ok" : "bad"}
          data-testid="verify-result"
          data-ok={String(check.ok)}
        >
          {check.ok ? t("verify.matches") : t("verify.differs")}
        </h2>
        {check.differences.length > 0 ? (
          <ul data-testid="verify-differences">
            {check.differences.slice(0, MAX_DIFFERENCES_SHOWN).map((d, i) => (
              <li key={i}>{differenceText(t, d)}</li>
            ))}
          </ul>
        ) : null}
        <p>
          {t("verify.summary", {
            mode: t(draw.mode === "raffle" ? "verify.mode.raffle" : "verify.mode.window"),
            n: draw.entries.length,
            stock: draw.stock,
            limit: draw.perUserLimit,
          })}
        </p>
        <dl class="verify-facts">
          <dt>{t("verify.seedHash")}</dt>
          <dd>
            <code data-testid="verify-seed-hash">{draw.seedHash}</code>
          </dd>
          <dt>{t("verify.seed")}</dt>
          <dd>{draw.seed ? <code data-testid="verify-seed">{draw.seed}</code> : t("verify.noSeed")}</dd>
        </dl>
        <p class={check.hashOk ? "ok" : "bad"} data-testid="verify-hash" data-ok={String(check.hashOk)}>
          {check.hashOk ? t("verify.hashOk") : t("verify.hashBad", { hash: check.hash || "–" })}
        </p>
        <p class="muted">
          {t("verify.server", { result: t(draw.verified.ok ? "verify.server.ok" : "verify.server.bad") })}
        </p>
      </section>
      <section class="panel" aria-labelledby="verify-entries">
        <h2 id="verify-entries">{t("verify.entries")}</h2>
        <div style={{ overflowX: "auto" }}>
          <table class="table" data-testid="verify-entries">
            <thead>
              <tr>
                <th scope="col">{t("verify.col.position")}</th>
                <th scope="col">{t("verify.col.entry")}</th>
                <th scope="col">{t("verify.col.user")}</th>
                <th scope="col">{t("verify.col.qty")}</th>
                <th scope="col">{t("verify.col.granted")}</th>
                <th scope="col">{t("verify.col.computed")}</th>
              </tr>
            </thead>
            <tbody>
              {check.entries.map((e, i) => {
                const moved = listedAt.get(e.entry) !== i;
                return (
                  <tr key={e.entry} class={e.published === e.granted && !moved ? undefined : "bad"}>
                    <td>{i + 1}</td>
                    <td>
                      <code title={e.entry}>{e.entry.slice(0, 12)}</code>
                      {moved ? " ≠" : ""}
                    </td>
                    <td>
                      <code title={e.user}>{e.user.slice(0, 12)}</code>
                      {e.user === mine ? <strong data-testid="verify-mine"> {t("verify.you")}</strong> : null}
                    </td>
                    <td>{e.qty}</td>
                    <td>{e.published ?? "–"}</td>
                    <td>{e.granted}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}
