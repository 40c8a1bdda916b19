import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { Logger } from "../core/index.ts";

export interface FfmpegOptions {
  readonly bin: string;
  /** Arguments of each run (a restart may need fresh file names). */
  readonly args: readonly string[] | (() => readonly string[]);
  readonly log: Logger;
  /** What this ffmpeg does, for logs. */
  readonly name: string;
  /** Start it again when it exits on its own. Default true. */
  readonly restart?: boolean;
  /**
   * How long stop() lets ffmpeg finish its files after SIGTERM before SIGKILL, ms. Default 3000;
   * 0 kills at once (output that is deleted anyway; ffmpeg ignores SIGTERM while probing input).
   */
  readonly stopGraceMs?: number;
  /** Each (re)start, once the process is spawned. */
  readonly onStart?: (pid: number) => void;
  /** It exited and will not be restarted. */
  readonly onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

/** Backoff between restarts: doubles from this, up to MAX; resets after a long enough run. */
const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 5_000;
const STABLE_RUN_MS = 30_000;
/** SIGTERM first (ffmpeg finishes its files), SIGKILL if it is still there after this. */
const DEFAULT_STOP_GRACE_MS = 3_000;

/**
 * util-linux's setpriv, which can start ffmpeg with a parent-death signal (PR_SET_PDEATHSIG): the
 * kernel then kills ffmpeg when this process dies, even by SIGKILL, which no exit hook survives.
 * libuv spawns from the main thread, whose exit is the process's. Absent off Linux.
 */
const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

/** The command that runs `bin args`, tied to this process's life where the system allows. */
function diesWithParent(bin: string, args: readonly string[]): [string, string[]] {
  return SETPRIV ? [SETPRIV, ["--pdeathsig", "KILL", "--", bin, ...args]] : [bin, [...args]];
}

/** Every ffmpeg started here and still running: killed if this process exits (even on a crash). */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // "exit" also runs after an uncaught exception; a SIGKILL of node cannot be caught at all.
    process.once("exit", () => {
      for (const c of running) c.kill("SIGKILL");
    });
  }
  running.add(child);
  child.once("exit", () => running.delete(child));
  child.once("error", () => running.delete(child));
}

/**
 * One supervised ffmpeg process: restarted with backoff when it dies on its own, stopped with
 * SIGTERM then SIGKILL. stop() resolves once the process is gone; safe to call twice.
 */
export class FfmpegProcess {
  private child: ChildProcess | undefined;
  private stopped = false;
  private backoff = FIRST_BACKOFF_MS;
  private restartTimer: NodeJS.Timeout | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** Times it was started again after dying. */
  restarts = 0;
  /** The last lines ffmpeg wrote on stderr (why it died). */
  private readonly tail: string[] = [];

  constructor(private readonly o: FfmpegOptions) {
    this.start();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  stderrTail(): string {
    return this.tail.join("\n");
  }

  /** Kills the process for good (no restart). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const grace = this.o.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
      child.kill(grace > 0 ? "SIGTERM" : "SIGKILL");
      const killer = grace > 0 ? setTimeout(() => child.kill("SIGKILL"), grace) : undefined;
      await this.exited;
      if (killer) clearTimeout(killer);
    }
    await this.exited;
  }

  /** Kills the current process as if it had crashed (tests of the restart). */
  crash(): void {
    this.child?.kill("SIGKILL");
  }

  private start(): void {
    const startedAt = Date.now();
    const args = typeof this.o.args === "function" ? this.o.args() : this.o.args;
    // setpriv execs ffmpeg in place: the pid, signals and exit status are ffmpeg's own.
    const child = spawn(...diesWithParent(this.o.bin, args), { stdio: ["ignore", "ignore", "pipe"] });
    track(child);
    this.child = child;
    let resolveExit: () => void = () => undefined;
    this.exited = new Promise((r) => {
      resolveExit = r;
    });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      for (const line of chunk.split("\n")) {
        if (!line.trim()) continue;
        this.tail.push(line);
        if (this.tail.length > 20) this.tail.shift();
      }
    });
    let finished = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (finished) return;
      finished = true;
      if (this.child === child) this.child = undefined;
      resolveExit();
      if (this.stopped || this.o.restart === false) {
        this.o.onExit?.(code, signal);
        return;
      }
      if (Date.now() - startedAt > STABLE_RUN_MS) this.backoff = FIRST_BACKOFF_MS;
      this.o.log.warn(
        { ffmpeg: this.o.name, code, signal, retryInMs: this.backoff, stderr: this.stderrTail().slice(-600) },
        "ffmpeg exited; restarting it",
      );
      this.restartTimer = setTimeout(() => {
        if (this.stopped) return;
        this.restarts++;
        this.start();
      }, this.backoff);
      this.backoff = Math.min(MAX_BACKOFF_MS, this.backoff * 2);
    };
    child.once("spawn", () => {
      if (child.pid !== undefined) this.o.onStart?.(child.pid);
    });
    // A missing binary emits "error" (maybe without "close"): both end this run once.
    child.once("error", (err) => {
      this.o.log.error({ err: err.message, ffmpeg: this.o.name }, "ffmpeg failed to start");
      finish(null, null);
    });
    child.once("close", finish);
  }
}
