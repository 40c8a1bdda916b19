import { useEffect, useRef, useState } from "preact/hooks";

/**
 * Polls `fetcher` every `everyMs` (skipping while the tab is hidden, unless `always`), handing
 * each result to `onData`. Returns the last error, if the last poll failed.
 */
export function usePoll<T>(
  fetcher: () => Promise<T>,
  everyMs: number,
  onData: (value: T) => void,
  always = false,
): Error | undefined {
  const [error, setError] = useState<Error | undefined>();
  const fetchRef = useRef(fetcher);
  const dataRef = useRef(onData);
  fetchRef.current = fetcher;
  dataRef.current = onData;
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      if (always || document.visibilityState !== "hidden") {
        try {
          dataRef.current(await fetchRef.current());
          setError(undefined);
        } catch (err) {
          setError(err as Error);
        }
      }
      if (!stopped) timer = setTimeout(run, everyMs);
    };
    run();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [everyMs, always]);
  return error;
}
