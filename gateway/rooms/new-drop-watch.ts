import type { SaleEngine } from "../../sale-engine/index.ts";

export interface NewDropHooks {
  /** Whether this node has viewers in `room` (only their drops are followed). */
  wanted(room: string): boolean;
  follow(room: string, dropId: string): Promise<void>;
  /** After a start-up without Redis: re-read the drops of every local room once. */
  recheck(): void;
  warn(err: unknown): void;
}

/**
 * Notices drops created after a room was entered, for every room of this node at once: the sale
 * engine's drop registry only grows, so one ZCARD per check tells whether anything is new, and
 * only then are the new drops read (their room, from their status). The cost is one command per
 * check whatever the number of rooms, joined-but-idle ones included.
 */
export class NewDropWatch {
  private seen: Set<string> | undefined;
  private count = -1;
  private running = false;
  private readonly timer: NodeJS.Timeout;
  private readonly priming: Promise<void>;

  constructor(
    private readonly engine: SaleEngine,
    everyMs: number,
    private readonly hooks: NewDropHooks,
  ) {
    this.priming = this.prime();
    this.timer = setInterval(() => void this.check(), everyMs);
  }

  /** Settles (never rejects) once the drops existing now are known, or priming failed. */
  primed(): Promise<void> {
    return this.priming;
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async prime(): Promise<void> {
    try {
      const ids = await this.engine.listDrops();
      this.seen = new Set(ids);
      this.count = ids.length;
    } catch (err) {
      this.hooks.warn(err);
    }
  }

  private async check(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      if (!this.seen) {
        await this.prime();
        if (this.seen) this.hooks.recheck();
        return;
      }
      const count = await this.engine.connection.zcard(this.engine.keys.dropRegistry);
      if (count === this.count) return;
      const ids = await this.engine.listDrops();
      const seen = this.seen;
      const fresh = ids.filter((id) => !seen.has(id));
      await Promise.all(
        fresh.map(async (id) => {
          const { roomId } = await this.engine.status(id);
          seen.add(id);
          if (this.hooks.wanted(roomId)) await this.hooks.follow(roomId, id);
        }),
      );
      this.count = ids.length;
    } catch (err) {
      this.hooks.warn(err);
    } finally {
      this.running = false;
    }
  }
}
