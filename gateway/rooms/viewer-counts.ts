import { randomUUID } from "node:crypto";
import { type Logger, luaCommands, type RedisClient } from "../../core/index.ts";
import { roomKeys } from "./room-log.ts";

const register = luaCommands(new URL("../lua/", import.meta.url), {
  ldViewerReport: { file: "viewer-report", keys: 1 },
});

/** How often each node reports its viewers, and after how long a silent node's report expires. */
export const VIEWER_REPORT_MS = 2_000;
const STALE_AFTER_MS = 3 * VIEWER_REPORT_MS;

function viewersKey(prefix: string, room: string): string {
  return `${roomKeys(prefix, room).meta}:viewers`;
}

/** A room's hash of node reports (`count|time` per node): the fresh total and the stale nodes. */
function sumReports(reports: Record<string, string>, now: number): { total: number; stale: string[] } {
  let total = 0;
  const stale: string[] = [];
  for (const [node, value] of Object.entries(reports)) {
    const [n = "0", at = "0"] = value.split("|");
    if (now - Number(at) > STALE_AFTER_MS) stale.push(node);
    else total += Number(n);
  }
  return { total, stale };
}

/** Viewers of `room` over every node's fresh report (read-only: for dashboards). */
export async function roomViewers(redis: RedisClient, prefix: string, room: string, now = Date.now()) {
  return sumReports(await redis.hgetall(viewersKey(prefix, room)), now).total;
}

/**
 * Viewer counts summed across gateway nodes: every node writes its local count of each room
 * into the room's hash (field = node id, value = `count|time`) every 2 s, sums the fresh
 * fields, drops stale ones (a node that died), and hands changed totals to `publish`; one script
 * call per room and round (lua/viewer-report.lua).
 */
export class ViewerCounts {
  readonly nodeId = randomUUID();
  private readonly reported = new Set<string>();
  private readonly totals = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly cmd: ReturnType<typeof register>;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly localCounts: () => Map<string, number>,
    private readonly publish: (room: string, total: number) => void,
    readonly log: Logger,
  ) {
    this.cmd = register(redis);
    this.timer = setInterval(() => {
      this.report().catch((err: unknown) =>
        log.warn({ err: (err as Error).message }, "viewer count report failed"),
      );
    }, VIEWER_REPORT_MS);
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** One round: write this node's counts, read every node's, publish the totals that changed. */
  async report(now = Date.now()): Promise<void> {
    const local = this.localCounts();
    for (const room of this.reported) {
      if (!local.has(room)) {
        await this.redis.hdel(this.key(room), this.nodeId);
        this.reported.delete(room);
        this.totals.delete(room);
      }
    }
    // One script call per room: write this node's count, drop dead nodes' reports, sum the rest.
    await Promise.all(
      [...local].map(async ([room, count]) => {
        const total = Number(
          await this.cmd.ldViewerReport(
            this.key(room),
            this.nodeId,
            count,
            now,
            STALE_AFTER_MS,
            2 * STALE_AFTER_MS,
          ),
        );
        this.reported.add(room);
        if (this.totals.get(room) !== total) {
          this.totals.set(room, total);
          this.publish(room, total);
        }
      }),
    );
  }

  private key(room: string): string {
    return viewersKey(this.prefix, room);
  }
}
