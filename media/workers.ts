import os from "node:os";
import type { Logger } from "../core/index.ts";
import { loadMediasoup, type types } from "./mediasoup.ts";

export interface WorkerPoolOptions {
  readonly workerBin: string;
  /** Workers to run; one per core when unset. */
  readonly count?: number;
  readonly rtcMinPort: number;
  readonly rtcMaxPort: number;
  readonly log: Logger;
  /** Called when a worker dies (its routers are gone); the pool starts a replacement. */
  readonly onWorkerDied?: (worker: types.Worker) => void;
}

/**
 * mediasoup workers, one per core: each is a single-threaded C++ process, so rooms and their
 * viewers are spread over them. A dead worker is replaced; its rooms end (onWorkerDied).
 */
export class WorkerPool {
  private readonly workers: types.Worker[] = [];
  /** Routers placed on each worker by this pool (its load measure for placement). */
  private readonly load = new Map<types.Worker, number>();
  private closed = false;

  private constructor(private readonly o: WorkerPoolOptions) {}

  static async create(o: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(o);
    const count = o.count ?? Math.max(1, os.availableParallelism());
    try {
      for (let i = 0; i < count; i++) pool.workers.push(await pool.spawn());
    } catch (err) {
      pool.close();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  get pids(): number[] {
    return this.workers.map((w) => w.pid);
  }

  all(): readonly types.Worker[] {
    return this.workers;
  }

  /** The worker with the fewest routers, skipping `avoid` when another exists. */
  pick(avoid?: types.Worker): types.Worker {
    const candidates = this.workers.filter((w) => w !== avoid && !w.closed);
    const pool = candidates.length > 0 ? candidates : this.workers.filter((w) => !w.closed);
    let best: types.Worker | undefined;
    for (const w of pool) if (!best || (this.load.get(w) ?? 0) < (this.load.get(best) ?? 0)) best = w;
    if (!best) throw new Error("no mediasoup worker is running");
    return best;
  }

  async createRouter(worker: types.Worker, mediaCodecs: types.RtpCodecCapability[]): Promise<types.Router> {
    const router = await worker.createRouter({ mediaCodecs });
    this.load.set(worker, (this.load.get(worker) ?? 0) + 1);
    router.observer.once("close", () => this.load.set(worker, Math.max(0, (this.load.get(worker) ?? 1) - 1)));
    return router;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.workers) w.close();
    this.workers.length = 0;
  }

  private async spawn(): Promise<types.Worker> {
    const mediasoup = await loadMediasoup(this.o.workerBin);
    const worker = await mediasoup.createWorker({
      logLevel: "warn",
      rtcMinPort: this.o.rtcMinPort,
      rtcMaxPort: this.o.rtcMaxPort,
    });
    this.load.set(worker, 0);
    worker.on("died", (err: Error) => {
      this.o.log.error({ pid: worker.pid, err: err.message }, "mediasoup worker died; replacing it");
      this.load.delete(worker);
      const at = this.workers.indexOf(worker);
      if (at >= 0) this.workers.splice(at, 1);
      this.o.onWorkerDied?.(worker);
      if (this.closed) return;
      this.spawn().then(
        (w) => (this.closed ? w.close() : this.workers.push(w)),
        (e: unknown) =>
          this.o.log.error({ err: (e as Error).message }, "could not replace a mediasoup worker"),
      );
    });
    this.o.log.debug({ pid: worker.pid }, "mediasoup worker running");
    return worker;
  }
}
