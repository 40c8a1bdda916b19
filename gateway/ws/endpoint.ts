import type { HttpRequest, HttpResponse, TemplatedApp, us_socket_context_t, WebSocket } from "uWebSockets.js";
import { WIRE_LIMITS, WireErrorCode } from "../../protocol/index.ts";
import type { TokenService } from "../auth/index.ts";
import { type Conn, MAX_BACKPRESSURE, SocketServer } from "./socket-server.ts";

export interface WebSocketEndpointOptions {
  readonly tokens: TokenService;
  /** Open connections allowed per client address on this node, both lanes together. */
  readonly maxConnectionsPerIp: number;
  readonly live: SocketServer;
  /** The shadow (load-test) lane; absent when this deployment runs none. */
  readonly shadow?: SocketServer | undefined;
  /** The kill switch: false refuses shadow connections (403 SHADOW_DISABLED). */
  readonly shadowEnabled: () => boolean;
}

/**
 * `/ws?token=…`: verifies the token at upgrade, then hands the connection to its lane for good.
 * A token with the shadow claim gets the shadow lane (its own stock, rooms, orders): the claim is
 * signed, so load-test traffic cannot reach live stock and live traffic cannot reach shadow stock.
 */
export function registerWebSocketEndpoint(app: TemplatedApp, o: WebSocketEndpointOptions): void {
  const perIp = new Map<string, number>();
  const laneOf = (conn: Conn): SocketServer => (conn.claims.shadow && o.shadow ? o.shadow : o.live);

  const refuse = (res: HttpResponse, status: string, code: string, message: string) =>
    res
      .writeStatus(status)
      .writeHeader("Content-Type", "application/json")
      .end(JSON.stringify({ error: { code, message } }));

  const upgrade = (res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void => {
    // Everything from the request is read before the first await (uWS requests die on return).
    const token = req.getQuery("token") ?? "";
    const key = req.getHeader("sec-websocket-key");
    const protocol = req.getHeader("sec-websocket-protocol");
    const extensions = req.getHeader("sec-websocket-extensions");
    const ip = Buffer.from(res.getRemoteAddressAsText()).toString();
    if ((perIp.get(ip) ?? 0) >= o.maxConnectionsPerIp) {
      refuse(
        res,
        "429 Too Many Requests",
        WireErrorCode.RATE_LIMITED,
        "too many connections from this address",
      );
      return;
    }
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    o.tokens.verify(token).then((verified) => {
      if (aborted) return;
      res.cork(() => {
        if (!verified.ok) {
          refuse(res, "401 Unauthorized", WireErrorCode.UNAUTHORIZED, `token refused (${verified.reason})`);
          return;
        }
        if (verified.claims.shadow && !(o.shadow && o.shadowEnabled())) {
          refuse(
            res,
            "403 Forbidden",
            WireErrorCode.SHADOW_DISABLED,
            "shadow (load-test) traffic is switched off",
          );
          return;
        }
        res.upgrade(SocketServer.newConn(verified.claims, ip), key, protocol, extensions, context);
      });
    });
  };

  app.ws<Conn>("/ws", {
    maxPayloadLength: WIRE_LIMITS.maxFrameBytes,
    maxBackpressure: MAX_BACKPRESSURE,
    closeOnBackpressureLimit: 1,
    idleTimeout: 60,
    sendPingsAutomatically: true,
    upgrade,
    open: (ws: WebSocket<Conn>) => {
      const conn = ws.getUserData();
      perIp.set(conn.ip, (perIp.get(conn.ip) ?? 0) + 1);
      laneOf(conn).open(ws);
    },
    message: (ws: WebSocket<Conn>, message: ArrayBuffer) => laneOf(ws.getUserData()).message(ws, message),
    close: (ws: WebSocket<Conn>) => {
      const conn = ws.getUserData();
      const left = (perIp.get(conn.ip) ?? 1) - 1;
      if (left > 0) perIp.set(conn.ip, left);
      else perIp.delete(conn.ip);
      laneOf(conn).close(ws);
    },
  });
}
