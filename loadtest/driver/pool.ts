import { type ChildProcess, fork } from "node:child_process";
import path from "node:path";
import type { BehaviourSpec, FromWorker, Outcome, Tallies, ToWorker } from "./protocol.ts";
import type { RecorderDump } from "./recorder.ts";

const workerFile = path.join(path.dirname(new URL(import.meta.url).pathname), "worker.ts");

/**
 * The driver's load workers: child processes (TypeScript through tsx's loader), each holding a
 * share of the sessions. Sessions are spread in contiguous slices; ramps close them evenly.
 */
export class WorkerPool {
  private readonly latest: Tallies[];
  private nextRef = 0;
  /** Sockets the server closed or refused (close code or error), once stop() has run. */
  readonly closes: Record<string, number> = {};
  private rr = 0;

  private constructor(private readonly children: ChildProcess[]) {
    this.latest = children.map(() => ({ open: 0, done: 0, metrics: {} }));
    children.forEach((c, i) => {
      c.on("message", (m: FromWorker) => {
        if (m.type === "progress") this.latest[i] = m;
      });
    });
  }

  static start(count: number, init: { wsUrl: string; baseUrl: string; wanted: string[] }): WorkerPool {
    const children = Array.from({ length: count }, () =>
      fork(workerFile, [], {
        execArgv: ["--import", "tsx"],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
        serialization: "advanced",
      }),
    );
    const pool = new WorkerPool(children);
    for (const c of children) pool.send(c, { type: "init", ...init });
    return pool;
  }

  get size(): number {
    return this.children.length;
  }

  /**
   * Opens one session per token, spread over the workers. `planned`: planned viewers (each that
   * joins counts in viewers_connected), not arrivals on top of them (shoppers, second sockets).
   */
  open(spec: BehaviourSpec, tokens: readonly string[], planned: boolean): void {
    const n = this.children.length;
    if (tokens.length < n) {
      // Few at a time (ramps, arrivals): take turns so the load stays even.
      for (const token of tokens) {
        const c = this.children[this.rr++ % n];
        if (c) this.send(c, { type: "open", spec, tokens: [token], firstRef: this.nextRef++, planned });
      }
      return;
    }
    const share = Math.ceil(tokens.length / n);
    this.children.forEach((c, i) => {
      const slice = tokens.slice(i * share, (i + 1) * share);
      if (slice.length)
        this.send(c, { type: "open", spec, tokens: slice, firstRef: this.nextRef + i * share, planned });
    });
    this.nextRef += tokens.length;
  }

  /** Ends `count` sessions doing `kind` (never a shopper mid-journey for a watchers' ramp), evenly. */
  close(count: number, kind: BehaviourSpec["kind"]): void {
    const n = this.children.length;
    this.children.forEach((c, i) => {
      const mine = Math.floor(count / n) + (i < count % n ? 1 : 0);
      if (mine > 0) this.send(c, { type: "close", count: mine, kind });
    });
  }

  /** The latest progress of all workers, summed. */
  tallies(): Tallies {
    const metrics: Record<string, number> = {};
    let open = 0;
    let done = 0;
    for (const t of this.latest) {
      open += t.open;
      done += t.done;
      for (const [k, v] of Object.entries(t.metrics)) metrics[k] = (metrics[k] ?? 0) + v;
    }
    return { open, done, metrics };
  }

  /** Ends every session and collects each worker's measurements and outcomes. */
  async stop(): Promise<{ dumps: RecorderDump[]; outcomes: Outcome[] }> {
    const finals = await Promise.all(
      this.children.map(
        (c) =>
          new Promise<{ dump: RecorderDump; outcomes: Outcome[]; closes: Record<string, number> }>(
            (resolve, reject) => {
              const timer = setTimeout(
                () => reject(new Error(`load worker ${c.pid} did not report`)),
                60_000,
              );
              c.on("message", (m: FromWorker) => {
                if (m.type !== "final") return;
                clearTimeout(timer);
                resolve(m);
              });
              c.once("exit", (code) => {
                // A final message still in flight is delivered after "exit": give it a moment.
                setTimeout(() => {
                  clearTimeout(timer);
                  reject(new Error(`load worker ${c.pid} exited with ${code} before reporting`));
                }, 2_000);
              });
              this.send(c, { type: "stop" });
            },
          ),
      ),
    );
    await Promise.all(this.children.map((c) => this.exited(c, 10_000)));
    for (const f of finals)
      for (const [why, n] of Object.entries(f.closes)) this.closes[why] = (this.closes[why] ?? 0) + n;
    return { dumps: finals.map((f) => f.dump), outcomes: finals.flatMap((f) => f.outcomes) };
  }

  /** Kills any worker still running (error paths), each by its own pid. */
  kill(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  }

  private send(c: ChildProcess, m: ToWorker): void {
    if (c.connected) c.send(m);
  }

  private exited(c: ChildProcess, ms: number): Promise<void> {
    if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        c.kill("SIGKILL");
        resolve();
      }, ms);
      c.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
