import type { ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import path from "node:path";
import type { Topology } from "./topology.ts";
import { until } from "./wait.ts";

const repoRoot = path.resolve(import.meta.dirname, "..");
const cli = path.join(repoRoot, "bin/livedrop.mjs");

export const GATEWAY_PORT = 8080;
export const WORKER_PORT = 9090;

/** One livedrop role (`gateway` or `worker`) on a host, its output kept in the run's folder. */
export class Service {
  private child: ChildProcess | undefined;
  /** The output's last few KB, for the error that says why it did not come up. */
  private tail = "";

  constructor(
    private readonly topology: Topology,
    readonly role: "gateway" | "worker",
    readonly host: string,
    private readonly env: Record<string, string>,
    private readonly startTimeoutMs: number,
  ) {}

  get address(): string {
    return this.topology.host(this.host).address;
  }

  get baseUrl(): string {
    return `http://${this.address}:${this.role === "gateway" ? GATEWAY_PORT : WORKER_PORT}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the role and resolves once its /readyz answers 200. */
  async start(): Promise<void> {
    const logDir = path.join(this.topology.dataDir, "logs");
    mkdirSync(logDir, { recursive: true });
    const log = createWriteStream(path.join(logDir, `${this.role}-${this.host}.log`), { flags: "a" });
    const dataDir = path.join(this.topology.dataDir, `${this.role}-${this.host}`);
    mkdirSync(dataDir, { recursive: true });
    const child = this.topology.spawn(this.host, process.execPath, [cli, this.role], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? dataDir,
        LIVEDROP_DATA_DIR: dataDir,
        LOG_LEVEL: "warn",
        ...(this.role === "gateway"
          ? { GATEWAY_HOST: this.address, GATEWAY_PORT: String(GATEWAY_PORT) }
          : { WORKER_HOST: this.address, WORKER_PORT: String(WORKER_PORT) }),
        ...this.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    for (const stream of [child.stdout, child.stderr]) {
      stream?.pipe(log);
      stream?.on("data", (c: Buffer) => {
        this.tail = (this.tail + c.toString()).slice(-3_000);
      });
    }
    this.child = child;
    await this.waitReady();
  }

  async waitReady(): Promise<void> {
    await until(`${this.role} on ${this.host} ready`, this.startTimeoutMs, async () => {
      if (!this.running) throw new Error(`${this.role} on ${this.host} exited: ${this.tail}`);
      const res = await fetch(`${this.baseUrl}/readyz`, { signal: AbortSignal.timeout(1_000) }).catch(
        () => undefined,
      );
      return res?.status === 200 ? true : undefined;
    });
  }

  /** SIGKILL: the process dies with whatever it held in memory. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
