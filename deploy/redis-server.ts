import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { ErrorCode, isLivedropError, SetupError } from "../core/index.ts";
import { diesWithParent } from "./dies-with-parent.ts";
import { freePort } from "./ports.ts";

export interface RedisServerOptions {
  /**
   * The port. 0: a free loopback port, chosen here; when another process takes it before Redis
   * binds (the check-then-use race of `freePort()`), Redis fails to bind and start() tries again
   * with a new port. A fixed port that is taken fails with PORT_IN_USE.
   */
  readonly port: number;
  /** Working directory: AOF, cluster state, pid file and log live here. Created if missing. */
  readonly dir: string;
  readonly host?: string;
  /** AOF fsync policy. Default `always`. */
  readonly appendfsync?: "always" | "everysec" | "no";
  /** Keep an append-only file. Default true. */
  readonly appendonly?: boolean;
  /** Start as a Redis Cluster node. */
  readonly cluster?: boolean;
  /** `host:port` of the master this server replicates (a single Redis, not a cluster). Default none (""). */
  readonly replicaOf?: string;
  readonly startTimeoutMs?: number;
  /**
   * Run in a process group of its own, so a terminal's Ctrl-C (SIGINT to the whole foreground
   * group) reaches only the launcher, which then stops Redis last, after everything that still
   * writes to it. Default false (tests want their servers to die with them).
   */
  readonly ownProcessGroup?: boolean;
  /** Ports tried with `port: 0` before giving up. Default 5. */
  readonly portAttempts?: number;
  /** Where `port: 0` gets its candidates. Default `freePort()`. */
  readonly pickPort?: (host: string, alsoFree: readonly number[]) => Promise<number>;
}

/** What became of a server that stopped without stop() being asked. */
export interface RedisExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The last lines of redis.log: why it died, in Redis's words. */
  readonly logTail: string;
}

/** The file Redis writes its pid to (the launcher recognises its own orphan by it). */
export const REDIS_PID_FILE = "redis.pid";
const LOG_FILE = "redis.log";

/**
 * A private redis-server child process. `start()` resolves once this very process answers (its
 * pid in INFO, AOF loaded): a server someone else runs on the port is never taken for ours.
 * `stop()` shuts it down cleanly (safe to call twice); `kill()` is SIGKILL, for crash drills. It
 * dies with this process, even when this process is SIGKILLed (parent-death signal, Linux).
 */
export class RedisServerProcess {
  readonly options: Required<RedisServerOptions>;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;
  private readonly exitListeners = new Set<(exit: RedisExit) => void>();

  private constructor(options: RedisServerOptions) {
    this.options = {
      host: "127.0.0.1",
      appendfsync: "always",
      appendonly: true,
      cluster: false,
      replicaOf: "",
      startTimeoutMs: 20_000,
      ownProcessGroup: false,
      portAttempts: 5,
      pickPort: freePort,
      ...options,
    };
  }

  static async start(options: RedisServerOptions): Promise<RedisServerProcess> {
    const server = new RedisServerProcess(options);
    if (options.port !== 0) {
      await server.restart();
      return server;
    }
    for (let attempt = 1; ; attempt++) {
      // The bus of a cluster node is port + 10000: both must be free.
      const port = await server.options.pickPort(server.options.host, server.options.cluster ? [10000] : []);
      (server.options as { port: number }).port = port;
      try {
        await server.restart();
        return server;
      } catch (err) {
        if (!isPortInUse(err) || attempt >= server.options.portAttempts) throw err;
      }
    }
  }

  get url(): string {
    return `redis://${this.options.host}:${this.options.port}`;
  }

  get hostPort(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  /** The running server's pid; undefined once it exited or died by a signal. */
  get pid(): number | undefined {
    const child = this.child;
    return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  get logFile(): string {
    return path.join(this.options.dir, LOG_FILE);
  }

  /** Calls `listener` each time the server ends without stop() having been asked (crash, kill). */
  onExit(listener: (exit: RedisExit) => void): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  /** Starts the server (again) with the same options and data directory. */
  async restart(): Promise<void> {
    if (this.pid !== undefined) throw new Error(`redis-server already running on ${this.hostPort}`);
    this.stopping = false;
    const o = this.options;
    mkdirSync(o.dir, { recursive: true });
    const args = [
      "--port",
      String(o.port),
      "--bind",
      o.host,
      "--dir",
      o.dir,
      "--daemonize",
      "no",
      "--protected-mode",
      "yes",
      "--save",
      "",
      "--appendonly",
      o.appendonly ? "yes" : "no",
      "--appendfsync",
      o.appendfsync,
      "--pidfile",
      path.join(o.dir, REDIS_PID_FILE),
      "--logfile",
      this.logFile,
      "--loglevel",
      "notice",
      // A replica that connects gets its first sync at once (Redis waits 5 s for more replicas).
      "--repl-diskless-sync-delay",
      "0",
    ];
    if (o.cluster)
      args.push(
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--cluster-node-timeout",
        "3000",
      );
    if (o.replicaOf) {
      const [masterHost = "127.0.0.1", masterPort = "6379"] = o.replicaOf.split(":");
      args.push("--replicaof", masterHost, masterPort);
    }
    const logStart = fileSize(this.logFile);
    const child = spawn(...diesWithParent("redis-server", args), {
      stdio: ["ignore", "ignore", "pipe"],
      detached: this.options.ownProcessGroup,
    });
    this.child = child;
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    let ready = false;
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        resolve();
        if (!ready || this.stopping) return;
        const exit = { code, signal, logTail: logTail(this.logFile) };
        for (const listener of this.exitListeners) listener(exit);
      }),
    );
    const spawnError = new Promise<never>((_, reject) =>
      child.once("error", (err: NodeJS.ErrnoException) =>
        reject(
          err.code === "ENOENT"
            ? new SetupError(
                ErrorCode.DEPENDENCY_MISSING,
                "redis-server not found: run `npm run bootstrap` (as root) or apt-get install redis-server",
              )
            : err,
        ),
      ),
    );
    const earlyExit = this.exited.then(() => {
      const log = logSince(this.logFile, logStart);
      if (/address already in use/i.test(`${log}\n${stderr}`))
        throw new SetupError(
          ErrorCode.PORT_IN_USE,
          `redis-server could not bind ${this.hostPort}: port ${o.port} is in use`,
          {
            port: o.port,
          },
        );
      throw new Error(
        `redis-server on ${this.hostPort} exited during start: ${stderr.trim() || log.trim() || `see ${this.logFile}`}`,
      );
    });
    const pid = child.pid;
    try {
      await Promise.race([
        pid === undefined ? spawnError : waitForOwnServer(o.host, o.port, pid, o.startTimeoutMs),
        spawnError,
        earlyExit,
      ]);
    } catch (err) {
      // Not ours, or not up in time: never leave it running behind a failed start.
      child.kill("SIGKILL");
      await this.exited;
      throw err;
    }
    ready = true;
  }

  /** Clean shutdown (SIGTERM: Redis flushes the AOF), SIGKILL after a timeout. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Crash it: SIGKILL, no shutdown work at all. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGKILL");
    await this.exited;
  }
}

export function isPortInUse(err: unknown): boolean {
  return isLivedropError(err) && err.code === ErrorCode.PORT_IN_USE;
}

/**
 * Resolves once the server on host:port answers INFO with `process_id` = pid: our own server,
 * with its AOF loaded (INFO answers -LOADING before that). Rejects at once when another process
 * answers there: a port shared by mistake is an error, never a silent success.
 */
async function waitForOwnServer(host: string, port: number, pid: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const reply = await commandOnce(host, port, "INFO server persistence");
    const owner = /process_id:(\d+)/.exec(reply ?? "")?.[1];
    if (owner !== undefined && Number(owner) === pid) {
      if (/loading:0/.test(reply ?? "")) return;
    } else if (owner !== undefined) {
      throw new SetupError(
        ErrorCode.PORT_IN_USE,
        `port ${port} is in use: another redis-server (pid ${owner}) answers on ${host}:${port}`,
        { port },
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server on ${host}:${port} did not answer within ${timeoutMs} ms`);
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** What the log gained since byte `from` (this run's lines only). */
function logSince(file: string, from: number): string {
  try {
    return readFileSync(file).subarray(from).toString();
  } catch {
    return "";
  }
}

function logTail(file: string, lines = 20): string {
  return logSince(file, Math.max(0, fileSize(file) - 64 * 1024))
    .trimEnd()
    .split("\n")
    .slice(-lines)
    .join("\n");
}

/** Resolves once the server answers PING with PONG (not -LOADING while the AOF replays). */
export async function waitForPong(host: string, port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await pingOnce(host, port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server on ${host}:${port} did not answer PING within ${timeoutMs} ms`);
}

function pingOnce(host: string, port: number): Promise<boolean> {
  return commandOnce(host, port, "PING").then((reply) => reply?.startsWith("+PONG") === true);
}

/**
 * Sends one inline command and resolves with the whole reply (a bulk string is read to its
 * end), or undefined when nothing answers within a second.
 */
function commandOnce(host: string, port: number, command: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let reply = "";
    const done = (value: string | undefined) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(1000, () => done(undefined));
    socket.once("error", () => done(undefined));
    socket.once("connect", () => socket.write(`${command}\r\n`));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      const bulk = /^\$(\d+)\r\n/.exec(reply);
      if (bulk) {
        if (Buffer.byteLength(reply) >= bulk[0].length + Number(bulk[1]) + 2) done(reply);
      } else if (reply.includes("\r\n")) done(reply);
    });
  });
}
