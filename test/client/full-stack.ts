import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../../core/index.ts";
import { GatewayServer } from "../../gateway/index.ts";
import { MediaTier } from "../../media/index.ts";
import { type GatewayStack, startGatewayStack } from "../harness/gateway.ts";

/**
 * Everything the browser client talks to, private to one test file: Redis, PostgreSQL, sale
 * engine, order pipeline (the gateway stack harness), a media tier (mediasoup workers, HLS
 * egress) sharing the gateway's token secret, and a gateway node that serves client/dist and
 * hands browsers the media tier's URL.
 */
export interface FullStack {
  readonly stack: GatewayStack;
  readonly media: MediaTier;
  readonly gateway: GatewayServer;
  stop(): Promise<void>;
}

export async function startFullStack(clientDir?: string): Promise<FullStack> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "livedrop-client-media-"));
  const stack = await startGatewayStack();
  let media: MediaTier | undefined;
  try {
    const cfg = loadConfig({
      LIVEDROP_DATA_DIR: dataDir,
      MEDIA_PORT: "0",
      MEDIA_WORKERS: "1",
      LOG_LEVEL: "warn",
    });
    media = await MediaTier.create(cfg, { tokens: stack.tokens });
    const gateway = await GatewayServer.create({
      ...stack.options,
      // Its own subscriber connection, like any node (the harness's belongs to its own server).
      subscriber: stack.redis.client(),
      mediaUrl: media.url,
      ...(clientDir ? { clientDir } : {}),
    });
    const tier = media;
    return {
      stack,
      media: tier,
      gateway,
      async stop() {
        await gateway.close();
        await tier.close();
        await stack.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await media?.close();
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
