/** Runs `op` from `concurrency` loops until `durationMs` passes; returns count and latencies (ms). */
export async function closedLoop(
  concurrency: number,
  durationMs: number,
  op: (i: number) => Promise<unknown>,
): Promise<{ count: number; elapsedMs: number; latencies: Float64Array }> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  const end = start + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await op(next++);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return {
    count: latencies.length,
    elapsedMs: performance.now() - start,
    latencies: Float64Array.from(latencies),
  };
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}
