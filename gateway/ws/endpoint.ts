import type { HttpRequest, HttpResponse, TemplatedApp, us_socket_context_t, WebSocket } from "uWebSockets.js";
import type { TokenService } from "../../auth/index.ts";
import { WIRE_LIMITS, WireErrorCode } from "../../protocol/index.ts";
import { ClientAddress } from "../client-address.ts";
import { type Conn, MAX_BACKPRESSURE, SocketServer } from "./socket-server.ts";

export interface WebSocketEndpointOptions {
  readonly tokens: TokenService;
  /**
   * Connections allowed per client address on this node, both lanes together: open ones plus
   * upgrades still checking their token.
   */
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
 * `/ws?token=…`: verifies the token at upgrade, then hands the connection to its lane for good.
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
    // Everything from the request is read before the first await (uWS requests die on return).
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
    // Counted from the start of the upgrade, not from open: a burst of upgrades all waiting on
    // their token check would otherwise all pass the cap.
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
    perIp.set(ip, held + 1);
    // The slot is the upgrade's until it opens (then the socket's, released on close), or is
    // given back once if it is refused or the client goes away first.
    let slot = true;
    const giveBack = () => {
      if (!slot) return;
      slot = false;
      release(ip);
    };
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
      giveBack();
    });
    o.tokens
      .verify(token)
      .then((verified) => {
        if (aborted) return;
        res.cork(() => {
          if (!verified.ok) {
            giveBack();
            refuse(res, "401 Unauthorized", WireErrorCode.UNAUTHORIZED, `token refused (${verified.reason})`);
            return;
          }
          if (verified.claims.shadow && !(o.shadow && o.shadowEnabled())) {
            giveBack();
            refuse(
              res,
              "403 Forbidden",
              WireErrorCode.SHADOW_DISABLED,
              "shadow (load-test) traffic is switched off",
            );
            return;
          }
          slot = false; // from here the socket's: released by close
          res.upgrade(SocketServer.newConn(verified.claims, ip), key, protocol, extensions, context);
        });
      })
      .catch(() => {
        if (aborted) return;
        giveBack();
        res.cork(() => refuse(res, "500 Internal Server Error", WireErrorCode.INTERNAL, "internal error"));
      });
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
