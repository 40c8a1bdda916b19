import { withDeadline } from "../../core/index.ts";

/** What a step of a room's order is; the label of its timeout metric. */
export type StepKind = "join" | "resume" | "deliver" | "publish";

/** Handed to a step: true once the step was abandoned, so it must not write anything any more. */
export interface StepSignal {
  readonly abandoned: boolean;
}

/**
 * Runs each room's steps (joins, resumes, deliveries) one after another, so no live event
 * overtakes a snapshot or replay. Each step has a deadline: one that has not settled by then (a
 * Redis call that never returns) is abandoned, its caller gets the retryable UNAVAILABLE error,
 * and the room's next step starts. An abandoned step may still finish; it checks its signal and
 * writes nothing, so nothing goes out of order.
 */
export class RoomOrder {
  private readonly tails = new Map<string, Promise<void>>();

  constructor(
    private readonly timeoutMs: number,
    private readonly onTimeout: (room: string, kind: StepKind) => void,
  ) {}

  run(room: string, kind: StepKind, step: (signal: StepSignal) => Promise<void>): Promise<void> {
    const run = (this.tails.get(room) ?? Promise.resolve()).then(() => this.bounded(room, kind, step));
    const tail = run.catch(() => undefined);
    this.tails.set(room, tail);
    // A room nobody is in keeps no chain behind.
    void tail.then(() => {
      if (this.tails.get(room) === tail) this.tails.delete(room);
    });
    return run;
  }

  /** Rooms with a step queued or running (for tests and leak checks). */
  get size(): number {
    return this.tails.size;
  }

  private bounded(room: string, kind: StepKind, step: (s: StepSignal) => Promise<void>): Promise<void> {
    const signal = { abandoned: false };
    return withDeadline(step(signal), this.timeoutMs, `room ${room}`, () => {
      signal.abandoned = true;
      this.onTimeout(room, kind);
    });
  }
}
