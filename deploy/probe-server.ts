import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface ProbeServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The probe endpoints of a role without an HTTP server of its own (the order worker): `/healthz`
 * (the process answers), `/readyz` (`ready()`: 200 or 503 with the checks), `/metrics`
 * (Prometheus text of `registry`). Nothing else is served; a request body is never read.
 */
export async function startProbeServer(o: {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  readonly ready: () => Promise<{ ok: boolean; checks: Record<string, string> }>;
}): Promise<ProbeServer> {
  const server: Server = createServer((req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? "").split("?")[0];
    if (req.method !== "GET")
      return json(405, { error: { code: "METHOD_NOT_ALLOWED", message: "GET only" } });
    if (path === "/healthz") return json(200, { status: "ok" });
    if (path === "/readyz") {
      o.ready().then(
        (r) => json(r.ok ? 200 : 503, { status: r.ok ? "ready" : "not ready", checks: r.checks }),
        (err: unknown) => json(503, { status: "not ready", checks: { error: (err as Error).message } }),
      );
      return;
    }
    if (path === "/metrics") {
      o.registry.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": o.registry.contentType });
          res.end(text);
        },
        () => json(500, { error: { code: "INTERNAL", message: "metrics failed" } }),
      );
      return;
    }
    json(404, { error: { code: "NOT_FOUND", message: `no route for ${req.method} ${path}` } });
  });
  // Slow clients cannot hold sockets open: probes are quick.
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${o.host}:${port}`,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
