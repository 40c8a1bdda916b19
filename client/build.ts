import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { CLIENT_DIR, CLIENT_DIST_DIR } from "./paths.ts";

/**
 * `npm run build`: the client into client/dist with Vite, then the gzip size of every script and
 * of each page's initial JavaScript (its entry plus the chunks it preloads; dynamic imports such
 * as hls.js and mediasoup-client are not part of it). Fails when a viewer page (live, replay) is over budget.
 */
const here = CLIENT_DIR;
const DIST = CLIENT_DIST_DIR;
export const VIEWER_BUDGET_BYTES = 120 * 1024;
const PAGES = ["live", "replay", "host", "ops", "index"] as const;
/** The pages a viewer opens: each held to the viewer budget. */
const VIEWER_PAGES = ["live", "replay"] as const;

export interface BuildReport {
  /** Initial JavaScript per page, gzip bytes. */
  readonly initialJs: Record<(typeof PAGES)[number], number>;
  /** Every emitted script, gzip bytes, largest first. */
  readonly files: readonly { file: string; bytes: number; gzip: number }[];
  readonly withinBudget: boolean;
  readonly lines: readonly string[];
}

/** Builds into client/dist, or `outDir` (tests build into a folder of their own). */
export async function buildClient(outDir = DIST): Promise<BuildReport> {
  // Vite is a development dependency: loaded only when a build is asked for.
  const { build } = await import("vite");
  await build({
    configFile: path.join(here, "vite.config.ts"),
    logLevel: "warn",
    build: { outDir: path.resolve(outDir), emptyOutDir: true },
  });
  return measure(outDir);
}

/** Builds only when there is no build yet (npm start from a fresh checkout). */
export async function ensureClientBuilt(): Promise<BuildReport | undefined> {
  if (existsSync(path.join(DIST, "live.html"))) return undefined;
  return buildClient();
}

function gz(file: string): number {
  return gzipSync(readFileSync(file), { level: 9 }).length;
}

export function measure(dist = DIST): BuildReport {
  const files = walk(dist)
    .filter((f) => /\.(m?js|css)$/.test(f))
    .map((f) => ({ file: path.relative(dist, f), bytes: statSync(f).size, gzip: gz(f) }))
    .sort((a, b) => b.gzip - a.gzip);
  const sizeOf = new Map(files.map((f) => [f.file, f.gzip]));
  const initialJs = {} as Record<(typeof PAGES)[number], number>;
  for (const page of PAGES) {
    const html = readFileSync(path.join(dist, `${page}.html`), "utf8");
    // The entry script and its modulepreload links: what the browser fetches before first paint.
    const refs = [...html.matchAll(/(?:src|href)="\/([^"]+\.m?js)"/g)].map((m) => m[1] ?? "");
    initialJs[page] = [...new Set(refs)].reduce((n, f) => n + (sizeOf.get(f) ?? 0), 0);
  }
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  const withinBudget = VIEWER_PAGES.every((p) => initialJs[p] <= VIEWER_BUDGET_BYTES);
  const lines = [
    "client build (gzip sizes)",
    ...files.map((f) => `  ${f.file.padEnd(48)} ${kb(f.bytes).padStart(10)}  gzip ${kb(f.gzip).padStart(9)}`),
    "initial JavaScript per page (gzip):",
    ...PAGES.map((p) => `  /${p === "index" ? "" : p}`.padEnd(10) + kb(initialJs[p])),
    `viewer pages budget ${kb(VIEWER_BUDGET_BYTES)}: ${withinBudget ? "ok" : "OVER BUDGET"}`,
  ];
  return { initialJs, files, withinBudget, lines };
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // `--out-dir DIR` builds elsewhere than client/dist.
  const at = process.argv.indexOf("--out-dir");
  const report = await buildClient(at > 0 && process.argv[at + 1] ? process.argv[at + 1] : DIST);
  process.stdout.write(`${report.lines.join("\n")}\n`);
  process.exitCode = report.withinBudget ? 0 : 1;
}
