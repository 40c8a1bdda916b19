import { type ChildProcess, type SpawnOptions, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ip, ipQuiet, listRootLinks } from "./ip.ts";
import { killNamespaceProcesses, type Leftovers, remainsOf, removeLeftovers } from "./leftovers.ts";
import { bridgeNamespace, dataDirName, namespaceName, rootLinkName } from "./names.ts";

export interface TopologyOptions {
  /** Short host names (letters, digits, at most 8): each becomes a namespace of its own. */
  readonly hosts: readonly string[];
  /** Names everything the run makes. Default this process's pid. */
  readonly runId?: number;
  /** Told what was cleaned from earlier runs, and other progress. */
  readonly log?: (line: string) => void;
}

/** One host: a network namespace with one address on the run's bridge. */
export interface Host {
  readonly name: string;
  readonly namespace: string;
  readonly address: string;
}

const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));
/** Third octets tried for the run's 10.77.X.0/24 before giving up. */
const SUBNET_TRIES = 200;
/** Bridge-side end of host `h`'s veth pair (inside the bridge namespace only). */
const bridgePort = (host: string) => `v-${host}`;

/**
 * Hosts as Linux network namespaces on one machine: a bridge in a namespace of its own, one
 * veth pair per host, and one veth from the root namespace (where the load runs) into the
 * bridge. The /24 is picked so that no route of the root namespace overlaps it: its addresses
 * exist only inside this run. `destroy()` removes every namespace, link, process and folder it
 * made (safe to call twice); a process exit runs a synchronous last-resort removal too.
 */
export class Topology {
  readonly dataDir: string;
  private readonly hostsByName = new Map<string, Host>();
  private destroyed: Promise<void> | undefined;
  private readonly exitHook = () => this.destroySync();

  private constructor(
    readonly runId: number,
    readonly subnet: string,
    readonly leftovers: Leftovers,
  ) {
    this.dataDir = path.join(os.tmpdir(), dataDirName(runId));
  }

  /** The root namespace's address on the bridge (the load's source address). */
  get rootAddress(): string {
    return `${this.subnet}.1`;
  }

  get hosts(): Host[] {
    return [...this.hostsByName.values()];
  }

  static async create(options: TopologyOptions): Promise<Topology> {
    const runId = options.runId ?? process.pid;
    const log = options.log ?? (() => undefined);
    for (const h of options.hosts)
      if (!/^[a-z0-9]{1,8}$/.test(h) || h === "br") throw new Error(`bad host name ${JSON.stringify(h)}`);
    const leftovers = await removeLeftovers(runId);
    const cleaned = [...leftovers.namespaces, ...leftovers.links, ...leftovers.dataDirs];
    if (cleaned.length > 0)
      log(
        `removed leftovers of an earlier run: ${cleaned.join(", ")} (${leftovers.processes.length} processes)`,
      );
    const still = await remainsOf(runId);
    if (still.length > 0) throw new Error(`leftovers could not be removed: ${still.join(", ")}`);
    const topology = new Topology(runId, await freeSubnet(), leftovers);
    process.once("exit", topology.exitHook);
    try {
      await topology.build(options.hosts);
    } catch (err) {
      await topology.destroy();
      throw err;
    }
    log(
      `topology ${bridgeNamespace(runId)}: ${topology.hosts.map((h) => `${h.name}=${h.address}`).join(" ")}`,
    );
    return topology;
  }

  private async build(hosts: readonly string[]): Promise<void> {
    mkdirSync(this.dataDir, { recursive: true });
    const br = bridgeNamespace(this.runId);
    await ip(["netns", "add", br]);
    await ip(["-n", br, "link", "set", "lo", "up"]);
    await ip(["-n", br, "link", "add", "br0", "type", "bridge"]);
    await ip(["-n", br, "link", "set", "br0", "up"]);
    const root = rootLinkName(this.runId);
    await ip(["-n", br, "link", "add", "root", "type", "veth", "peer", "name", root, "netns", "1"]);
    await ip(["addr", "add", `${this.rootAddress}/24`, "dev", root]);
    await ip(["link", "set", root, "up"]);
    await ip(["-n", br, "link", "set", "root", "master", "br0", "up"]);
    for (const [i, name] of hosts.entries()) {
      const ns = namespaceName(this.runId, name);
      const address = `${this.subnet}.${10 + i}`;
      await ip(["netns", "add", ns]);
      await ip(["-n", ns, "link", "set", "lo", "up"]);
      await ip([
        "-n",
        br,
        "link",
        "add",
        bridgePort(name),
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        ns,
      ]);
      await ip(["-n", ns, "addr", "add", `${address}/24`, "dev", "eth0"]);
      await ip(["-n", ns, "link", "set", "eth0", "up"]);
      await ip(["-n", br, "link", "set", bridgePort(name), "master", "br0", "up"]);
      this.hostsByName.set(name, { name, namespace: ns, address });
    }
  }

  host(name: string): Host {
    const h = this.hostsByName.get(name);
    if (!h) throw new Error(`no host ${name} in this topology`);
    return h;
  }

  /**
   * Starts `bin args` inside the host's namespace. It dies with this process (parent-death
   * signal) and, whatever it forks, is killed by destroy() (everything in the namespace is).
   */
  spawn(host: string, bin: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    const inNs = ["netns", "exec", this.host(host).namespace, bin, ...args];
    return SETPRIV
      ? spawn(SETPRIV, ["--pdeathsig", "KILL", "--", "ip", ...inNs], options)
      : spawn("ip", inNs, options);
  }

  /** Runs a command inside the host's namespace to its end; resolves with its stdout. */
  run(host: string, bin: string, args: readonly string[], timeoutMs = 30_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = this.spawn(host, bin, args, { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout?.on("data", (c: Buffer) => {
        out += c.toString();
      });
      child.stderr?.on("data", (c: Buffer) => {
        err += c.toString();
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.once("error", reject);
      child.once("close", (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve(out);
        else
          reject(new Error(`${bin} ${args.join(" ")} on ${host} failed (${code ?? signal}): ${err.trim()}`));
      });
    });
  }

  /** Cuts the host off the bridge: from then on it reaches nobody and nobody reaches it. */
  async cut(host: string): Promise<void> {
    await ip(["-n", bridgeNamespace(this.runId), "link", "set", bridgePort(this.host(host).name), "down"]);
  }

  async heal(host: string): Promise<void> {
    await ip(["-n", bridgeNamespace(this.runId), "link", "set", bridgePort(this.host(host).name), "up"]);
  }

  /** SIGKILLs every process of the host (the way a host dies). */
  async killAll(host: string): Promise<void> {
    await killNamespaceProcesses([this.host(host).namespace]);
  }

  destroy(): Promise<void> {
    this.destroyed ??= (async () => {
      const namespaces = [...this.hosts.map((h) => h.namespace), bridgeNamespace(this.runId)];
      await killNamespaceProcesses(namespaces);
      for (const ns of namespaces) await ipQuiet(["netns", "delete", ns]);
      if ((await listRootLinks()).includes(rootLinkName(this.runId)))
        await ipQuiet(["link", "delete", rootLinkName(this.runId)]);
      rmSync(this.dataDir, { recursive: true, force: true });
      process.removeListener("exit", this.exitHook);
    })();
    return this.destroyed;
  }

  /** At process exit nothing async runs: kill and delete with synchronous calls. */
  private destroySync(): void {
    const namespaces = [...this.hosts.map((h) => h.namespace), bridgeNamespace(this.runId)];
    for (const ns of namespaces) {
      const pids = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).stdout ?? "";
      for (const pid of pids.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      spawnSync("ip", ["netns", "delete", ns]);
    }
    spawnSync("ip", ["link", "delete", rootLinkName(this.runId)]);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** A 10.77.X.0/24 that no address or route of the root namespace touches yet. */
async function freeSubnet(): Promise<string> {
  const used = `${await ip(["-4", "route", "show", "table", "all"])}\n${await ip(["-4", "-o", "addr", "show"])}`;
  const start = process.pid % SUBNET_TRIES;
  for (let i = 0; i < SUBNET_TRIES; i++) {
    const subnet = `10.77.${20 + ((start + i) % SUBNET_TRIES)}`;
    if (!used.includes(`${subnet}.`)) return subnet;
  }
  throw new Error("no free 10.77.X.0/24 subnet for the chaos run");
}
