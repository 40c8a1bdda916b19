import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/livedrop.mjs");

/** A `livedrop <role>` child process with exactly `env` (plus PATH). */
export interface RoleProcess {
  readonly child: ChildProcess;
  /** SIGTERM, then resolves with the exit code once it has exited (it flushes its spans first). */
  stop(): Promise<number | null>;
}

/** Starts a role and resolves once its stdout shows `ready` (its start-up line). */
export async function startRole(
  role: "gateway" | "worker",
  env: Record<string, string>,
  ready: string,
): Promise<RoleProcess> {
  const child = spawn(process.execPath, [bin, role], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes(ready)) resolve();
    });
    void exited.then((code) => reject(new Error(`livedrop ${role} exited with ${code} before it was ready`)));
  });
  return {
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
