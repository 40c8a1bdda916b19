import type { RedisClient } from "../../core/index.ts";
import type { EligibleAtDraw } from "../../sale-engine/index.ts";
import { presenceNodeKey } from "../keys.ts";
import { freshViewerNodes } from "./viewer-counts.ts";

/**
 * Room presence over every gateway node: each node reports the users of its sockets per room
 * along with its viewer counts (rooms/viewer-counts.ts); a node whose heartbeat went stale does
 * not count. Read by whoever draws a giveaway (the worker's fair pass), through Redis alone.
 */
export async function presentUsers(
  redis: RedisClient,
  prefix: string,
  room: string,
  userIds: readonly string[],
  now = Date.now(),
): Promise<Set<string>> {
  const present = new Set<string>();
  if (userIds.length === 0) return present;
  const nodes = await freshViewerNodes(redis, prefix, now);
  const answers = await Promise.all(
    nodes.map((node) => redis.smismember(presenceNodeKey(prefix, node, room), ...userIds)),
  );
  for (const flags of answers)
    flags.forEach((flag, i) => {
      const user = userIds[i];
      if (flag === 1 && user !== undefined) present.add(user);
    });
  return present;
}

/** The sale engine's `eligibleAtDraw`, answered from the room presence of the lane `prefix`. */
export function presenceEligibility(redis: RedisClient, prefix: string): EligibleAtDraw {
  return (room, userIds) => presentUsers(redis, prefix, room, userIds);
}
