import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { ErrorCode, SetupError } from "../core/index.ts";

export interface RedisServerOptions {
  readonly port: number;
  /** Working directory: AOF, cluster state and log live here. Created if missing. */
  readonly dir: string;
  readonly host?: string;
  /** AOF fsync policy. Default `always`. */
  readonly appendfsync?: "always" | "everysec" | "no";
  /** Keep an append-only file. Default true. */
  readonly appendonly?: boolean;
  /** Start as a Redis Cluster node. */
  readonly cluster?: boolean;
  readonly startTimeoutMs?: number;
  /**
   * Run in a process group of its own, so a terminal's Ctrl-C (SIGINT to the whole foreground
   * group) reaches only the launcher, which then stops Redis last, after everything that still
   * writes to it. Default false (tests want their servers to die with them).
   */
  readonly ownProcessGroup?: boolean;
}

/**
 * A private redis-server child process. `start()` resolves once it answers PING (AOF loaded);
 * `stop()` shuts it down cleanly (safe to call twice); `kill()` is SIGKILL, for crash drills.
 */
export class RedisServerProcess {
  readonly options: Required<RedisServerOptions>;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(options: RedisServerOptions) {
    this.options = {
      host: "127.0.0.1",
      appendfsync: "always",
      appendonly: true,
      cluster: false,
      startTimeoutMs: 20_000,
      ownProcessGroup: false,
      ...options,
    };
  }

  static async start(options: RedisServerOptions): Promise<RedisServerProcess> {
    const server = new RedisServerProcess(options);
    await server.restart();
    return server;
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

  /** Starts the server (again) with the same options and data directory. */
  async restart(): Promise<void> {
    if (this.pid !== undefined) throw new Error(`redis-server already running on ${this.hostPort}`);
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
      "--logfile",
      path.join(o.dir, "redis.log"),
      "--loglevel",
      "notice",
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
    const child = spawn("redis-server", args, {
      stdio: ["ignore", "ignore", "pipe"],
      detached: this.options.ownProcessGroup,
    });
    this.child = child;
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
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
      throw new Error(
        `redis-server on ${this.hostPort} exited during start: ${stderr.trim() || `see ${path.join(o.dir, "redis.log")}`}`,
      );
    });
    await Promise.race([waitForPong(o.host, o.port, o.startTimeoutMs), spawnError, earlyExit]);
  }

  /** Clean shutdown (SIGTERM: Redis flushes the AOF), SIGKILL after a timeout. */
  async stop(timeoutMs = 10_000): Promise<void> {
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
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}
