import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** Every `ip` call ends within this, so a wedged netlink call cannot hang the run. */
const IP_TIMEOUT_MS = 10_000;

/** Runs one `ip` command and returns its stdout; a failure names the command. */
export async function ip(args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync("ip", [...args], { timeout: IP_TIMEOUT_MS });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(" ")} failed: ${(e.stderr ?? e.message).trim()}`);
  }
}

/** Like ip(), for teardown: a failure (already gone) is not an error. */
export async function ipQuiet(args: readonly string[]): Promise<void> {
  await ip(args).catch(() => undefined);
}

/** The names of all network namespaces (`ip netns list` prints `name (id: n)`). */
export async function listNamespaces(): Promise<string[]> {
  const out = await ip(["netns", "list"]);
  return out
    .split("\n")
    .map((line) => line.trim().split(/\s+/)[0] ?? "")
    .filter((name) => name !== "");
}

/** The names of the links of the root namespace (`ip -o link` prints `n: name@peer: ...`). */
export async function listRootLinks(): Promise<string[]> {
  const out = await ip(["-o", "link", "show"]);
  return out
    .split("\n")
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1] ?? "")
    .filter((name) => name !== "");
}

/** The pids of every process inside a namespace. */
export async function namespacePids(ns: string): Promise<number[]> {
  const out = await ip(["netns", "pids", ns]).catch(() => "");
  return out
    .split(/\s+/)
    .filter((p) => /^\d+$/.test(p))
    .map(Number);
}
