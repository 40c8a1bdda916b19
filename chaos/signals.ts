/**
 * SIGINT/SIGTERM end the process at once with `process.exit`: the topology's exit hook then kills
 * every process of the run's namespaces and deletes the namespaces, the root link and the data
 * folder, synchronously. (Without a handler a signal kills Node without running exit hooks.)
 */
export function exitOnSignals(log: (line: string) => void): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.once(signal, () => {
      log(`${signal}: removing the run's namespaces, links and processes`);
      process.exit(130);
    });
}
