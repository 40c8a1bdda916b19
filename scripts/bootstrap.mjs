#!/usr/bin/env node
// Bootstrap for `npm start`, `npm test` and `npm run bench`: plain Node, no dependencies, idempotent.
// 1. Debian packages livedrop needs: installed with apt-get when root, otherwise printed.
// 2. The `mediasoup-worker` .deb from Debian experimental, without touching the system's apt
//    sources (a one-line sources list in a temporary folder).
// 3. `npm ci` when node_modules is missing or older than package-lock.json.
import { spawnSync } from "node:child_process";
import { accessSync, constants, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

// Each tier adds what it needs here: `bin` is how a non-Debian system is checked.
const PACKAGES = [
  { name: "redis-server", bin: "redis-server", why: "sale engine, pub/sub, queues" },
  { name: "redis-tools", bin: "redis-cli", why: "Redis Cluster set-up in tests" },
  // Debian keeps initdb in /usr/lib/postgresql/<version>/bin, off PATH: there dpkg decides.
  { name: "postgresql", bin: "initdb", why: "order store on PostgreSQL (tests start a private server)" },
  { name: "ffmpeg", bin: "ffmpeg", why: "RTP ingest and HLS egress of the media tier" },
  { name: "chromium", bin: "chromium", why: "browser tests through playwright-core" },
  { name: "prometheus", bin: "promtool", why: "alert rule checks and a real Prometheus in tests" },
];

// Must match the npm `mediasoup` version exactly (DESIGN.md): Debian ships it only in experimental.
const MEDIASOUP_WORKER = { name: "mediasoup-worker", version: "3.8.4", suite: "experimental" };

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

function run(cmd, args, env = {}, cwd = root) {
  say(`$ ${cmd} ${args.join(" ")}`);
  const result = spawnSync(cmd, args, { stdio: "inherit", cwd, env: { ...process.env, ...env } });
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

function installedVersion(name) {
  if (!onPath("dpkg-query")) return undefined;
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
  const out = spawnSync("dpkg-query", ["-W", "-f=${db:Status-Status} ${Version}", name], {
    encoding: "utf8",
  });
  const [status, version] = out.stdout.split(" ");
  return status === "installed" ? version : undefined;
}

function ensureMediasoupWorker() {
  const { name, version, suite } = MEDIASOUP_WORKER;
  const have = installedVersion(name);
  if (have?.startsWith(version)) return;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot || !onPath("apt-get")) {
    say(`livedrop needs ${name} ${version} (Debian ${suite}); ${have ? `found ${have}` : "it is missing"}.`);
    say("install it as root without changing your apt sources:");
    say(`  echo "deb http://deb.debian.org/debian ${suite} main" > /tmp/ld-sources.list`);
    say(
      `  apt-get -oDir::Etc::SourceList=/tmp/ld-sources.list -oDir::Etc::SourceParts=/dev/null -oDir::State::Lists=/tmp/ld-lists update`,
    );
    say(`  (cd /tmp && apt-get -oDir::Etc::SourceList=... (same options) download ${name}=${version}*)`);
    say(`  apt-get install -y /tmp/${name}_${version}*.deb`);
    process.exit(1);
  }
  const work = mkdtempSync(path.join(os.tmpdir(), "livedrop-apt-"));
  try {
    const mirror = debianMirror();
    const sources = path.join(work, "sources.list");
    writeFileSync(sources, `deb ${mirror} ${suite} main\n`);
    const lists = path.join(work, "lists");
    const options = [
      `-oDir::Etc::SourceList=${sources}`,
      "-oDir::Etc::SourceParts=/dev/null",
      `-oDir::State::Lists=${lists}`,
    ];
    run("mkdir", ["-p", path.join(lists, "partial")]);
    run("apt-get", [...options, "update", "-qq"]);
    run("apt-get", [...options, "download", `${name}=${version}*`], {}, work);
    const deb = readdirSync(work).find((f) => f.startsWith(`${name}_`) && f.endsWith(".deb"));
    if (!deb) {
      say(`apt-get download left no ${name} .deb in ${work}`);
      process.exit(1);
    }
    // Its dependencies resolve from the normal bookworm sources.
    run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", path.join(work, deb)], {
      DEBIAN_FRONTEND: "noninteractive",
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// The mirror the system already uses, so a local mirror keeps working; deb.debian.org otherwise.
function debianMirror() {
  const out = spawnSync("apt-get", ["indextargets", "--format", "$(REPO_URI)"], { encoding: "utf8" });
  const uri = out.stdout
    .split("\n")
    .map((line) => line.trim())
    .find((line) => /debian\/?$/.test(line) && !line.includes("security"));
  return uri ?? "http://deb.debian.org/debian/";
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
ensureMediasoupWorker();
ensureNodeModules();
