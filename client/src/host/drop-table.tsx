import { useState } from "preact/hooks";
import type { HostAction } from "../../../protocol/index.ts";
import type { LiveConnection } from "../shared/connection.ts";
import { clockText, money } from "../shared/format.ts";
import { useServerNow } from "../shared/hooks.ts";
import { useI18n } from "../shared/i18n.ts";
import { STATE_LABEL } from "../shared/kpi.tsx";
import { type DropView, effectiveState } from "../shared/room-state.ts";
import type { ServerClock } from "../shared/server-clock.ts";
import { formatLabel, PinButtons } from "./pin-buttons.tsx";

/** How a drop sells and where its draw or waitlist stands. */
function ModeCell({ drop, now }: { drop: DropView; now: number }) {
  const t = useI18n();
  const f = drop.fair;
  const format = formatLabel(drop);
  if (format && drop.format !== "giveaway") return <>{t(format)}</>;
  if (!f)
    return (
      <>
        {t("host.drops.fcfs")}
        {drop.waitlist ? (
          <>
            <br />
            <span class="muted">
              {t("host.drops.waitlist", { n: Math.max(0, drop.waitlist.length - drop.waitlist.served) })}
            </span>
          </>
        ) : null}
      </>
    );
  return (
    <>
      {format ? `${t(format)} · ` : null}
      {f.mode === "raffle"
        ? t("host.drops.raffle", { m: Math.round(f.windowMs / 6_000) / 10 })
        : t("host.drops.window", { s: Math.round(f.windowMs / 100) / 10 })}
      {f.seed !== null || f.closesAt - now < 86_400_000 ? (
        <>
          <br />
          <span class="muted">
            {f.seed !== null
              ? t("host.drops.drawn")
              : t("host.drops.closes", { time: clockText(Math.max(0, f.closesAt - now)) })}
          </span>
        </>
      ) : null}
    </>
  );
}

/** The room's drops with the host controls each state allows; every command is acked. */
export function DropTable({
  drops,
  conn,
  clock,
  room,
}: {
  drops: readonly DropView[];
  conn: LiveConnection;
  clock: ServerClock;
  room: string;
}) {
  const t = useI18n();
  const now = useServerNow(
    clock,
    500,
    drops.map((d) => d.startsAt),
  );
  const [restock, setRestock] = useState<Record<string, number>>({});
  const [result, setResult] = useState<{ ok: boolean; text: string } | undefined>();

  const command = async (action: HostAction) => {
    setResult(undefined);
    try {
      const ack = await conn.request({ t: "host", room, action });
      setResult(
        ack.ok ? { ok: true, text: t("host.done") } : { ok: false, text: `${ack.code}: ${ack.message}` },
      );
    } catch (err) {
      setResult({ ok: false, text: (err as Error).message });
    }
  };

  const sorted = [...drops].sort((a, b) => b.startsAt - a.startsAt);
  return (
    <section class="panel" aria-labelledby="drops-title">
      <h2 id="drops-title">{t("host.drops.title")}</h2>
      {sorted.length === 0 ? <p class="muted">{t("host.drops.none")}</p> : null}
      <div style={{ overflowX: "auto" }}>
        <table class="table" data-testid="drop-table">
          <thead>
            <tr>
              <th scope="col">{t("host.drops.product")}</th>
              <th scope="col">{t("host.drops.state")}</th>
              <th scope="col">{t("host.drops.mode")}</th>
              <th scope="col">{t("host.drops.stock")}</th>
              <th scope="col">{t("host.drops.actions")}</th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((d) => {
              const state = effectiveState(d, now);
              const act = (kind: "launch" | "pause" | "resume" | "end") => () =>
                command({ kind, dropId: d.dropId });
              return (
                <tr key={d.dropId} data-drop={d.dropId} data-state={state}>
                  <td>
                    <strong>{d.product.title}</strong>
                    <br />
                    <span class="muted">{money(d.product.priceMinor, d.product.currency)}</span>
                  </td>
                  <td>
                    <span class={`state state-${state}`}>{t(STATE_LABEL[state])}</span>
                    {state === "scheduled" && d.startsAt - now < 86_400_000 ? (
                      <>
                        <br />
                        <span class="muted">{clockText(d.startsAt - now)}</span>
                      </>
                    ) : null}
                  </td>
                  <td
                    data-testid="drop-mode-cell"
                    data-mode={d.fair?.mode ?? "fcfs"}
                    data-format={d.format ?? "drop"}
                  >
                    <ModeCell drop={d} now={now} />
                  </td>
                  <td>{t("host.drops.counts", { a: d.available, h: d.held, s: d.sold })}</td>
                  <td>
                    <div class="row">
                      <PinButtons drop={d} command={command} />
                      {/* An auction's drop opens and closes with its bidding: only End is the host's. */}
                      {d.format === "auction" ? null : state === "scheduled" || state === "paused" ? (
                        <button type="button" class="btn btn-small btn-primary" onClick={act("launch")}>
                          {t("host.launch")}
                        </button>
                      ) : null}
                      {d.format !== "auction" &&
                      (state === "live" || state === "scheduled" || state === "sold_out") ? (
                        <button type="button" class="btn btn-small" onClick={act("pause")}>
                          {t("host.pause")}
                        </button>
                      ) : null}
                      {state === "paused" && d.format !== "auction" ? (
                        <button type="button" class="btn btn-small" onClick={act("resume")}>
                          {t("host.resume")}
                        </button>
                      ) : null}
                      {state !== "ended" && d.format !== "auction" ? (
                        <>
                          <label class="sr-only" for={`restock-${d.dropId}`}>
                            {t("host.restockQty", { title: d.product.title })}
                          </label>
                          <input
                            id={`restock-${d.dropId}`}
                            type="number"
                            min={1}
                            style={{ width: "5rem", minHeight: "32px" }}
                            value={restock[d.dropId] ?? 10}
                            onInput={(e) =>
                              setRestock({
                                ...restock,
                                [d.dropId]: Number((e.target as HTMLInputElement).value),
                              })
                            }
                          />
                          <button
                            type="button"
                            class="btn btn-small"
                            onClick={() =>
                              command({ kind: "restock", dropId: d.dropId, qty: restock[d.dropId] ?? 10 })
                            }
                          >
                            {t("host.restock")}
                          </button>
                        </>
                      ) : null}
                      {state !== "ended" ? (
                        <button type="button" class="btn btn-small" onClick={act("end")}>
                          {t("host.end")}
                        </button>
                      ) : null}
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {result ? (
        <p role="status" class={result.ok ? "ok" : "bad"}>
          {result.text}
        </p>
      ) : null}
    </section>
  );
}
