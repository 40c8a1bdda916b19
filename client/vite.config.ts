import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/**
 * Three pages, each its own entry, so the viewer page never loads host or ops code (and its
 * initial JavaScript stays under budget). hls.js and mediasoup-client are dynamic imports.
 * `npx vite --config client/vite.config.ts` serves them in development against a gateway on
 * GATEWAY_URL (default http://127.0.0.1:8080).
 */
const gateway = process.env.GATEWAY_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  root: here("."),
  base: "/",
  publicDir: here("./public"),
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: here("./dist"),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: false,
    rollupOptions: {
      input: {
        index: here("./index.html"),
        live: here("./live.html"),
        host: here("./host.html"),
        ops: here("./ops.html"),
        replay: here("./replay.html"),
      },
    },
  },
  server: {
    proxy: {
      "/api": gateway,
      "/ws": { target: gateway.replace(/^http/, "ws"), ws: true },
    },
  },
});
