import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../deploy/index.ts";

const START_TIMEOUT_MS = 240_000;
const childFile = path.join(path.dirname(new URL(import.meta.url).pathname), "stack-child.ts");

/** A private stack the driver started (stack-child.ts, as a child process). */
export interface OwnStack {
  readonly baseUrl: string;
  /** The token secret it signs with, so the driver can mint tokens itself. */
  readonly tokenSecret: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Starts stack-child.ts on free loopback ports in a temporary data directory (embedded Redis,
 * PGlite, the order pipeline, the shadow lane, the gateway) and resolves once it is ready.
 * `stop()` sends SIGTERM (the stack then stops its Redis child) and removes the directory.
 */
export async function startOwnStack(shadow: boolean, log: (line: string) => void): Promise<OwnStack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-loadtest-"));
  const tokenSecret = randomBytes(36).toString("base64url");
  const [redisPort, gatewayPort] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", childFile], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? dir,
      LIVEDROP_DATA_DIR: dir,
      LIVEDROP_REDIS_PORT: String(redisPort),
      GATEWAY_HOST: "127.0.0.1",
      GATEWAY_PORT: String(gatewayPort),
      GATEWAY_TOKEN_SECRET: tokenSecret,
      // Every load-test socket comes from 127.0.0.1.
      GATEWAY_MAX_CONNS_PER_IP: "1000000",
      // The shadow lane (a second order store and pipeline) only when the run uses it.
      LIVEDROP_SHADOW: shadow ? "on" : "off",
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stderr?.on("data", (c: Buffer) => {
    output = (output + c.toString()).slice(-4_000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const baseUrl = await new Promise<string>((resolve, reject) => {
      let stdout = "";
      // Generous: on a loaded 2-core CI box a cold start (tsx, PGlite) can take a minute.
      const timer = setTimeout(
        () =>
          reject(new Error(`the private stack did not come up in ${START_TIMEOUT_MS / 1000} s\n${output}`)),
        START_TIMEOUT_MS,
      );
      child.stdout?.on("data", (c: Buffer) => {
        stdout += c.toString();
        const m = /gateway\s+(http:\/\/\S+)/.exec(stdout);
        if (m?.[1] && stdout.includes("ready")) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the private stack exited with ${code}\n${output}`));
      });
    });
    log(`started a private stack (pid ${child.pid}) at ${baseUrl}`);
    return { baseUrl, tokenSecret, pid: child.pid ?? 0, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
