import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Creates the database files with PGlite in a child process, then exits it. */
const INITDB = `const { PGlite } = require(process.argv[1]);
PGlite.create({ dataDir: process.argv[2] }).then((db) => db.close());`;

/**
 * Initialises an empty PGlite data directory in a short-lived child process. initdb grows the
 * WASM memory of whoever runs it by about 450 MB, and WASM memory never shrinks: run in-process it
 * would stay with the server for good. The server then opens the ready directory (under 150 MB).
 */
export async function initialiseDataDir(dataDir: string): Promise<void> {
  if (existsSync(path.join(dataDir, "PG_VERSION"))) return;
  const entry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
  try {
    await run(process.execPath, ["-e", INITDB, entry, dataDir], { maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`initialising the order store in ${dataDir} failed: ${e.stderr?.trim() || e.message}`);
  }
}
