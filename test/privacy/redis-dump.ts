import type { Cluster } from "ioredis";
import type { RedisClient } from "../../core/index.ts";

/** Every key under the prefix, on every primary, as `key field value` lines (test-sized data). */
export async function dump(redis: RedisClient, prefix: string): Promise<string[]> {
  const nodes = "nodes" in redis ? (redis as Cluster).nodes("master") : [redis];
  const lines: string[] = [];
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
      cursor = next;
      for (const k of keys) {
        const type = await node.type(k);
        if (type === "hash") {
          const h = await node.hgetall(k);
          for (const [f, v] of Object.entries(h)) lines.push(`${k} ${f} ${v}`);
        } else if (type === "stream") {
          for (const [id, fields] of await node.xrange(k, "-", "+"))
            lines.push(`${k} ${id} ${fields.join(" ")}`);
        } else if (type === "zset") lines.push(`${k} ${(await node.zrange(k, 0, -1)).join(" ")}`);
        else if (type === "set") lines.push(`${k} ${(await node.smembers(k)).join(" ")}`);
        else if (type === "string") lines.push(`${k} ${await node.get(k)}`);
        else lines.push(`${k} (${type})`);
      }
    } while (cursor !== "0");
  }
  // Sorted: SCAN visits keys in no fixed order, and callers compare two dumps.
  return lines.sort();
}
