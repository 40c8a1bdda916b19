import { useState } from "preact/hooks";
import type { AuctionViewResponse } from "../../../protocol/index.ts";
import { api } from "../shared/api.ts";
import type { LiveConnection } from "../shared/connection.ts";
import { clockText, money } from "../shared/format.ts";
import { useFrames, useServerNow } from "../shared/hooks.ts";
import { type MessageKey, useI18n } from "../shared/i18n.ts";
import { usePoll } from "../shared/poll.ts";
import { currentAuction, type DropView } from "../shared/room-state.ts";
import type { ServerClock } from "../shared/server-clock.ts";

/** How often the console reads the auction's standing and history, ms (bid frames also trigger a read). */
const REFRESH_MS = 2_000;
/** Bids of the history shown. */
const HISTORY_ROWS = 20;

const STATE: Record<AuctionViewResponse["auction"]["state"], MessageKey> = {
  scheduled: "auction.host.scheduled",
  live: "auction.host.live",
  closed: "auction.host.closed",
  settled: "auction.host.settled",
};

/** The room's auction as the host watches it: state, price, leader, time left, reserve, newest bids. */
export function AuctionPanel({
  drops,
  conn,
  clock,
  token,
}: {
  drops: readonly DropView[];
  conn: LiveConnection;
  clock: ServerClock;
  token: string;
}) {
  const auction = currentAuction(drops);
  if (!auction) return null;
  return <AuctionStanding key={auction.dropId} drop={auction} conn={conn} clock={clock} token={token} />;
}

function AuctionStanding({
  drop,
  conn,
  clock,
  token,
}: {
  drop: DropView;
  conn: LiveConnection;
  clock: ServerClock;
  token: string;
}) {
  const t = useI18n();
  const [view, setView] = useState<AuctionViewResponse | undefined>();
  const now = useServerNow(clock, 500);
  const read = () =>
    api<AuctionViewResponse>(
      `/api/v1/drops/${encodeURIComponent(drop.dropId)}/auction?limit=${HISTORY_ROWS}`,
      {
        token,
      },
    );
  const error = usePoll(read, REFRESH_MS, setView);
  // A bid or the end: read at once rather than at the next poll.
  useFrames(conn, (f) => {
    if ((f.t === "auction" || f.t === "auctionEnded") && f.dropId === drop.dropId)
      read()
        .then(setView)
        .catch(() => undefined);
  });

  const a = view?.auction;
  const currency = drop.product.currency;
  return (
    <section class="panel" aria-labelledby="auction-panel-title" data-testid="auction-panel">
      <h2 id="auction-panel-title">{t("auction.host.title", { title: drop.product.title })}</h2>
      {a ? (
        <>
          <p data-testid="auction-standing" data-state={a.state}>
            <span class={`state state-${a.state}`}>{t(STATE[a.state])}</span>{" "}
            {t("auction.host.standing", {
              price: money(a.priceMinor, currency),
              n: a.bids,
              who: a.leader ?? "–",
            })}
          </p>
          <p class="muted">
            {a.state === "live"
              ? t("auction.endsIn", { time: clockText(a.endsAt - now) })
              : a.state === "settled"
                ? a.reserveMet
                  ? t("auction.host.sold", { price: money(a.priceMinor, currency) })
                  : t("auction.reserveNotMet")
                : null}
            {a.hasReserve && a.state !== "settled" ? ` · ${t("auction.hasReserve")}` : null}
          </p>
          {view.history.length > 0 ? (
            <table class="table" data-testid="bid-history">
              <caption class="sr-only">{t("auction.host.history")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("auction.host.at")}</th>
                  <th scope="col">{t("auction.host.bidder")}</th>
                  <th scope="col">{t("auction.host.priceAfter")}</th>
                  <th scope="col">{t("auction.host.leaderAfter")}</th>
                </tr>
              </thead>
              <tbody>
                {view.history.map((b) => (
                  <tr key={`${b.at}-${b.user}-${b.priceMinor}`}>
                    <td>{new Date(b.at).toLocaleTimeString()}</td>
                    <td>{b.user}</td>
                    <td>{money(b.priceMinor, currency)}</td>
                    <td>{b.leader}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p class="muted">{t("auction.noBids")}</p>
          )}
        </>
      ) : null}
      {error ? (
        <p class="bad" role="alert">
          {error.message}
        </p>
      ) : null}
    </section>
  );
}
