import { spawn, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { ErrorCode, SetupError } from "../core/index.ts";
import { freePort } from "./ports.ts";

/**
 * A private PostgreSQL server for tests and benchmarks: initdb into a fresh temporary folder,
 * listening on a free loopback port (trust auth; fsync off unless `durable`), stopped and
 * removed by `stop()`. Never uses a
 * server someone else started. As root, the folder is handed to the `postgres` system user and
 * the server runs as that user (PostgreSQL refuses to run as root).
 */
export interface PrivatePostgres {
  /** URL of the database created at start. */
  readonly url: string;
  readonly port: number;
  /** Creates another empty database on this server and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** `pg_ctl stop -m fast`, then removes the folder. Safe to call twice. */
  stop(): Promise<void>;
}

const BASE_OPTIONS = ["-c listen_addresses=127.0.0.1", "-c max_connections=100"];
/** Tests trade durability for speed; benchmarks pass `durable` to measure the real thing. */
const FAST_OPTIONS = ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"];

export async function startPrivatePostgres(
  database = "livedrop",
  options: { durable?: boolean; portAttempts?: number; pickPort?: () => Promise<number> } = {},
): Promise<PrivatePostgres> {
  /** Ports tried when another process takes the free port before PostgreSQL binds it. */
  const portAttempts = options.portAttempts ?? 5;
  const serverOptions = options.durable ? BASE_OPTIONS : [...BASE_OPTIONS, ...FAST_OPTIONS];
  const bin = postgresBin();
  const runAs = process.getuid?.() === 0 ? postgresUser() : undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-pg-"));
  if (runAs) chownSync(dir, runAs.uid, runAs.gid);
  const dataDir = path.join(dir, "data");
  const logFile = path.join(dir, "postgres.log");
  const run = (tool: string, args: string[]) => runTool(bin(tool), args, dir, runAs !== undefined);

  let port = 0;
  let started = false;
  const stopNow = () => {
    if (started)
      spawnSync(...command(bin("pg_ctl"), ["stop", "-D", dataDir, "-m", "immediate"], runAs !== undefined));
  };
  // A test process that dies without stop() would otherwise leave the server running.
  process.once("exit", stopNow);
  try {
    await run("initdb", initdbArgs(dataDir));
    // The free port can be taken between the check and the bind: a bind failure is retried on
    // a new port, any other failure is reported at once.
    for (let attempt = 1; !started; attempt++) {
      port = await (options.pickPort ?? freePort)();
      const serverArgs = [`-p ${port}`, `-k ${dir}`, ...serverOptions].join(" ");
      const logStart = fileSize(logFile);
      try {
        await run("pg_ctl", ["start", "-D", dataDir, "-l", logFile, "-w", "-t", "30", "-o", serverArgs]);
        started = true;
      } catch (err) {
        const log = readSince(logFile, logStart);
        if (!/address already in use/i.test(log) || attempt >= portAttempts)
          throw new Error(`${(err as Error).message}\n${log.split("\n").slice(-20).join("\n")}`);
      }
    }
    const admin = new pg.Client({ host: "127.0.0.1", port, user: "postgres", database: "postgres" });
    const createDatabase = async (name: string): Promise<string> => {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
      await admin.query(`CREATE DATABASE "${name}"`);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    };
    await admin.connect();
    const url = await createDatabase(database);
    let stopping: Promise<void> | undefined;
    return {
      url,
      port,
      createDatabase,
      stop() {
        stopping ??= (async () => {
          await admin.end().catch(() => undefined);
          await run("pg_ctl", ["stop", "-D", dataDir, "-m", "fast", "-w"]).catch(() => undefined);
          started = false;
          process.removeListener("exit", stopNow);
          rmSync(dir, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  } catch (err) {
    stopNow();
    process.removeListener("exit", stopNow);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Binaries of the newest PostgreSQL under /usr/lib/postgresql (Debian), else from PATH. */
function postgresBin(): (tool: string) => string {
  const root = "/usr/lib/postgresql";
  let versions: string[] = [];
  try {
    versions = readdirSync(root)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
  } catch {
    // Not Debian's layout: rely on PATH.
  }
  const dir = versions.map((v) => path.join(root, v, "bin")).find((d) => existsSync(path.join(d, "initdb")));
  return (tool) => (dir ? path.join(dir, tool) : tool);
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => spawnSync("id", [flag, "postgres"], { encoding: "utf8" });
  const uid = id("-u");
  const gid = id("-g");
  if (uid.status !== 0 || gid.status !== 0)
    throw new SetupError(
      ErrorCode.DEPENDENCY_MISSING,
      "running as root but there is no `postgres` system user to run PostgreSQL as: apt-get install postgresql",
    );
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function command(file: string, args: string[], asPostgres: boolean): [string, string[]] {
  return asPostgres ? ["runuser", ["-u", "postgres", "--", file, ...args]] : [file, args];
}

function runTool(file: string, args: string[], cwd: string, asPostgres: boolean): Promise<void> {
  const [cmd, argv] = command(file, args, asPostgres);
  return new Promise((resolve, reject) => {
    // cwd: a folder the postgres user may enter (the caller's may be root-only).
    const child = spawn(cmd, argv, {
      cwd,
      env: { ...process.env, LC_ALL: "C", LANG: "C" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        err.code === "ENOENT"
          ? new SetupError(
              ErrorCode.DEPENDENCY_MISSING,
              `${cmd} not found: run \`npm run bootstrap\` (as root) or apt-get install postgresql`,
            )
          : err,
      ),
    );
    child.once("close", (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`${path.basename(file)} ${args[0]} failed (${code ?? signal}): ${output.trim()}`)),
    );
  });
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** What the log gained since byte `from` (this attempt's lines only). */
function readSince(file: string, from: number): string {
  try {
    return readFileSync(file).subarray(from).toString();
  } catch {
    return "";
  }
}

/** initdb for a private test or chaos database: superuser `postgres`, trust, UTF-8, no fsync of the new files. */
export function initdbArgs(dataDir: string): string[] {
  return ["-D", dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"];
}
