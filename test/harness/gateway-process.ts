import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../deploy/index.ts";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/livedrop.mjs");

export interface GatewayProcess {
  readonly child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
}

/**
 * A real `livedrop gateway` child process on a free port, sharing the given Redis, PostgreSQL,
 * key prefix and token secret; resolves once it listens. Its warnings show in the test output.
 */
export async function startGatewayProcess(o: {
  readonly redisUrl: string;
  readonly databaseUrl: string;
  readonly keyPrefix: string;
  readonly tokenSecret: string;
}): Promise<GatewayProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [bin, "gateway"], {
    env: {
      PATH: process.env.PATH ?? "",
      REDIS_URL: o.redisUrl,
      DATABASE_URL: o.databaseUrl,
      LIVEDROP_KEY_PREFIX: o.keyPrefix,
      GATEWAY_PORT: String(port),
      GATEWAY_TOKEN_SECRET: o.tokenSecret,
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      if (text.includes("livedrop gateway on")) resolve();
      for (const line of text.split("\n")) if (line.startsWith('{"level"')) process.stderr.write(`${line}\n`);
    });
    child.once("exit", (code) => reject(new Error(`gateway exited with ${code}`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}
