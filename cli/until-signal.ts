import { childLogger } from "../core/index.ts";

export interface ShutdownBound {
  /** Longest the whole shutdown may take, ms (LIVEDROP_STOP_GRACE_MS). */
  readonly graceMs: number;
  /** What is being stopped right now, for the log line of a forced exit. */
  readonly stopping?: () => string | undefined;
}

/**
 * Keeps a long-running command alive until SIGINT or SIGTERM, then runs `stop` once.
 * Resolves with the exit code: 0 when stopping succeeded, 1 when it failed. The shutdown is
 * bounded: if the process is still alive `graceMs` after the signal (a stop step hangs, or a
 * handle keeps the event loop alive after "stopped"), it exits with code 1, logging why.
 */
export function untilSignal(
  stop: (signal: NodeJS.Signals) => Promise<void>,
  bound: ShutdownBound,
): Promise<number> {
  return new Promise((resolve) => {
    const shutdown = (signal: NodeJS.Signals) => {
      exitWithin(bound.graceMs, () =>
        bound.stopping?.() ? `still stopping ${bound.stopping()}` : "stopped, but the process did not exit",
      );
      stop(signal).then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.once("SIGINT", shutdown);
    process.once("SIGTERM", shutdown);
  });
}

/**
 * Exits with `code` after `ms` unless the process has ended by then, logging the reason and what
 * still holds the event loop. The timer itself does not keep the process alive.
 */
export function exitWithin(ms: number, reason: () => string, code = 1): void {
  setTimeout(() => {
    const open = process.getActiveResourcesInfo().filter((r) => r !== "Timeout");
    const why = `${reason()} after ${ms} ms; exiting anyway (open: ${open.join(", ") || "none"})`;
    childLogger("shutdown").error({ graceMs: ms, open }, why);
    process.stderr.write(`forced exit: ${why}\n`);
    process.exit(code);
  }, ms).unref();
}
