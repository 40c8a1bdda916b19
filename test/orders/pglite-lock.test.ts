import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { lockDataDir, procStat } from "../../orders/store/data-dir-lock.ts";

const holderScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/lock-holder.ts");
const root = mkdtempSync(path.join(os.tmpdir(), "livedrop-lock-"));
const children: ChildProcess[] = [];
let dirs = 0;

function freshDir(): string {
  return mkdtempSync(path.join(root, `d${++dirs}-`));
}

/** A child process that holds the lock on `dir`; resolves once it has it. */
async function startHolder(dir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", holderScript, dir], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("locked")) resolve();
    });
    child.once("exit", (code, signal) => reject(new Error(`lock holder exited (${code ?? signal})`)));
  });
  return child;
}

/** Synchronously (no event-loop turn, so Node cannot reap it) waits until `pid` is a zombie. */
function spinUntilZombie(pid: number, timeoutMs: number): string | undefined {
  const until = Date.now() + timeoutMs;
  let state: string | undefined;
  while (Date.now() < until) {
    state = procStat(pid)?.state;
    if (state === "Z" || state === undefined) return state;
  }
  return state;
}

afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("PGlite data-directory lock", () => {
  it("a SIGKILLed holder that is still a zombie does not hold the lock: reopening right away succeeds", async () => {
    const dir = freshDir();
    const holder = await startHolder(dir);
    const pid = holder.pid ?? 0;
    expect(readFileSync(path.join(dir, "livedrop.lock"), "utf8")).toMatch(new RegExp(`^${pid} \\d+$`));
    holder.kill("SIGKILL");
    // Not reaped yet: the test has not returned to the event loop since the kill.
    expect(spinUntilZombie(pid, 10_000)).toBe("Z");
    const unlock = lockDataDir(dir, "order store");
    expect(readFileSync(path.join(dir, "livedrop.lock"), "utf8")).toMatch(
      new RegExp(`^${process.pid} \\d+$`),
    );
    unlock();
  });

  it("a live holder still refuses, naming its pid; once it is killed and reaped the lock is free", async () => {
    const dir = freshDir();
    const holder = await startHolder(dir);
    expect(() => lockDataDir(dir, "order store")).toThrow(`in use by process ${holder.pid}`);
    const exited = new Promise((resolve) => holder.once("exit", resolve));
    holder.kill("SIGKILL");
    await exited;
    lockDataDir(dir, "order store")();
  });

  it("a recorded pid that now belongs to a process started at another time (pid reuse) does not hold the lock", async () => {
    const dir = freshDir();
    const other = await startHolder(freshDir());
    const stat = procStat(other.pid ?? 0);
    expect(stat?.state).toMatch(/^[RSD]$/);
    const file = path.join(dir, "livedrop.lock");
    // Same pid, the start time it really has: that process holds the lock.
    writeFileSync(file, `${other.pid} ${stat?.startTime}`);
    expect(() => lockDataDir(dir, "order store")).toThrow(`in use by process ${other.pid}`);
    // Same pid, another start time: an earlier process that had this pid, long gone.
    writeFileSync(file, `${other.pid} ${Number(stat?.startTime) + 1}`);
    lockDataDir(dir, "order store")();
  });

  it("a lock file in the older pid-only form is honoured for a live pid and taken over for a dead one", async () => {
    const dir = freshDir();
    const file = path.join(dir, "livedrop.lock");
    const live = await startHolder(freshDir());
    writeFileSync(file, String(live.pid));
    expect(() => lockDataDir(dir, "order store")).toThrow(`in use by process ${live.pid}`);
    const exited = new Promise((resolve) => live.once("exit", resolve));
    live.kill("SIGKILL");
    await exited;
    lockDataDir(dir, "order store")();
  });
});
