import uWS from "uWebSockets.js";
import type { ClientAddress } from "../../gateway/client-address.ts";
import { createMetrics, type GatewayMetrics } from "../../gateway/metrics.ts";
import { registerWebSocketEndpoint } from "../../gateway/ws/endpoint.ts";
import { SocketServer, type SocketServerOptions } from "../../gateway/ws/socket-server.ts";
import type { GatewayStack } from "./gateway.ts";

export interface SocketNode {
  readonly url: string;
  readonly metrics: GatewayMetrics;
  close(): void;
}

/**
 * The gateway's WebSocket side alone, on a test's stack, with the limits the test is about: a
 * SocketServer behind the real endpoint on a port of its own.
 */
export async function startSocketNode(
  g: GatewayStack,
  overrides: Partial<SocketServerOptions> = {},
  endpoint: { maxConnectionsPerIp?: number; clientAddress?: ClientAddress } = {},
): Promise<SocketNode> {
  const app = uWS.App();
  const metrics = createMetrics();
  const sockets = new SocketServer(app, {
    engine: g.options.engine,
    checkout: g.options.checkout,
    tokens: g.tokens,
    redis: g.options.redis,
    subscriber: g.redis.client(),
    keyPrefix: g.options.keyPrefix,
    metrics,
    log: g.options.log,
    ...overrides,
  });
  registerWebSocketEndpoint(app, {
    tokens: g.tokens,
    maxConnectionsPerIp: endpoint.maxConnectionsPerIp ?? 1_000,
    live: sockets,
    shadowEnabled: () => false,
    ...(endpoint.clientAddress ? { clientAddress: endpoint.clientAddress } : {}),
  });
  const listen = await new Promise<uWS.us_listen_socket>((resolve, reject) =>
    app.listen("127.0.0.1", 0, (s) => (s ? resolve(s) : reject(new Error("listen")))),
  );
  return {
    url: `http://127.0.0.1:${uWS.us_socket_local_port(listen)}`,
    metrics,
    close() {
      sockets.shutdown();
      uWS.us_listen_socket_close(listen);
    },
  };
}
