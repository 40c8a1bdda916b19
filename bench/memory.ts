import { type ChildProcess, fork, spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { TokenService } from "../auth/index.ts";
import { freePort, RedisServerProcess, startPrivatePostgres } from "../deploy/index.ts";
import { collectGarbage, INSPECT_FLAG, inspectorUrl } from "./inspector.ts";
import { progress, round } from "./measure.ts";

const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, "..");
const ROOM = "bench-memory";
/** The targets this bench holds each role to. */
const TARGETS = { gatewayIdleMB: 80, gatewayKBPerSocket: 8, workerIdleMB: 150, startMB: 400 } as const;
/** Time a role is left alone before its memory is read, ms. */
const SETTLE_MS = 3_000;

interface Role {
  readonly child: ChildProcess;
  readonly inspector: string;
}

/**
 * Resident memory of each role run from the compiled server (a build in a temporary folder laid out
 * like an install), each after a forced full garbage collection and a settle: the gateway idle and
 * with N idle sockets in one room (default 5,000: the growth per socket), the order worker idle,
 * a media node idle (its own process; the mediasoup workers are reported apart), and `livedrop
 * start` (embedded Redis, PGlite, media, the demo room broadcasting) for the whole stack in one
 * process. Prints one JSON line last; exit 1 when a role is over its target.
 */
export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { quick: { type: "boolean", default: false }, sockets: { type: "string" } },
    strict: true,
  });
  const sockets = Number(values.sockets ?? (values.quick ? 1_000 : 5_000));
  const app = mkdtempSync(path.join(os.tmpdir(), "livedrop-bench-memory-"));
  const children: ChildProcess[] = [];
  let redis: RedisServerProcess | undefined;
  let pg: Awaited<ReturnType<typeof startPrivatePostgres>> | undefined;
  try {
    buildInto(app);
    redis = await RedisServerProcess.start({
      port: await freePort(),
      dir: path.join(app, "redis"),
      appendfsync: "everysec",
    });
    pg = await startPrivatePostgres();
    const secret = randomUUID().repeat(2);
    const env = {
      REDIS_URL: redis.url,
      DATABASE_URL: pg.url,
      GATEWAY_TOKEN_SECRET: secret,
      LIVEDROP_SHADOW: "off",
      GATEWAY_MAX_CONNS_PER_IP: String(sockets + 100),
      // One bench user holds every socket: each is a membership of the same room.
      GATEWAY_MAX_ROOMS_PER_USER: String(sockets + 100),
    };

    const gatewayPort = await freePort();
    const gateway = await startRole(
      app,
      "gateway",
      { ...env, GATEWAY_PORT: String(gatewayPort) },
      /livedrop gateway on/,
      children,
    );
    const gatewayIdleKB = await settledRss(gateway);
    progress(`gateway idle: ${round(gatewayIdleKB / 1024)} MB`);
    const token = await (await TokenService.create({ secret })).issue({
      userId: "bench-memory",
      role: "viewer",
      ttlSeconds: 3600,
    });
    const load = await openSockets(
      `ws://127.0.0.1:${gatewayPort}/ws?token=${encodeURIComponent(token)}`,
      sockets,
      children,
    );
    const gatewayLoadedKB = await settledRss(gateway);
    load.kill("SIGTERM");
    const kbPerSocket = (gatewayLoadedKB - gatewayIdleKB) / sockets;
    progress(
      `gateway with ${sockets} sockets in a room: ${round(gatewayLoadedKB / 1024)} MB (${round(kbPerSocket)} KB per socket)`,
    );
    gateway.child.kill("SIGTERM");

    const worker = await startRole(
      app,
      "worker",
      { ...env, WORKER_PORT: String(await freePort()) },
      /livedrop worker running/,
      children,
    );
    const workerKB = await settledRss(worker);
    progress(`worker idle: ${round(workerKB / 1024)} MB`);
    worker.child.kill("SIGTERM");

    const media = await startRole(
      app,
      "media",
      { ...env, MEDIA_PORT: String(await freePort()), MEDIA_WORKERS: "1" },
      /livedrop media running/,
      children,
    );
    const mediaKB = await settledRss(media);
    const mediaWorkersKB = childrenRss(media.child.pid);
    progress(
      `media idle: ${round(mediaKB / 1024)} MB (+ ${round(mediaWorkersKB / 1024)} MB in mediasoup workers)`,
    );
    media.child.kill("SIGTERM");

    const startEnv = {
      LIVEDROP_REDIS_PORT: String(await freePort()),
      GATEWAY_PORT: String(await freePort()),
      MEDIA_PORT: String(await freePort()),
      MEDIA_WORKERS: "1",
      GATEWAY_TOKEN_SECRET: secret,
    };
    const start = await startRole(app, "start", startEnv, /Ctrl-C stops everything/, children);
    const startKB = await settledRss(start, 10_000);
    progress(`livedrop start (demo room live): ${round(startKB / 1024)} MB`);
    start.child.kill("SIGTERM");

    // Start-up, from spawn to the ready line: the build against the source through tsx's loader.
    const startupMs: Record<string, { dist: number; tsx: number }> = {};
    const roles = [
      ["gateway", /livedrop gateway on/, async () => ({ GATEWAY_PORT: String(await freePort()) })],
      ["worker", /livedrop worker running/, async () => ({ WORKER_PORT: String(await freePort()) })],
    ] as const;
    for (const [role, ready, extra] of roles) {
      const timed = async (entry?: readonly string[]) => {
        const roleEnv = { ...env, ...(await extra()) };
        const t0 = performance.now();
        const r = await startRole(app, role, roleEnv, ready, children, entry);
        const ms = performance.now() - t0;
        r.child.kill("SIGTERM");
        await new Promise((resolve) => r.child.once("exit", resolve));
        return ms;
      };
      startupMs[role] = {
        dist: round(await timed()),
        tsx: round(await timed(["--import", "tsx", path.join(root, "cli/main.ts")])),
      };
      progress(
        `${role} start-up: ${startupMs[role]?.dist} ms from dist/, ${startupMs[role]?.tsx} ms through tsx`,
      );
    }

    const result = {
      bench: "memory",
      gatewayIdleMB: round(gatewayIdleKB / 1024, 1),
      gatewayKBPerSocket: round(kbPerSocket, 2),
      workerIdleMB: round(workerKB / 1024, 1),
      mediaIdleMB: round(mediaKB / 1024, 1),
      mediaWorkersMB: round(mediaWorkersKB / 1024, 1),
      startMB: round(startKB / 1024, 1),
      sockets,
      startupMs,
      targets: TARGETS,
    };
    const within =
      result.gatewayIdleMB <= TARGETS.gatewayIdleMB &&
      result.gatewayKBPerSocket <= TARGETS.gatewayKBPerSocket &&
      result.workerIdleMB <= TARGETS.workerIdleMB &&
      result.startMB <= TARGETS.startMB;
    process.stdout.write(`${JSON.stringify({ ...result, withinTargets: within })}\n`);
    return within ? 0 : 1;
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    await redis?.stop();
    await pg?.stop();
    rmSync(app, { recursive: true, force: true });
  }
}

/** The compiled server in `app/dist`, with a package.json and the repository's modules and client beside it. */
function buildInto(app: string): void {
  writeFileSync(path.join(app, "package.json"), '{"name":"livedrop-bench-memory","type":"module"}\n');
  symlinkSync(path.join(root, "node_modules"), path.join(app, "node_modules"), "dir");
  symlinkSync(path.join(root, "client"), path.join(app, "client"), "dir");
  const built = spawnSync(
    process.execPath,
    [path.join(root, "scripts/build.mjs"), "--server", "--out", path.join(app, "dist")],
    {
      encoding: "utf8",
    },
  );
  if (built.status !== 0) throw new Error(`build failed: ${built.stderr}`);
}

/** `node dist/cli/main.js <role>` with an inspector (to force collections); resolves once `ready` printed. */
async function startRole(
  app: string,
  role: string,
  env: Record<string, string>,
  ready: RegExp,
  children: ChildProcess[],
  /** The command before the role: the build's entry by default, or the source through tsx. */
  entry: readonly string[] = [path.join(app, "dist/cli/main.js")],
): Promise<Role> {
  const child = spawn(process.execPath, [INSPECT_FLAG, ...entry, role], {
    cwd: app,
    env: {
      PATH: process.env.PATH ?? "",
      LIVEDROP_DATA_DIR: path.join(app, `data-${role}`),
      LIVEDROP_KEY_PREFIX: `bench-${role}`,
      LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const inspector = inspectorUrl(child);
  let output = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (c: Buffer) => {
      output += c.toString();
      if (ready.test(output)) resolve();
    });
    child.once("exit", (code) => reject(new Error(`${role} exited with ${code}: ${output}`)));
  });
  return { child, inspector: await inspector };
}

async function settledRss(role: Role, settleMs = SETTLE_MS): Promise<number> {
  await new Promise((r) => setTimeout(r, settleMs));
  await collectGarbage(role.inspector);
  await new Promise((r) => setTimeout(r, 500));
  return rssKB(role.child.pid);
}

function rssKB(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0);
}

/** Resident memory of a process's direct children (the mediasoup workers of a media node). */
function childrenRss(pid: number | undefined): number {
  if (pid === undefined) return 0;
  let total = 0;
  for (const task of readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/))
    if (task) total += rssKB(Number(task));
  return total;
}

/** N idle WebSocket clients joined to ROOM (bench/fanout-clients.mjs); resolves once all joined. */
async function openSockets(url: string, n: number, children: ChildProcess[]): Promise<ChildProcess> {
  const load = fork(path.join(here, "fanout-clients.mjs"), [url, String(n), "gateway", ROOM], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  children.push(load);
  await new Promise<void>((resolve, reject) => {
    load.on("message", (m: { type: string }) => {
      if (m.type === "half") load.send({ type: "continue" });
      if (m.type === "ready") resolve();
    });
    load.once("exit", (code) => reject(new Error(`socket clients exited with ${code}`)));
  });
  return load;
}
