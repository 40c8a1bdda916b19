import { z } from "zod";
import type { RedisClient } from "../core/index.ts";
import { parseEventMessage } from "./events.ts";
import type { SaleEvent } from "./types.ts";

/** One entry of a drop's event log: what one script call published, oldest event first. */
export interface DropLogEntry {
  /** Stream id: pass it back as `afterId` to read what came next. */
  readonly id: string;
  readonly events: SaleEvent[];
}

/** A Redis stream id (`<ms>-<seq>`, or `<ms>` alone); `0` reads from the start. */
export const streamIdSchema = z
  .string()
  .regex(/^\d{1,16}(-\d{1,19})?$/, "a stream id such as 1700000000000-0");

/** Entries after `afterId` (exclusive), oldest first, at most `count`. */
export async function readLog(
  redis: RedisClient,
  key: string,
  afterId: string,
  count: number,
): Promise<DropLogEntry[]> {
  const entries = (await redis.xrange(key, `(${afterId}`, "+", "COUNT", count)) as [string, string[]][];
  return entries.flatMap(([id, fields]) => {
    const payload = fields[fields.indexOf("e") + 1];
    return payload === undefined ? [] : [{ id, events: parseEventMessage(payload) }];
  });
}

/** The newest entry's id, or null when the log is empty. */
export async function lastLogId(redis: RedisClient, key: string): Promise<string | null> {
  const entries = (await redis.xrevrange(key, "+", "-", "COUNT", 1)) as [string, string[]][];
  return entries[0]?.[0] ?? null;
}
