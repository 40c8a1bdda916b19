import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TokenService } from "../../auth/index.ts";
import { freePort } from "../../deploy/index.ts";
import { type OrderStack, startOrderStack } from "./order-stack.ts";
import { startPrivatePostgres } from "./postgres.ts";
import { type PrivateRedis, startPrivateRedis } from "./redis.ts";

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

/** What the multi-node tests share: Redis, PostgreSQL, the order stack, tokens, and their gateways. */
export interface NodeStack {
  readonly redis: PrivateRedis;
  readonly stack: OrderStack;
  readonly tokens: TokenService;
  /** A real gateway process on this stack; killed by stop() if still running. */
  startNode(): Promise<GatewayProcess>;
  stop(): Promise<void>;
}

export async function startNodeStack(tokenSecret: string): Promise<NodeStack> {
  const [redis, pg] = await Promise.all([startPrivateRedis(), startPrivatePostgres()]);
  const client = redis.client();
  client.on("error", () => {});
  const stack = await startOrderStack({
    redisEnv: { REDIS_URL: redis.url },
    redisClient: client,
    databaseUrl: pg.url,
  });
  const tokens = await TokenService.create({ secret: tokenSecret });
  const nodes: GatewayProcess[] = [];
  return {
    redis,
    stack,
    tokens,
    async startNode() {
      const node = await startGatewayProcess({
        redisUrl: redis.url,
        databaseUrl: pg.url,
        keyPrefix: stack.prefix,
        tokenSecret,
      });
      nodes.push(node);
      return node;
    },
    async stop() {
      for (const { child } of nodes)
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await stack.stop();
      await Promise.all([redis.stop(), pg.stop()]);
    },
  };
}
