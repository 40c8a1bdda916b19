import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { freePort } from "../deploy/index.ts";
import { INSPECT_FLAG, inspectorUrl } from "./inspector.ts";

const bin = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../bin/livedrop.mjs");

export interface GatewayChild {
  readonly child: ChildProcess;
  /** `ws://…/ws` of the node. */
  readonly wsUrl: string;
  /** The child's inspector (benches force a garbage collection before reading its memory). */
  readonly inspectorUrl: string;
}

/** A real `livedrop gateway` process on a free port; resolves once it listens. */
export async function startGatewayChild(o: {
  redisUrl: string;
  dataDir: string;
  keyPrefix: string;
  tokenSecret: string;
  maxConnectionsPerIp: number;
  /** When one bench user holds many sockets in a room: each socket is one of its memberships. */
  maxRoomsPerUser?: number;
}): Promise<GatewayChild> {
  const port = await freePort();
  const child = spawn(process.execPath, [INSPECT_FLAG, bin, "gateway"], {
    env: {
      PATH: process.env.PATH ?? "",
      REDIS_URL: o.redisUrl,
      LIVEDROP_DATA_DIR: o.dataDir,
      LIVEDROP_KEY_PREFIX: o.keyPrefix,
      GATEWAY_PORT: String(port),
      GATEWAY_TOKEN_SECRET: o.tokenSecret,
      GATEWAY_MAX_CONNS_PER_IP: String(o.maxConnectionsPerIp),
      ...(o.maxRoomsPerUser ? { GATEWAY_MAX_ROOMS_PER_USER: String(o.maxRoomsPerUser) } : {}),
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const inspector = inspectorUrl(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (c: Buffer) => c.toString().includes("livedrop gateway on") && resolve());
    child.once("exit", (code) => reject(new Error(`livedrop gateway exited with ${code}`)));
  });
  return { child, wsUrl: `ws://127.0.0.1:${port}/ws`, inspectorUrl: await inspector };
}
