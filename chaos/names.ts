/**
 * Names of everything a chaos run makes, all derived from the runner's pid so that a leftover
 * tells which run made it (and whether that run is still alive):
 * - namespaces `ldc-<pid>-<host>` (the bridge's own namespace is `ldc-<pid>-br`);
 * - the one link in the root namespace, `ldc<pid>r` (link names hold at most 15 bytes);
 * - data folders `<tmp>/ldc-<pid>-data`.
 */
export const NAMESPACE_PATTERN = /^ldc-(\d+)-/;
export const ROOT_LINK_PATTERN = /^ldc(\d+)r$/;
export const DATA_DIR_PATTERN = /^ldc-(\d+)-data$/;

export function namespaceName(runId: number, host: string): string {
  return `ldc-${runId}-${host}`;
}

export function bridgeNamespace(runId: number): string {
  return namespaceName(runId, "br");
}

export function rootLinkName(runId: number): string {
  return `ldc${runId}r`;
}

export function dataDirName(runId: number): string {
  return `ldc-${runId}-data`;
}

/** The run id a name belongs to, or undefined when the name is not a chaos run's. */
export function runIdOf(name: string, pattern: RegExp): number | undefined {
  const m = pattern.exec(name);
  return m ? Number(m[1]) : undefined;
}
