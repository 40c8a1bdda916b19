/**
 * Every frame a load-test socket sends goes through sendIfOpen: k6's WebSocket throws
 * InvalidStateError when sent to after it closed (or before it opened), and a session's timers
 * can fire between the server closing the socket and the close event reaching the VU. Both the
 * k6 and the `ws` socket number their states the same way (WHATWG: 1 = OPEN).
 */

/** The part of a k6 `WebSocket` or a `ws` one these helpers touch. */
export interface StatefulSocket {
  readonly readyState: number;
  send(text: string): void;
  close(): void;
}

export const SOCKET_OPEN = 1;
const SOCKET_CLOSING = 2;

/** Sends when the socket is open; false (nothing thrown) when it is not, or the send failed. */
export function sendIfOpen(ws: StatefulSocket, text: string): boolean {
  if (ws.readyState !== SOCKET_OPEN) return false;
  try {
    ws.send(text);
    return true;
  } catch {
    // Closed between the check and the send (another thread of the runtime saw the close first).
    return false;
  }
}

/** Closes unless it is already closing or closed; never throws. */
export function closeIfOpen(ws: StatefulSocket): void {
  if (ws.readyState >= SOCKET_CLOSING) return;
  try {
    ws.close();
  } catch {
    // Already gone: nothing left to close.
  }
}
