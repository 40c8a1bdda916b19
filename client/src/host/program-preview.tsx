import { useCallback, useState } from "preact/hooks";
import type { RoomDelayResponse } from "../../../protocol/index.ts";
import { Player } from "../live/player.tsx";
import { api } from "../shared/api.ts";
import { useI18n } from "../shared/i18n.ts";
import { usePoll } from "../shared/poll.ts";
import type { ServerClock } from "../shared/server-clock.ts";

/** How often the room's delay is asked for, ms (the delay panel's period). */
const POLL_MS = 2_000;

/**
 * The program: the room's own viewer stream (WebRTC or HLS, the viewer page's player, muted),
 * so a host fed from an encoder or the test pattern sees what viewers see rather than a black
 * camera preview, with the room's median viewer delay beside it.
 */
export function ProgramPreview({ room, token, clock }: { room: string; token: string; clock: ServerClock }) {
  const t = useI18n();
  const [delay, setDelay] = useState<RoomDelayResponse | undefined>();
  usePoll(() => api<RoomDelayResponse>(`/api/v1/rooms/${room}/delay`, { token }), POLL_MS, setDelay);
  const tokenFn = useCallback(async () => token, [token]);
  const ignore = useCallback(() => undefined, []);
  return (
    <section class="panel" aria-labelledby="program-title" data-testid="program-preview">
      <h2 id="program-title">{t("host.program")}</h2>
      <Player room={room} token={tokenFn} clock={clock} onProgramTime={ignore} />
      <p class="muted" data-testid="program-delay">
        {delay && delay.reports > 0
          ? t("host.programDelay", { s: (delay.p50Ms / 1000).toFixed(delay.p50Ms < 1000 ? 2 : 1) })
          : t("host.programNoDelay")}
      </p>
    </section>
  );
}
