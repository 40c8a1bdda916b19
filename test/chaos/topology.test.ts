import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { remainsOf, removeLeftovers, Topology } from "../../chaos/index.ts";
import { listNamespaces, listRootLinks, namespacePids } from "../../chaos/ip.ts";

/** Resolves whether a TCP connection to host:port opens within the timeout. */
function reachable(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => done(true));
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`${what} not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let open: Topology | undefined;
/** Fixture runs this file started: none may outlive its test, whatever the test's outcome. */
const fixtures: ChildProcess[] = [];
afterEach(async () => {
  await open?.destroy();
  open = undefined;
  for (const child of fixtures.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill("SIGKILL");
    await exited(child);
  }
  // Whatever a killed fixture left (it is a dead run now).
  await removeLeftovers();
});

describe("chaos topology", () => {
  it("builds hosts as namespaces on a bridge, reaches a process in one, cuts and heals it, and leaves nothing", async () => {
    const topology = await Topology.create({ hosts: ["a", "b"] });
    open = topology;
    const a = topology.host("a");
    expect(await listNamespaces()).toEqual(
      expect.arrayContaining([a.namespace, topology.host("b").namespace]),
    );
    topology.spawn(
      "a",
      "redis-server",
      ["--bind", a.address, "--port", "6379", "--protected-mode", "no", "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    );
    // From the root namespace (where the load runs) and from the other host.
    await waitFor("redis on host a from root", () => reachable(a.address, 6379));
    const pong = await topology.run("b", "redis-cli", ["-h", a.address, "-p", "6379", "ping"]);
    expect(pong.trim()).toBe("PONG");

    await topology.cut("a");
    expect(await reachable(a.address, 6379)).toBe(false);
    await topology.heal("a");
    await waitFor("redis on host a after heal", () => reachable(a.address, 6379));

    await topology.destroy();
    expect(await remainsOf(topology.runId)).toEqual([]);
    expect((await listNamespaces()).filter((n) => n.startsWith(`ldc-${topology.runId}-`))).toEqual([]);
    expect(await listRootLinks()).not.toContain(`ldc${topology.runId}r`);
    expect(existsSync(topology.dataDir)).toBe(false);
  });

  it("removes what a crashed run left (namespaces, root link, processes, data) before a new run", async () => {
    const { child, runId: run } = await startFixture([]);
    child.kill("SIGKILL");
    await exited(child);
    expect(await remainsOf(run)).toEqual(
      expect.arrayContaining([`ldc-${run}-br`, `ldc-${run}-x`, `ldc${run}r`]),
    );
    expect(existsSync(path.join(os.tmpdir(), `ldc-${run}-data`))).toBe(true);

    const topology = await Topology.create({ hosts: ["c"] });
    open = topology;
    expect(topology.leftovers.namespaces).toEqual(
      expect.arrayContaining([`ldc-${run}-br`, `ldc-${run}-x`, `ldc-${run}-y`]),
    );
    expect(topology.leftovers.dataDirs).toContain(path.join(os.tmpdir(), `ldc-${run}-data`));
    expect(await remainsOf(run)).toEqual([]);
    expect(existsSync(path.join(os.tmpdir(), `ldc-${run}-data`))).toBe(false);
    // A second cleaning finds nothing of that run.
    const again = await removeLeftovers();
    expect(again.namespaces.filter((n) => n.startsWith(`ldc-${run}-`))).toEqual([]);
  });

  it("a run ended by SIGTERM removes its namespaces, link, processes and data on the way out", async () => {
    const { child, runId: run } = await startFixture(["signals"]);
    // The process enters its namespace a moment after the fixture said ready.
    await waitFor(
      "the fixture's process in its namespace",
      async () => (await namespacePids(`ldc-${run}-x`)).length > 0,
    );
    const pids = await namespacePids(`ldc-${run}-x`);
    child.kill("SIGTERM");
    expect(await exited(child)).toBe(130);
    expect(await remainsOf(run)).toEqual([]);
    expect(existsSync(path.join(os.tmpdir(), `ldc-${run}-data`))).toBe(false);
    // SIGKILLed by the exit hook: gone, or a zombie its new parent has not reaped yet.
    await waitFor("the run's processes gone", async () => pids.every(gone));
  });
});

function gone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z") ?? true;
  } catch {
    return true;
  }
}

/** Starts the fixture run and resolves once it built its topology. */
async function startFixture(args: string[]): Promise<{ child: ChildProcess; runId: number }> {
  const fixture = path.join(import.meta.dirname, "fixtures/crashing-run.ts");
  const child = spawn(process.execPath, ["--import", "tsx", fixture, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  fixtures.push(child);
  try {
    const runId = await new Promise<number>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error("fixture not ready within 30 s")), 30_000);
      child.stdout?.on("data", (c: Buffer) => {
        out += c.toString();
        const m = /ready (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`fixture exited early (${code})`));
      });
    });
    return { child, runId };
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}
