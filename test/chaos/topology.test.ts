import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { remainsOf, removeLeftovers, Topology } from "../../chaos/index.ts";
import { listNamespaces, listRootLinks } from "../../chaos/ip.ts";

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
afterEach(async () => {
  await open?.destroy();
  open = undefined;
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
    const fixture = path.join(import.meta.dirname, "fixtures/crashing-run.ts");
    const child = spawn(process.execPath, ["--import", "tsx", fixture], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let crashedRun: number | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        let out = "";
        child.stdout?.on("data", (c: Buffer) => {
          out += c.toString();
          const m = /ready (\d+)/.exec(out);
          if (m) {
            crashedRun = Number(m[1]);
            resolve();
          }
        });
        child.once("exit", (code) => reject(new Error(`fixture exited early (${code})`)));
      });
    } finally {
      child.kill("SIGKILL");
    }
    await new Promise((r) =>
      child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once("exit", r),
    );
    const run = crashedRun as number;
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
});
