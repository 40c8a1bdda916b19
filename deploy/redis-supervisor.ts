import type { Logger } from "../core/index.ts";
import type { RedisExit, RedisServerProcess } from "./redis-server.ts";

export interface RedisSupervisorOptions {
  readonly log: Logger;
  /** First wait before a restart, ms; doubles after each failed attempt. */
  readonly minBackoffMs: number;
  /** Longest wait between restart attempts, ms. */
  readonly maxBackoffMs: number;
}

/**
 * Keeps an embedded redis-server running: when it dies on its own (killed, out of memory, an
 * AOF write error on a full disk), logs why (exit code or signal, the tail of its log) and
 * starts it again on the same port and data directory, with backoff while restarts fail. The
 * clients (ioredis, BullMQ) reconnect by themselves; the AOF brings the data back.
 */
export class RedisSupervisor {
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private backoff: number;
  private restarting: Promise<void> | undefined;
  private upSince = Date.now();
  private readonly unsubscribe: () => void;
  /** Times the server was started again after dying. */
  restarts = 0;

  constructor(
    private readonly server: RedisServerProcess,
    private readonly o: RedisSupervisorOptions,
  ) {
    this.backoff = o.minBackoffMs;
    this.unsubscribe = server.onExit((exit) => this.died(exit));
  }

  /** Stops supervising, then the server (cleanly: Redis flushes its AOF). Safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
    await this.restarting?.catch(() => undefined);
    await this.server.stop();
  }

  private died(exit: RedisExit): void {
    if (this.stopped) return;
    // A server that ran longer than the longest backoff was healthy: start over from the shortest
    // wait. One that dies right after each restart (say, a full disk) keeps backing off.
    if (Date.now() - this.upSince > this.o.maxBackoffMs) this.backoff = this.o.minBackoffMs;
    this.o.log.error(
      {
        port: this.server.options.port,
        exitCode: exit.code,
        signal: exit.signal,
        redisLog: exit.logTail,
        restartInMs: this.backoff,
      },
      `embedded redis-server died (${exit.signal ?? `exit code ${exit.code}`}); restarting`,
    );
    this.schedule();
  }

  private schedule(): void {
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.o.maxBackoffMs);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.restarting = this.attempt();
    }, wait);
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.server.restart();
    } catch (err) {
      if (this.stopped) return;
      this.o.log.error(
        { err: (err as Error).message, retryInMs: this.backoff },
        "embedded redis-server restart failed; trying again",
      );
      this.schedule();
      return;
    }
    this.restarts++;
    this.upSince = Date.now();
    this.o.log.warn(
      { port: this.server.options.port, pid: this.server.pid, restarts: this.restarts },
      "embedded redis-server restarted",
    );
  }
}
