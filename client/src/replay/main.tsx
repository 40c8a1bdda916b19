import { render } from "preact";
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { Replay } from "../../../protocol/index.ts";
import type { Hold } from "../live/drop-card.tsx";
import { HoldPanel } from "../live/hold-panel.tsx";
import { loadHolds, saveHolds } from "../live/holds-store.ts";
import { useDraws } from "../live/use-draws.ts";
import { Header, ReconnectBanner } from "../shared/chrome.tsx";
import { LiveConnection, wsUrl } from "../shared/connection.ts";
import { useConnectionState, useRoom, useServerNow } from "../shared/hooks.ts";
import { t, useI18n } from "../shared/i18n.ts";
import { roomFromPath } from "../shared/route.ts";
import { ServerClock } from "../shared/server-clock.ts";
import { guestToken } from "../shared/tokens.ts";
import { Chapters } from "./chapters.tsx";
import { loadReplays, loadRoomDrops } from "./data.ts";
import { ReplayCard } from "./replay-card.tsx";
import { type ReplayControls, ReplayPlayer } from "./replay-player.tsx";
import { dropOnScreen, type RoomDrop, replayChapters } from "./timeline.ts";
import "../shared/styles.css";
import "./replay.css";

/**
 * `/replay/<room>[?id=<recording>]`: a past broadcast with its timeline. The drops of the room
 * are chapters; the product on screen appears at its moment; a drop that still sells is bought
 * through the room's socket exactly as on the live page (holds, payment and all).
 */
function ReplayApp({ room, wanted }: { room: string; wanted: string | null }) {
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
  const state = useRoom(conn, clock, room);
  const connState = useConnectionState(conn);
  const now = useServerNow(clock, 1_000);
  const [replays, setReplays] = useState<Replay[] | "error" | undefined>();
  const [drops, setDrops] = useState<RoomDrop[]>([]);
  const [programMs, setProgramMs] = useState<number | undefined>();
  const [holds, setHolds] = useState<readonly Hold[]>(() => loadHolds(room));
  const controls = useRef<ReplayControls | undefined>(undefined);
  const liveDrops = useRef(state.drops);
  liveDrops.current = state.drops;

  useEffect(() => {
    let cancelled = false;
    loadReplays(room)
      .then((r) => !cancelled && setReplays(r))
      .catch(() => !cancelled && setReplays("error"));
    // The timeline is an extra: without it the recording still plays.
    loadRoomDrops(room)
      .then((d) => !cancelled && setDrops(d))
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [room]);

  const addHold = useCallback(
    (h: Hold) =>
      setHolds((all) => {
        const next = [...all.filter((x) => x.reservationId !== h.reservationId), h];
        saveHolds(room, next);
        return next;
      }),
    [room],
  );
  const closeHold = (id: string) =>
    setHolds((all) => {
      const next = all.filter((x) => x.reservationId !== id);
      saveHolds(room, next);
      return next;
    });
  const { onEntered, onTicket } = useDraws(conn, guestToken, liveDrops, addHold);
  const onProgramTime = useCallback((ms: number | undefined) => setProgramMs(ms), []);
  const setControls = useCallback((c: ReplayControls) => {
    controls.current = c;
  }, []);

  const list = Array.isArray(replays) ? replays : [];
  const replay = list.find((r) => r.id === wanted) ?? list[0];
  const chapters = useMemo(() => (replay ? replayChapters(replay, drops) : []), [replay, drops]);
  const current = programMs === undefined ? undefined : chapters.filter((c) => c.at <= programMs).at(-1);
  const onScreen = dropOnScreen(drops, programMs);

  return (
    <div class="page live-page replay-page">
      <Header title={room}>
        <span class="pill">{t("replay.badge")}</span>
      </Header>
      <ReconnectBanner state={connState} />
      <main class="live-main">
        <div class="stage">
          {replay ? (
            <ReplayPlayer replay={replay} onProgramTime={onProgramTime} controls={setControls} />
          ) : (
            <p class="muted" data-testid="replay-none" role="status">
              {replays === undefined
                ? t("replay.loading")
                : replays === "error"
                  ? t("replay.error")
                  : t("replay.none")}
            </p>
          )}
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
          {onScreen ? (
            <ReplayCard
              drop={onScreen}
              live={state.drops.get(onScreen.dropId)}
              now={now}
              conn={conn}
              clock={clock}
              onHold={addHold}
              onEntered={onEntered}
              onTicket={onTicket}
            />
          ) : null}
          {replay ? (
            <Chapters
              replay={replay}
              chapters={chapters}
              current={current}
              onSeek={(s) => controls.current?.seek(s)}
            />
          ) : null}
        </div>
      </main>
    </div>
  );
}

const root = document.getElementById("app");
const room = roomFromPath("replay");
const wanted = new URLSearchParams(location.search).get("id");
if (root)
  render(room ? <ReplayApp room={room} wanted={wanted} /> : <p class="page">{t("app.noRoom")}</p>, root);
