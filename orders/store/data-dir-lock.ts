import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import { ErrorCode, SetupError } from "../../core/index.ts";

/**
 * An exclusive lock on an embedded data directory: PGlite must be opened by one process only.
 * The lock file holds `<pid> <start time>` (start time in clock ticks since boot, from
 * /proc/<pid>/stat). A lock whose owner is gone, is a zombie (SIGKILLed, not yet reaped by its
 * parent), or whose pid now belongs to a process that started at another time (pid reuse) is
 * taken over; a live owner is a clear error.
 */
export function lockDataDir(dataDir: string, what: string): () => void {
  const file = path.join(dataDir, "livedrop.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx");
      const self = procStat(process.pid);
      writeSync(fd, self ? `${process.pid} ${self.startTime}` : String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = parseLock(readLock(file));
      if (owner && owner.pid !== process.pid && holdsLock(owner)) {
        throw new SetupError(
          ErrorCode.CONFIG_INVALID,
          `the embedded ${what} in ${dataDir} is in use by process ${owner.pid} (is \`npm start\` running?): stop it, or set DATABASE_URL to share a PostgreSQL`,
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new SetupError(ErrorCode.CONFIG_INVALID, `could not lock ${dataDir}`);
}

interface LockOwner {
  readonly pid: number;
  /** Absent in lock files written before start times were recorded. */
  readonly startTime?: string;
}

function readLock(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    // Removed by its owner meanwhile: free.
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw err;
  }
}

function parseLock(text: string): LockOwner | undefined {
  const [pidText, startTime] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return startTime && /^\d+$/.test(startTime) ? { pid, startTime } : { pid };
}

function holdsLock(owner: LockOwner): boolean {
  const stat = procStat(owner.pid);
  if (stat === null) return false;
  if (stat === undefined) return signalable(owner.pid);
  // Z zombie, X dead: the process has exited, only its table entry is left.
  if (stat.state === "Z" || stat.state === "X") return false;
  return owner.startTime === undefined || owner.startTime === stat.startTime;
}

/**
 * State and start time of a process from /proc/<pid>/stat; null when there is no such process,
 * undefined when /proc cannot tell (not Linux).
 */
export function procStat(pid: number): { state: string; startTime: string } | null | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ESRCH") return readableProc() ? null : undefined;
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const startTime = fields[19];
  if (!state || !startTime) return undefined;
  return { state, startTime };
}

function readableProc(): boolean {
  try {
    readFileSync("/proc/self/stat");
    return true;
  } catch {
    return false;
  }
}

function signalable(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
