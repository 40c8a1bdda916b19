import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { Header, ReconnectBanner, Viewers } from "../shared/chrome.tsx";
import { LiveConnection, wsUrl } from "../shared/connection.ts";
import { useConnectionState, useRoom } from "../shared/hooks.ts";
import { t, useI18n } from "../shared/i18n.ts";
import { roomFromPath } from "../shared/route.ts";
import { ServerClock } from "../shared/server-clock.ts";
import { PurchaseToasts } from "../shared/toasts.tsx";
import { peekClaims, privilegedToken, rememberPrivilegedToken } from "../shared/tokens.ts";
import { AuctionForm } from "./auction-form.tsx";
import { AuctionPanel } from "./auction-panel.tsx";
import { CouponPanel } from "./coupon-panel.tsx";
import { DelayPanel } from "./delay-panel.tsx";
import { DropForm } from "./drop-form.tsx";
import { DropTable } from "./drop-table.tsx";
import { GoLive } from "./go-live.tsx";
import { ModeratedChat } from "./moderation.tsx";
import { ProgramPreview } from "./program-preview.tsx";
import { ReportsPanel } from "./reports-panel.tsx";
import { StatsPanel } from "./stats-panel.tsx";
import "../shared/styles.css";

/** A host (or admin) token for the room, from the URL fragment or pasted in. */
function TokenGate({
  room,
  denied,
  onToken,
}: {
  room: string;
  denied: boolean;
  onToken: (token: string) => void;
}) {
  const tr = useI18n();
  const [value, setValue] = useState("");
  return (
    <form
      class="panel"
      style={{ margin: "12px" }}
      onSubmit={(e) => {
        e.preventDefault();
        rememberPrivilegedToken(value.trim());
        onToken(value.trim());
      }}
    >
      <h2>{tr("host.gate.title", { room })}</h2>
      <p class="muted">{tr("host.gate.help")}</p>
      {denied ? (
        <p class="bad" role="alert">
          {tr("host.gate.denied", { room })}
        </p>
      ) : null}
      <label class="form-grid">
        <span class="wide">{tr("host.gate.label")}</span>
        <input
          class="wide"
          value={value}
          required
          onInput={(e) => setValue((e.target as HTMLInputElement).value)}
        />
      </label>
      <button type="submit" class="btn btn-primary" style={{ marginTop: "8px" }}>
        {tr("host.gate.submit")}
      </button>
    </form>
  );
}

function Console({ room, token }: { room: string; token: string }) {
  const tr = useI18n();
  const clock = useMemo(() => new ServerClock(), []);
  const conn = useMemo(
    () => new LiveConnection({ url: wsUrl(), token: async () => token, clock, rooms: [room] }),
    [clock, room, token],
  );
  useEffect(() => {
    conn.start();
    return () => conn.stop();
  }, [conn]);
  const state = useRoom(conn, clock, room);
  const connState = useConnectionState(conn);
  return (
    <div class="page host-page">
      <Header title={tr("host.title", { room })}>
        <Viewers n={state.viewers} />
        <a href={`/live/${room}`} target="_blank" rel="noopener">
          {tr("host.viewerLink")}
        </a>
      </Header>
      <ReconnectBanner state={connState} />
      <main class="grid cols">
        <div style={{ position: "relative" }}>
          <GoLive room={room} token={token} />
          <PurchaseToasts conn={conn} room={room} />
        </div>
        <ProgramPreview room={room} token={token} clock={clock} />
        <DropForm room={room} token={token} clock={clock} />
        <AuctionForm room={room} token={token} />
        <AuctionPanel drops={[...state.drops.values()]} conn={conn} clock={clock} token={token} />
        <DropTable drops={[...state.drops.values()]} conn={conn} clock={clock} room={room} />
        <CouponPanel room={room} token={token} />
        <StatsPanel room={room} token={token} />
        <ReportsPanel
          room={room}
          token={token}
          drops={[...state.drops.values()].map((d) => ({ dropId: d.dropId, title: d.product.title }))}
        />
        <DelayPanel room={room} token={token} />
        <ModeratedChat conn={conn} room={room} chat={state.chat} />
      </main>
    </div>
  );
}

function HostApp({ room }: { room: string }) {
  const [token, setToken] = useState(() => privilegedToken());
  const claims = token ? peekClaims(token) : {};
  const allowed = claims.role === "admin" || (claims.role === "host" && (claims.rooms ?? []).includes(room));
  if (!token || !allowed) return <TokenGate room={room} denied={Boolean(token)} onToken={setToken} />;
  return <Console room={room} token={token} />;
}

const root = document.getElementById("app");
const room = roomFromPath("host");
if (root) render(room ? <HostApp room={room} /> : <p class="page">{t("app.noRoom")}</p>, root);
