import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { freePort } from "../deploy/index.ts";

const bin = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../bin/livedrop.mjs");

/**
 * A real `livedrop worker` process (order pipeline and the expiry sweeper, whose fair pass
 * allocates fair windows) on the bench's Redis, with PGlite in `dataDir`; resolves once running.
 * The child goes into `children` at once, so a bench stopped while it starts still kills it.
 */
export async function startWorkerChild(o: {
  redisUrl: string;
  dataDir: string;
  keyPrefix: string;
  children: ChildProcess[];
}): Promise<ChildProcess> {
  const child = spawn(process.execPath, [bin, "worker"], {
    env: {
      PATH: process.env.PATH ?? "",
      REDIS_URL: o.redisUrl,
      LIVEDROP_DATA_DIR: o.dataDir,
      LIVEDROP_KEY_PREFIX: o.keyPrefix,
      WORKER_PORT: String(await freePort()),
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  o.children.push(child);
  await new Promise<void>((resolve, reject) => {
    let output = "";
    child.stdout?.on("data", (c: Buffer) => {
      output += c.toString();
      if (output.includes("livedrop worker running")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`livedrop worker exited with ${code}: ${output}`)));
  });
  return child;
}
