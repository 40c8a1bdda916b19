import { readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ErrorCode, type Logger, SetupError } from "../core/index.ts";
import { REDIS_PID_FILE } from "./redis-server.ts";

/** The launcher's pid file in the data directory: who runs the embedded servers there. */
const LAUNCHER_PID_FILE = "launcher.pid";

/**
 * Claims the data directory for this launcher: refuses when a live launcher already runs on it,
 * takes over after one that died. Returns the release function (removes the pid file).
 */
export function claimDataDir(dataDir: string): () => void {
  const file = path.join(dataDir, LAUNCHER_PID_FILE);
  const owner = liveLauncher(dataDir);
  if (owner !== undefined)
    throw new SetupError(
      ErrorCode.PORT_IN_USE,
      `another \`npm start\` (pid ${owner}) runs on the data directory ${dataDir}: stop it, or set LIVEDROP_DATA_DIR`,
      { pid: owner },
    );
  writeFileSync(file, String(process.pid));
  return () => {
    if (readPid(file) === process.pid) rmSync(file, { force: true });
  };
}

/** The pid of another launcher that runs on `dataDir` now, if any. */
export function liveLauncher(dataDir: string): number | undefined {
  const pid = readPid(path.join(dataDir, LAUNCHER_PID_FILE));
  return pid !== undefined && pid !== process.pid && isAlive(pid) && commandOf(pid) === "node"
    ? pid
    : undefined;
}

/**
 * A redis-server left running in `redisDir` by a launcher that died (its pid file names a live
 * redis-server whose working directory is this one) is ours: stopped cleanly (SIGTERM, Redis
 * flushes its AOF), SIGKILL after `timeoutMs`. Returns whether there was one.
 */
export async function stopOrphanRedis(redisDir: string, timeoutMs: number, log: Logger): Promise<boolean> {
  const pid = readPid(path.join(redisDir, REDIS_PID_FILE));
  if (pid === undefined || !isAlive(pid) || !commandOf(pid).startsWith("redis-server")) return false;
  let cwd = "";
  try {
    cwd = readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return false;
  }
  if (path.resolve(cwd) !== path.resolve(redisDir)) return false;
  log.warn({ pid, dir: redisDir }, "taking over the embedded redis-server a previous launcher left running");
  process.kill(pid, "SIGTERM");
  const until = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) process.kill(pid, "SIGKILL");
  while (isAlive(pid)) await new Promise((r) => setTimeout(r, 50));
  return true;
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  // A zombie (dead, not yet reaped) holds no port and no files.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

/** The process's command line, `""` when it cannot be read (gone, or not Linux). */
function commandOf(pid: number): string {
  try {
    return path.basename(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "");
  } catch {
    return "";
  }
}
