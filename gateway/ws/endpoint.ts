import type { HttpRequest, HttpResponse, TemplatedApp, us_socket_context_t, WebSocket } from "uWebSockets.js";
import type { TokenService } from "../../auth/index.ts";
import { WIRE_LIMITS, WireErrorCode } from "../../protocol/index.ts";
import { ClientAddress } from "../client-address.ts";
import { type Conn, MAX_BACKPRESSURE, SocketServer } from "./socket-server.ts";

export interface WebSocketEndpointOptions {
  readonly tokens: TokenService;
  /** Connections allowed per client address on this node, both lanes together. */
  readonly maxConnectionsPerIp: number;
  /** Who the client is behind trusted proxies (GATEWAY_TRUSTED_PROXIES). Default: trusts none. */
  readonly clientAddress?: ClientAddress;
  readonly live: SocketServer;
  /** The shadow (load-test) lane; absent when this deployment runs none. */
  readonly shadow?: SocketServer | undefined;
  /** The kill switch: false refuses shadow connections (403 SHADOW_DISABLED). */
  readonly shadowEnabled: () => boolean;
}

/**
 * `/ws?token=…`: verifies the token at upgrade (synchronously), then hands the connection to its lane for good.
 * A token with the shadow claim gets the shadow lane (its own stock, rooms, orders): the claim is
 * signed, so load-test traffic cannot reach live stock and live traffic cannot reach shadow stock.
 */
export function registerWebSocketEndpoint(app: TemplatedApp, o: WebSocketEndpointOptions): void {
  const perIp = new Map<string, number>();
  const addresses = o.clientAddress ?? new ClientAddress([]);
  const release = (ip: string) => {
    const left = (perIp.get(ip) ?? 1) - 1;
    if (left > 0) perIp.set(ip, left);
    else perIp.delete(ip);
  };
  const laneOf = (conn: Conn): SocketServer => (conn.claims.shadow && o.shadow ? o.shadow : o.live);

  const refuse = (res: HttpResponse, status: string, code: string, message: string) =>
    res
      .writeStatus(status)
      .writeHeader("Content-Type", "application/json")
      .end(JSON.stringify({ error: { code, message } }));

  const upgrade = (res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void => {
    const token = req.getQuery("token") ?? "";
    const key = req.getHeader("sec-websocket-key");
    const protocol = req.getHeader("sec-websocket-protocol");
    const extensions = req.getHeader("sec-websocket-extensions");
    // RFC 6455 asks for `Connection: Upgrade`. An upgrade that says `Connection: close` would make
    // uWS 20.30, upgrading inside a cork, close the new socket right after its 101: refuse it plainly.
    if (!/\bupgrade\b/i.test(req.getHeader("connection"))) {
      refuse(res, "400 Bad Request", "BAD_REQUEST", "a WebSocket upgrade needs Connection: Upgrade");
      return;
    }
    const ip = addresses.resolve(
      Buffer.from(res.getRemoteAddressAsText()).toString(),
      req.getHeader("x-forwarded-for"),
    );
    // Counted at the upgrade, which opens the socket before this handler returns.
    const held = perIp.get(ip) ?? 0;
    if (held >= o.maxConnectionsPerIp) {
      refuse(
        res,
        "429 Too Many Requests",
        WireErrorCode.RATE_LIMITED,
        "too many connections from this address",
      );
      return;
    }
    // The token is checked before this handler returns and the socket is upgraded here, inside
    // uWS's own cork. An upgrade completed later (after an await, in res.cork) can be closed by
    // uWS 20.30 right after open, without a close frame: its cork misreads the adopted socket.
    const verified = o.tokens.check(token);
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
    // The slot is the socket's from here: released by close.
    perIp.set(ip, held + 1);
    res.upgrade(SocketServer.newConn(verified.claims, ip), key, protocol, extensions, context);
  };

  app.ws<Conn>("/ws", {
    maxPayloadLength: WIRE_LIMITS.maxFrameBytes,
    maxBackpressure: MAX_BACKPRESSURE,
    closeOnBackpressureLimit: 1,
    idleTimeout: 60,
    sendPingsAutomatically: true,
    upgrade,
    open: (ws: WebSocket<Conn>) => laneOf(ws.getUserData()).open(ws),
    message: (ws: WebSocket<Conn>, message: ArrayBuffer) => laneOf(ws.getUserData()).message(ws, message),
    close: (ws: WebSocket<Conn>) => {
      const conn = ws.getUserData();
      release(conn.ip);
      laneOf(conn).close(ws);
    },
  });
}
