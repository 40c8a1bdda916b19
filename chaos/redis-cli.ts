import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/**
 * One redis-cli call from the root namespace to a node of the run; the reply's text, or
 * undefined when the node does not answer within the timeout (killed, cut off).
 */
export async function redisCli(
  address: string,
  args: readonly string[],
  timeoutMs = 3_000,
): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync("redis-cli", ["-h", address, "-p", "6379", ...args], {
      timeout: timeoutMs,
    });
    return stdout;
  } catch {
    return undefined;
  }
}

/** A line of CLUSTER NODES: who the node is, its role and, for a master, its slot ranges. */
export interface ClusterNode {
  readonly id: string;
  readonly address: string;
  readonly role: "master" | "replica";
  readonly masterId: string | undefined;
  readonly failed: boolean;
  readonly connected: boolean;
  readonly slots: readonly (readonly [number, number])[];
}

export function parseClusterNodes(text: string): ClusterNode[] {
  const nodes: ClusterNode[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(" ");
    if (f.length < 8) continue;
    const [id, addr, flags, master, , , , link, ...slots] = f as [
      string,
      string,
      string,
      string,
      ...string[],
    ];
    const flagList = flags.split(",");
    nodes.push({
      id,
      address: addr.split(":")[0] ?? "",
      role: flagList.includes("master") ? "master" : "replica",
      masterId: master === "-" ? undefined : master,
      failed: flagList.includes("fail") || flagList.includes("fail?"),
      connected: link === "connected",
      slots: slots
        .filter((s) => /^\d+(-\d+)?$/.test(s))
        .map((s) => {
          const [a, b] = s.split("-").map(Number) as [number, number | undefined];
          return [a, b ?? a] as const;
        }),
    });
  }
  return nodes;
}
