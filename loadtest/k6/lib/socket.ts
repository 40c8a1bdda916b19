import { clearTimeout, setTimeout } from "k6/timers";
import { WebSocket } from "k6/websockets";
import { type Runtime, Session } from "../../lib/session.ts";
import { closeIfOpen, sendIfOpen } from "../../lib/socket-send.ts";
import type { K6Config } from "./config.ts";
import { k6Sink } from "./metrics.ts";

/** k6's event loop behind the session's Runtime port. */
export const k6Runtime: Runtime = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
};

/**
 * Opens `/ws?token=` with k6/websockets and wires it to a shared Session. The VU's iteration lasts
 * until the socket closes and the session's timers are gone (k6 waits for its event loop). Every
 * send goes through sendIfOpen: k6 throws InvalidStateError on a socket that is not open.
 */
export function openSession(cfg: K6Config, token: string, idPrefix: string): Session {
  const startedAt = Date.now();
  const ws = new WebSocket(`${cfg.wsUrl}?token=${encodeURIComponent(token)}`, null, {
    tags: { step: "connect" },
  });
  const session = new Session(
    { send: (text) => sendIfOpen(ws, text), close: () => closeIfOpen(ws) },
    k6Runtime,
    k6Sink,
    startedAt,
    idPrefix,
  );
  ws.onmessage = (event) => {
    if (event && typeof event.data === "string") session.message(event.data);
  };
  ws.onclose = () => session.closed();
  ws.onerror = () => {
    session.closed();
    // An error need not close the socket; the VU's iteration would wait on it forever.
    closeIfOpen(ws);
  };
  return session;
}
