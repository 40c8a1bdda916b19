import { type ChildProcess, execFile, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/livedrop.mjs");

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `livedrop drop create` of a small demo drop with id `id`, as JSON; `extra` options go before
 * `--json`.
 */
export const dropCreateArgs = (id: string, ...extra: string[]): string[] => [
  "drop",
  "create",
  "--id",
  id,
  "--room",
  "demo",
  "--sku",
  "SNK-1",
  "--title",
  "Neon runner",
  "--price",
  "129.90",
  "--currency",
  "USD",
  "--image",
  "https://cdn.example.com/neon.jpg",
  "--stock",
  "50",
  "--limit",
  "2",
  ...extra,
  "--json",
];

/** Runs `livedrop ARGS` as a real child process with `env` added to a clean environment. */
export function livedrop(args: readonly string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** `livedrop start` as a child; resolves once it printed that it runs. */
export async function startLivedrop(env: Record<string, string>): Promise<{
  child: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}> {
  // A process group of its own, like a command run from a terminal: stop() signals the whole
  // group, as Ctrl-C does, so every child the launcher started gets the signal too.
  const child = spawn(process.execPath, [bin, "start"], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await Promise.race([
    new Promise<void>((resolve) => {
      const check = () => (out.includes("Ctrl-C stops everything") ? resolve() : setTimeout(check, 50));
      check();
    }),
    exited.then((code) => {
      throw new Error(`livedrop start exited with ${code}: ${out}`);
    }),
  ]);
  return {
    child,
    output: () => out,
    async stop(signal = "SIGINT") {
      if (child.exitCode !== null) return child.exitCode;
      if (child.pid !== undefined) process.kill(-child.pid, signal);
      return exited;
    },
  };
}

/** A run's exit code, its last stdout line (the summary a bench or the chaos run prints) and stderr's tail. */
export interface BoundedRun {
  /** The child's pid (what it left behind can be looked up by it). */
  readonly pid: number;
  readonly code: number | null;
  readonly last: string;
  readonly stderr: string;
}

/**
 * Runs a TypeScript entry point of this repository (`node --import tsx FILE ARGS`) from the
 * repository's root, SIGTERMed after `boundMs`.
 */
export async function runEntryPoint(
  file: string,
  args: readonly string[],
  boundMs: number,
): Promise<BoundedRun> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
  const child = spawn(process.execPath, ["--import", "tsx", file, ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-8_000);
  });
  const timer = setTimeout(() => child.kill("SIGTERM"), boundMs);
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  clearTimeout(timer);
  return { pid: child.pid as number, code, last: stdout.trim().split("\n").at(-1) ?? "", stderr };
}
