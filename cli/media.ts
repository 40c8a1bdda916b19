import { config, ValidationError } from "../core/index.ts";
import { startMediaNode } from "../media/index.ts";
import { startTelemetry } from "../telemetry/index.ts";
import { untilSignal } from "./until-signal.ts";

/**
 * `livedrop media`: one media node (mediasoup workers, WebRTC signaling, RTP ingest, HLS egress)
 * on MEDIA_HOST:MEDIA_PORT, with /healthz, /readyz and /metrics there. On SIGINT/SIGTERM it ends
 * its rooms (transports closed, ffmpeg egresses stopped) within LIVEDROP_STOP_GRACE_MS.
 */
export async function runMedia(args: string[]): Promise<number> {
  if (args.length > 0)
    throw new ValidationError(
      `media takes no arguments (configure it with environment variables); got ${args.join(" ")}`,
    );
  const cfg = config();
  const telemetry = await startTelemetry(cfg, "media");
  const node = await startMediaNode(cfg);
  if (!node.tier) {
    process.stderr.write(`${node.lines.join("\n")}\n`);
    await telemetry.shutdown();
    return 1;
  }
  process.stdout.write(`${node.lines.join("\n")}\nlivedrop media running; Ctrl-C stops it\n`);
  return untilSignal(
    async () => {
      await node.stop();
      await telemetry.shutdown();
    },
    { graceMs: cfg.LIVEDROP_STOP_GRACE_MS },
  );
}
