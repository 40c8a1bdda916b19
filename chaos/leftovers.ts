import { rmSync } from "node:fs";
import { readdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ip, listNamespaces, listRootLinks, namespacePids } from "./ip.ts";
import { DATA_DIR_PATTERN, NAMESPACE_PATTERN, ROOT_LINK_PATTERN, runIdOf } from "./names.ts";

/** What an earlier run left behind and this cleaning removed. */
export interface Leftovers {
  readonly namespaces: string[];
  readonly links: string[];
  readonly processes: number[];
  readonly dataDirs: string[];
}

/** How long killed processes get to disappear before their namespace is deleted anyway. */
const KILL_WAIT_MS = 5_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * A name is stale when the run that made it is gone, or is this very process (a topology it
 * built earlier and failed to remove). Names of another live run are left alone: chaos tests
 * may run next to each other.
 */
function stale(runId: number | undefined, self: number): boolean {
  return runId !== undefined && (runId === self || !alive(runId));
}

/** SIGKILLs every process in the namespaces, then waits (bounded) until they are gone. */
export async function killNamespaceProcesses(namespaces: readonly string[]): Promise<number[]> {
  const pids = (await Promise.all(namespaces.map(namespacePids))).flat();
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  const until = Date.now() + KILL_WAIT_MS;
  while (pids.some(alive) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  return pids;
}

/**
 * Removes what dead chaos runs left: their processes (everything inside their namespaces),
 * namespaces (the bridge's last: deleting it removes the veth ends in it and their peers), the
 * root link and data folders. Returns what it removed so the runner can say so.
 */
export async function removeLeftovers(self = process.pid): Promise<Leftovers> {
  const namespaces = (await listNamespaces()).filter((n) => stale(runIdOf(n, NAMESPACE_PATTERN), self));
  const processes = await killNamespaceProcesses(namespaces);
  const bridgesLast = [...namespaces].sort((a, b) => Number(a.endsWith("-br")) - Number(b.endsWith("-br")));
  for (const ns of bridgesLast) await ip(["netns", "delete", ns]);
  const links = (await listRootLinks()).filter((l) => stale(runIdOf(l, ROOT_LINK_PATTERN), self));
  for (const link of links) await ip(["link", "delete", link]).catch(() => undefined);
  const tmp = os.tmpdir();
  const dataDirs = (await readdir(tmp))
    .filter((d) => stale(runIdOf(d, DATA_DIR_PATTERN), self))
    .map((d) => path.join(tmp, d));
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  return { namespaces, links, processes, dataDirs };
}

/** Whether anything named for the run is still there (namespaces or root link). */
export async function remainsOf(runId: number): Promise<string[]> {
  const mine = (name: string, pattern: RegExp) => runIdOf(name, pattern) === runId;
  return [
    ...(await listNamespaces()).filter((n) => mine(n, NAMESPACE_PATTERN)),
    ...(await listRootLinks()).filter((l) => mine(l, ROOT_LINK_PATTERN)),
  ];
}
