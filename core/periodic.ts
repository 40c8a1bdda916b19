/** A pass that runs again and again until stopped. */
export interface PeriodicPass {
  /** No further pass starts; resolves once the one under way (if any) has ended. */
  stop(): Promise<void>;
}

/**
 * Runs `pass` `intervalMs` after start, then `intervalMs` after each pass ended, so two passes
 * never overlap. A failed pass goes to `onError` and the next one runs all the same.
 */
export function repeatPass(
  intervalMs: number,
  pass: () => Promise<void>,
  onError: (err: Error) => void,
): PeriodicPass {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    running = pass()
      .catch((err: unknown) => onError(err as Error))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  timer = setTimeout(tick, intervalMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
