#!/usr/bin/env node
// Bootstrap for `npm start`, `npm test` and `npm run bench`: plain Node, no dependencies, idempotent.
// 1. Debian packages livedrop needs: installed with apt-get when root, otherwise printed.
// 2. `npm ci` when node_modules is missing or older than package-lock.json.
import { spawnSync } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

// Each tier adds what it needs here: `bin` is how a non-Debian system is checked.
const PACKAGES = [
  { name: "redis-server", bin: "redis-server", why: "sale engine, pub/sub, queues" },
  { name: "redis-tools", bin: "redis-cli", why: "Redis Cluster set-up in tests" },
  // Debian keeps initdb in /usr/lib/postgresql/<version>/bin, off PATH: there dpkg decides.
  { name: "postgresql", bin: "initdb", why: "order store on PostgreSQL (tests start a private server)" },
];

function say(line) {
  process.stderr.write(`[bootstrap] ${line}\n`);
}

function onPath(bin) {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    try {
      accessSync(path.join(dir, bin), constants.X_OK);
      return true;
    } catch {}
  }
  return false;
}

function missingPackages() {
  if (!onPath("dpkg-query")) return PACKAGES.filter((p) => !onPath(p.bin));
  const names = PACKAGES.map((p) => p.name);
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
  const format = "-f=${Package} ${db:Status-Status}\\n";
  const out = spawnSync("dpkg-query", ["-W", format, ...names], {
    encoding: "utf8",
  });
  const installed = new Set(
    out.stdout
      .split("\n")
      .filter((line) => line.endsWith(" installed"))
      .map((line) => line.split(" ")[0]),
  );
  return PACKAGES.filter((p) => !installed.has(p.name));
}

function run(cmd, args, env = {}) {
  say(`$ ${cmd} ${args.join(" ")}`);
  const result = spawnSync(cmd, args, { stdio: "inherit", cwd: root, env: { ...process.env, ...env } });
  if (result.status !== 0) {
    say(`${cmd} failed (exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
}

function ensurePackages() {
  const missing = missingPackages();
  if (missing.length === 0) return;
  const names = missing.map((p) => p.name).join(" ");
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot || !onPath("apt-get")) {
    say("livedrop needs these system packages, which are missing:");
    for (const p of missing) say(`  ${p.name} (${p.bin}) - ${p.why}`);
    say(
      onPath("apt-get")
        ? `install them with: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${names}`
        : `this system has no apt-get: install the equivalent of ${names} with your package manager so that ${missing.map((p) => p.bin).join(", ")} are on PATH`,
    );
    process.exit(1);
  }
  const apt = { DEBIAN_FRONTEND: "noninteractive" };
  run("apt-get", ["update", "-qq"], apt);
  run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing.map((p) => p.name)], apt);
}

function mtime(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

function ensureNodeModules() {
  const lock = mtime(path.join(root, "package-lock.json"));
  const installed = mtime(path.join(root, "node_modules", ".package-lock.json"));
  if (installed !== undefined && lock !== undefined && installed >= lock) return;
  run("npm", ["ci", "--no-audit", "--no-fund"]);
}

ensurePackages();
ensureNodeModules();
