import { type Job, Worker } from "bullmq";
import type { Logger, RedisClient } from "../../core/index.ts";
import type { SaleEngine } from "../../sale-engine/index.ts";
import { QueueName, queuePrefix } from "../keys.ts";
import type { ExpireJob } from "./jobs.ts";
import { workerTiming } from "./queues.ts";

/**
 * Runs the delayed `holds` jobs at each payment deadline: expires the drop's due holds (the
 * sale engine decides, on its clock, what is due). The periodic sweep is the safety net.
 */
export class HoldExpirer {
  private readonly worker: Worker<ExpireJob>;
  private closed = false;

  constructor(connection: RedisClient, engine: SaleEngine, keyPrefix: string, log: Logger) {
    this.worker = new Worker<ExpireJob>(
      QueueName.holds,
      async (job: Job<ExpireJob>) => {
        const result = await engine.expireDue(job.data.dropId);
        const hold = await engine.reservation(job.data.reservationId);
        // Fired a little early by this machine's clock: retry (backoff) until Redis agrees.
        if (hold.status === "held")
          throw new Error(`hold ${hold.reservationId} not due yet on the server clock`);
        return `expired ${result.expired.length}`;
      },
      { connection, prefix: queuePrefix(keyPrefix), concurrency: 4, ...workerTiming },
    );
    this.worker.on("error", (err) => log.warn({ err: err.message }, "hold expirer error"));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.close();
  }
}
