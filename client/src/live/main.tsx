import { render } from "preact";
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { DelayReporter } from "../media/delay-reporter.ts";
import { ChatInput } from "../shared/chat-input.tsx";
import { ChatList } from "../shared/chat-list.tsx";
import { Header, ReconnectBanner, Viewers } from "../shared/chrome.tsx";
import { LiveConnection, wsUrl } from "../shared/connection.ts";
import { entrySummary } from "../shared/draw-state.ts";
import { useConnectionState, useRoom, useServerNow } from "../shared/hooks.ts";
import { t, useI18n } from "../shared/i18n.ts";
import { type DropView, hasFormatCard, isHeart, onDropCard, pinnedDrop } from "../shared/room-state.ts";
import { roomFromPath } from "../shared/route.ts";
import { ServerClock } from "../shared/server-clock.ts";
import { PurchaseToasts } from "../shared/toasts.tsx";
import { guestToken } from "../shared/tokens.ts";
import { CouponCard } from "./coupon-card.tsx";
import { useCoupons } from "./coupon-state.ts";
import { DropCard, type Hold } from "./drop-card.tsx";
import { Hearts } from "./hearts.tsx";
import { HoldPanel } from "./hold-panel.tsx";
import { loadHolds, saveHolds } from "./holds-store.ts";
import { PinnedFormats } from "./pinned-formats.tsx";
import { Player, type PlayMode } from "./player.tsx";
import { useDraws } from "./use-draws.ts";
import "../shared/styles.css";

/** An HLS viewer waits at most this long for their video to reach a drop's announcement. */
const MAX_REVEAL_DELAY_MS = 30_000;

/**
 * Drops an HLS viewer must not see yet: announced after the moment their video shows. The buy
 * window is the server's T0 for everyone; only the card's appearance follows the video.
 */
function hiddenDrops(
  drops: Iterable<DropView>,
  programTime: number | undefined,
  mode: PlayMode,
  now: number,
): string {
  if (mode !== "hls" || programTime === undefined) return "";
  const hidden: string[] = [];
  for (const d of drops) {
    if (d.announcedAt > programTime && now - d.announcedAt < MAX_REVEAL_DELAY_MS) hidden.push(d.dropId);
  }
  return hidden.sort().join(",");
}

function LiveApp({ room }: { room: string }) {
  const t = useI18n();
  const clock = useMemo(() => new ServerClock(), []);
  const conn = useMemo(
    () => new LiveConnection({ url: wsUrl(), token: guestToken, clock, rooms: [room] }),
    [clock, room],
  );
  useEffect(() => {
    conn.start();
    return () => conn.stop();
  }, [conn]);
  // The player's delay samples, reported to the room (what a drop's fair window is sized by).
  const delay = useMemo(
    () => new DelayReporter({ room, send: (f) => conn.state === "open" && conn.send(f) }),
    [conn, room],
  );
  const state = useRoom(conn, clock, room);
  const connState = useConnectionState(conn);
  const coupons = useCoupons(conn, room);
  const now = useServerNow(clock, 1_000);
  const [holds, setHolds] = useState<readonly Hold[]>(() => loadHolds(room));
  // Which drops are hidden, as a string: the player's ticks re-render only when it changes.
  const [, setHidden] = useState("");
  const drops = useRef(state.drops);
  drops.current = state.drops;

  // The video's position, kept between the player's quarter-second ticks, so a drop that arrives
  // between two ticks is judged at once and never flashes on an HLS viewer's screen.
  const video = useRef<{ programTime: number | undefined; mode: PlayMode }>({
    programTime: undefined,
    mode: "webrtc",
  });
  const onProgramTime = useCallback(
    (ms: number | undefined, mode: PlayMode) => {
      video.current = { programTime: ms, mode };
      setHidden(hiddenDrops(drops.current.values(), ms, mode, clock.now()));
    },
    [clock],
  );

  const hiddenIds = new Set(
    hiddenDrops(state.drops.values(), video.current.programTime, video.current.mode, clock.now()).split(","),
  );
  const visible = [...state.drops.values()].filter((d) => !hiddenIds.has(d.dropId));
  const drop = pinnedDrop(visible.filter(onDropCard), now);
  const chat = useMemo(() => state.chat.filter((m) => m.deleted || !isHeart(m.text)), [state.chat]);

  const addHold = useCallback(
    (h: Hold) =>
      setHolds((all) => {
        const next = [...all.filter((x) => x.reservationId !== h.reservationId), h];
        saveHolds(room, next);
        return next;
      }),
    [room],
  );
  const { draws, onEntered, onTicket } = useDraws(conn, guestToken, drops, addHold);
  const heldDrops = useMemo(() => new Set(holds.map((h) => h.dropId)), [holds]);
  const closeHold = (id: string) =>
    setHolds((all) => {
      const next = all.filter((x) => x.reservationId !== id);
      saveHolds(room, next);
      return next;
    });

  return (
    <div class="page live-page">
      <a class="skip" href="#chat-text">
        {t("a11y.skipToChat")}
      </a>
      <Header title={room}>
        <span class="pill live-pill">{t("live.badge")}</span>
        <Viewers n={state.viewers} />
      </Header>
      <ReconnectBanner state={connState} />
      <main class="live-main">
        <div class="stage">
          <Player
            room={room}
            token={guestToken}
            clock={clock}
            onProgramTime={onProgramTime}
            onDelay={delay.observe}
          />
          <Hearts chat={state.chat} />
          <PurchaseToasts conn={conn} room={room} />
        </div>
        <div class="commerce">
          {holds.map((h) => (
            <HoldPanel
              key={h.reservationId}
              hold={h}
              conn={conn}
              clock={clock}
              token={guestToken}
              onClose={() => closeHold(h.reservationId)}
            />
          ))}
          <CouponCard coupons={coupons} conn={conn} currency={drop?.product.currency ?? "USD"} />
          <PinnedFormats
            {...{ visible, drops, conn, clock, onHold: addHold, draws, onEntered, onTicket }}
            token={guestToken}
            holding={heldDrops}
          />
          {drop ? (
            <DropCard
              drop={drop}
              conn={conn}
              clock={clock}
              onHold={addHold}
              entry={entrySummary(
                draws,
                drop.dropId,
                holds.reduce((n, h) => n + (h.dropId === drop.dropId && h.via === "handoff" ? h.qty : 0), 0),
              )}
              ticket={draws.tickets.get(drop.dropId)}
              onEntered={onEntered}
              onTicket={onTicket}
            />
          ) : hasFormatCard(visible) ? null : (
            <p class="muted no-drop" data-testid="no-drop">
              {t("drop.none")}
            </p>
          )}
        </div>
        <section class="chat-panel" aria-label={t("chat.title")}>
          <ChatList messages={chat} label={t("chat.title")} />
          <ChatInput conn={conn} room={room} hearts />
        </section>
      </main>
    </div>
  );
}

const root = document.getElementById("app");
const room = roomFromPath("live");
// `?verify=DROP`: the draw's verify view, its own chunk (the viewer's initial JavaScript stays lean).
const verify = new URLSearchParams(location.search).get("verify");
if (root && verify)
  import("../verify/verify-page.tsx")
    .then(({ VerifyPage }) => render(<VerifyPage dropId={verify} room={room} />, root))
    .catch(() => render(<p class="page">{t("verify.error", { message: "offline" })}</p>, root));
else if (root) render(room ? <LiveApp room={room} /> : <p class="page">{t("app.noRoom")}</p>, root);
