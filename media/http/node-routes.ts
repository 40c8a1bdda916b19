import type { MediaInventory } from "../../protocol/index.ts";
import type { MediaMetrics } from "../metrics.ts";
import { HLS_PATH, serveHls } from "./hls-files.ts";
import { CORS_HEADERS, sendJson } from "./io.ts";
import { type AnyRoute, defineRoute } from "./router.ts";

export interface NodeRouteDeps {
  readonly hlsRoot: string;
  readonly playlistFilter?: (room: string, text: string) => string;
  readonly metrics: MediaMetrics;
  readonly healthy: () => boolean;
  /** False once the node is stopping: load balancers stop sending it new viewers. */
  readonly accepting: () => boolean;
  readonly inventory: () => Promise<MediaInventory>;
}

/**
 * The node's own routes beside signaling: HLS files (public, so a CDN can front them), health and
 * metrics (public, for probes and Prometheus), and the worker inventory (admins).
 */
export function nodeRoutes(d: NodeRouteDeps): AnyRoute[] {
  return [
    defineRoute({
      method: "GET",
      path: /^\/healthz$/,
      name: "healthz",
      rule: "public",
      async run(c) {
        const ok = d.healthy();
        sendJson(c.res, ok ? 200 : 503, { status: ok ? "ok" : "no mediasoup worker" });
      },
    }),
    defineRoute({
      method: "GET",
      path: /^\/readyz$/,
      name: "readyz",
      rule: "public",
      async run(c) {
        const worker = d.healthy() ? "ok" : "no mediasoup worker";
        const ok = worker === "ok" && d.accepting();
        sendJson(c.res, ok ? 200 : 503, {
          status: ok ? "ready" : "not ready",
          checks: { worker, draining: d.accepting() ? "no" : "yes" },
        });
      },
    }),
    defineRoute({
      method: "GET",
      path: /^\/metrics$/,
      name: "metrics",
      rule: "public",
      async run(c) {
        const text = await d.metrics.registry.metrics();
        c.res.writeHead(200, { ...CORS_HEADERS, "Content-Type": d.metrics.registry.contentType });
        c.res.end(text);
      },
    }),
    defineRoute({
      method: "GET",
      // The raw path, never normalized: HLS names are matched strictly, so `..` cannot slip through.
      path: HLS_PATH,
      name: "hls",
      rule: "public",
      async run(c) {
        await serveHls(c.res, d.hlsRoot, c.params[0] as string, c.params[1] as string, d.playlistFilter);
      },
    }),
    defineRoute({
      method: "GET",
      path: /^\/media\/v1\/admin\/inventory$/,
      name: "admin.inventory",
      rule: "admin",
      async run(c) {
        sendJson(c.res, 200, await d.inventory());
      },
    }),
  ];
}
