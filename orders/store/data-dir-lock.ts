import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import { ErrorCode, SetupError } from "../../core/index.ts";

/**
 * An exclusive lock on an embedded data directory: PGlite must be opened by one process only.
 * A lock left by a process that died (SIGKILL) is taken over; a live owner is a clear error.
 */
export function lockDataDir(dataDir: string, what: string): () => void {
  const file = path.join(dataDir, "livedrop.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = Number(readFileSync(file, "utf8"));
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new SetupError(
          ErrorCode.CONFIG_INVALID,
          `the embedded ${what} in ${dataDir} is in use by process ${owner} (is \`npm start\` running?): stop it, or set DATABASE_URL to share a PostgreSQL`,
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new SetupError(ErrorCode.CONFIG_INVALID, `could not lock ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
