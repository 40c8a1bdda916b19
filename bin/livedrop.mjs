#!/usr/bin/env node
// The `livedrop` command. It runs the compiled server (dist/, made by `npm run build`) when there
// is one at least as new as the source, else the TypeScript source through tsx's loader (a
// development dependency: production images hold dist/ only and never load it).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
/** The server folders whose sources the build compiles. */
const SOURCE_FOLDERS = [
  "core",
  "auth",
  "telemetry",
  "protocol",
  "sale-engine",
  "orders",
  "gateway",
  "media",
  "deploy",
  "cli",
  "bench",
];

function newestSource(root) {
  let newest = 0;
  for (const folder of SOURCE_FOLDERS) {
    const dir = path.join(root, folder);
    if (!existsSync(dir)) continue;
    for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
      if (e.isFile() && /\.(ts|lua|sql|mjs)$/.test(e.name))
        newest = Math.max(newest, statSync(path.join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

/** The compiled entry to run, or undefined to run the source. */
function compiledEntry() {
  // This file inside dist/bin/ (an image, or `node dist/bin/livedrop.mjs`): its own build.
  const beside = path.join(here, "../cli/main.js");
  if (existsSync(beside)) return beside;
  const root = path.join(here, "..");
  const built = path.join(root, "dist/cli/main.js");
  if (!existsSync(built)) return undefined;
  const info = path.join(root, "dist/build-info.json");
  const builtAt = existsSync(info) ? Number(JSON.parse(readFileSync(info, "utf8")).builtAt) : 0;
  if (newestSource(root) <= builtAt) return built;
  process.stderr.write(
    "livedrop: dist/ is older than the source; running the source (npm run build refreshes it)\n",
  );
  return undefined;
}

const entry = compiledEntry();
if (entry) {
  await import(new URL(`file://${entry}`).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../cli/main.ts");
}
