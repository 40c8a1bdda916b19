import { execFileSync } from "node:child_process";
import { appendFileSync, chownSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { initdbArgs } from "../deploy/index.ts";
import type { Topology } from "./topology.ts";
import { until } from "./wait.ts";

const PORT = 5432;

/** Debian's newest PostgreSQL binaries, else PATH. */
function bin(tool: string): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const dir = versions.map((v) => path.join(root, v, "bin")).find((d) => existsSync(path.join(d, tool)));
  return dir ? path.join(dir, tool) : tool;
}

/**
 * PostgreSQL on one host of the topology: initdb into the run's data folder (trust for the run's
 * subnet only), listening on the host's address, durable (fsync on: a restart fault must not
 * lose a committed order). Runs as the `postgres` user (it refuses root).
 */
export class ChaosPostgres {
  private constructor(
    private readonly topology: Topology,
    readonly host: string,
    private readonly dir: string,
    private readonly startTimeoutMs: number,
  ) {}

  get url(): string {
    return `postgres://postgres@${this.topology.host(this.host).address}:${PORT}/livedrop`;
  }

  private get dataDir(): string {
    return path.join(this.dir, "data");
  }

  static async start(topology: Topology, host: string, startTimeoutMs: number): Promise<ChaosPostgres> {
    const dir = path.join(topology.dataDir, `pg-${host}`);
    mkdirSync(dir, { recursive: true });
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, uid, gid);
    const server = new ChaosPostgres(topology, host, dir, startTimeoutMs);
    await topology.run(host, "runuser", [
      "-u",
      "postgres",
      "--",
      bin("initdb"),
      ...initdbArgs(server.dataDir),
    ]);
    appendFileSync(path.join(server.dataDir, "pg_hba.conf"), `host all all ${topology.subnet}.0/24 trust\n`);
    await server.startServer();
    const admin = new pg.Client({
      host: topology.host(host).address,
      port: PORT,
      user: "postgres",
      database: "postgres",
    });
    await admin.connect();
    try {
      await admin.query('CREATE DATABASE "livedrop"');
    } finally {
      await admin.end();
    }
    return server;
  }

  private async startServer(): Promise<void> {
    const address = this.topology.host(this.host).address;
    await this.pgCtl([
      "start",
      "-D",
      this.dataDir,
      "-l",
      path.join(this.dir, "postgres.log"),
      "-w",
      "-t",
      String(Math.ceil(this.startTimeoutMs / 1000)),
      "-o",
      `-p ${PORT} -k ${this.dir} -c listen_addresses=${address} -c max_connections=200`,
    ]);
  }

  private pgCtl(args: string[]): Promise<string> {
    return this.topology.run(
      this.host,
      "runuser",
      ["-u", "postgres", "--", bin("pg_ctl"), ...args],
      this.startTimeoutMs,
    );
  }

  /** Stops it the fast way (clients are cut off) and starts it again on the same data. */
  async restart(): Promise<void> {
    await this.pgCtl(["stop", "-D", this.dataDir, "-m", "fast", "-w"]);
    await this.startServer();
  }

  /** A client of the run's database, from the root namespace. */
  async query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5_000 });
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }

  /** Resolves once the database answers a query. */
  async waitReady(): Promise<void> {
    await until("PostgreSQL answers", this.startTimeoutMs, async () =>
      (await this.query("SELECT 1").catch(() => undefined)) ? true : undefined,
    );
  }
}
