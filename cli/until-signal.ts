/**
 * Keeps a long-running command alive until SIGINT or SIGTERM, then runs `stop` once.
 * Resolves with the exit code: 0 when stopping succeeded, 1 when it failed.
 */
export function untilSignal(stop: (signal: NodeJS.Signals) => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    const shutdown = (signal: NodeJS.Signals) => {
      stop(signal).then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.once("SIGINT", shutdown);
    process.once("SIGTERM", shutdown);
  });
}
