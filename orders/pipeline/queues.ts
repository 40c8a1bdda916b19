import type { DefaultJobOptions, Queue } from "bullmq";
import type { RedisClient } from "../../core/index.ts";
import { QueueName, queuePrefix } from "../keys.ts";
import type { ExpireJob, OrderJob } from "./jobs.ts";

export const defaultJobOptions: DefaultJobOptions = {
  attempts: 20,
  backoff: { type: "exponential", delay: 200 },
  // Completed jobs stay a day so a re-added job id is recognised as a duplicate; failed a week.
  removeOnComplete: { age: 24 * 3600, count: 200_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/**
 * Order jobs take milliseconds, so a job whose worker died (SIGKILL, Redis restart) is handed to
 * another after seconds, not BullMQ's default 30 s; a job may stall many times before it fails.
 */
export const workerTiming = { lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 20 } as const;

export interface OrderQueues {
  readonly orders: Queue<OrderJob>;
  readonly holds: Queue<ExpireJob>;
  close(): Promise<void>;
}

/**
 * Producers for both queues on one connection (which must have maxRetriesPerRequest: null).
 * BullMQ is loaded on first use: a gateway opens queues only when the ops screen asks for counts.
 */
export async function openQueues(connection: RedisClient, keyPrefix: string): Promise<OrderQueues> {
  const { Queue } = await import("bullmq");
  const prefix = queuePrefix(keyPrefix);
  const orders = new Queue<OrderJob>(QueueName.orders, { connection, prefix, defaultJobOptions });
  const holds = new Queue<ExpireJob>(QueueName.holds, { connection, prefix, defaultJobOptions });
  let closed = false;
  return {
    orders,
    holds,
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([orders.close(), holds.close()]);
    },
  };
}
