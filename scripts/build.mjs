// `npm run build`: the server compiled into dist/ (tsc, the source tree's layout, with the Lua,
// SQL and helper scripts it reads beside the code), then the browser client with Vite into
// client/dist. `--server` builds the server only; `--out DIR` puts it elsewhere (tests).
// Plain Node, no dependencies: it runs before anything else is known to work.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const serverOnly = args.includes("--server");
const outAt = args.indexOf("--out");
const out = outAt >= 0 ? path.resolve(args[outAt + 1] ?? "") : path.join(root, "dist");

/** Files the compiled code reads at run time, by folder (relative to the root). */
const ASSETS = [
  ["sale-engine/lua", /\.lua$/],
  ["gateway/lua", /\.lua$/],
  ["orders/store/migrations", /\.sql$/],
  ["bench", /\.mjs$/],
  ["bin", /\.mjs$/],
];

function run(cmd, cmdArgs) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

rmSync(out, { recursive: true, force: true });
// Taken before compiling: a source saved during the build counts as newer than the build.
const builtAt = Date.now();
run(process.execPath, [
  path.join(root, "node_modules/typescript/bin/tsc"),
  "-p",
  "tsconfig.build.json",
  "--outDir",
  out,
]);
for (const [dir, pattern] of ASSETS) {
  const from = path.join(root, dir);
  if (!existsSync(from)) continue;
  mkdirSync(path.join(out, dir), { recursive: true });
  for (const name of readdirSync(from).filter((n) => pattern.test(n)))
    cpSync(path.join(from, name), path.join(out, dir, name));
}
writeFileSync(path.join(out, "build-info.json"), `${JSON.stringify({ builtAt })}\n`);
process.stdout.write(`server built into ${path.relative(root, out) || out}\n`);
if (!serverOnly) run(process.execPath, [path.join(root, "node_modules/tsx/dist/cli.mjs"), "client/build.ts"]);
