import { luaCommands, type RedisClient } from "../../core/index.ts";

const register = luaCommands(new URL("../lua/", import.meta.url), {
  ldRoomAppend: { file: "room-append", keys: 3 },
});

/** Keys of a room's log; all share the room's hash tag (one Redis Cluster slot per room). */
export function roomKeys(prefix: string, room: string) {
  const base = `${prefix}:room:{${room}}`;
  return { log: `${base}:log`, meta: `${base}:meta`, channel: `${base}:events` };
}

/** One published room message: the event with its place in the room's log. */
export interface RoomMessage {
  readonly e: string;
  readonly o: string;
  readonly ev: unknown;
}

export type ReplayResult =
  | { readonly kind: "events"; readonly epoch: string; readonly messages: RoomMessage[] }
  | { readonly kind: "resync"; readonly epoch: string; readonly offset: string };

/**
 * A room's bounded event log (Redis Stream) and channel. Appends are deduplicated per drop
 * version, so every gateway node may offer the same drop event and it is logged once; each log
 * entry's stream id is the room offset clients resume from.
 */
export class RoomLog {
  private readonly cmd: ReturnType<typeof register>;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    /** Entries kept per room (approximate, Redis MAXLEN ~). */
    readonly historyLength = 2_000,
  ) {
    this.cmd = register(redis);
  }

  channel(room: string): string {
    return roomKeys(this.prefix, room).channel;
  }

  /** Appends unless this drop version is already logged. */
  async append(
    room: string,
    event: unknown,
    drop?: { dropId: string; v: number },
  ): Promise<{ appended: boolean; epoch: string; offset?: string }> {
    const k = roomKeys(this.prefix, room);
    const reply = await this.cmd.ldRoomAppend(
      k.log,
      k.meta,
      k.channel,
      drop?.dropId ?? "",
      drop?.v ?? 0,
      JSON.stringify(event),
      this.historyLength,
    );
    return reply[0] === 1
      ? { appended: true, epoch: String(reply[1]), offset: String(reply[2]) }
      : { appended: false, epoch: String(reply[1]) };
  }

  /** The room's epoch, created when the room is first used. */
  async ensureEpoch(room: string): Promise<string> {
    const k = roomKeys(this.prefix, room);
    await this.redis.hsetnx(k.meta, "epoch", `${Date.now()}${Math.floor(Math.random() * 1e6)}`);
    return (await this.redis.hget(k.meta, "epoch")) ?? "";
  }

  /** The room's current epoch and last offset (`0-0` for an empty log). */
  async position(room: string): Promise<{ epoch: string; offset: string }> {
    const k = roomKeys(this.prefix, room);
    const [epoch, last] = await Promise.all([
      this.redis.hget(k.meta, "epoch"),
      this.redis.xrevrange(k.log, "+", "-", "COUNT", 1),
    ]);
    return { epoch: epoch ?? "", offset: last[0]?.[0] ?? "0-0" };
  }

  /**
   * What a client missed since `offset` in `epoch`: the events, or a resync when the epoch
   * changed or the gap is older than the history kept.
   */
  async since(room: string, epoch: string, offset: string, limit = 1_000): Promise<ReplayResult> {
    const k = roomKeys(this.prefix, room);
    const now = await this.position(room);
    if (now.epoch !== epoch || !/^\d+-\d+$/.test(offset)) return { kind: "resync", ...now };
    // Redis remembers the newest id it trimmed: anything after the client's offset gone means a gap.
    const trimmed = await this.maxDeletedId(k.log);
    if (trimmed === undefined || compareIds(offset, trimmed) < 0) return { kind: "resync", ...now };
    const entries = await this.redis.xrange(k.log, `(${offset}`, "+", "COUNT", limit);
    if (entries.length === limit) return { kind: "resync", ...now };
    return {
      kind: "events",
      epoch,
      messages: entries.map(([id, fields]) => ({
        e: epoch,
        o: id,
        ev: JSON.parse(fields[1] ?? "null") as unknown,
      })),
    };
  }

  private async maxDeletedId(log: string): Promise<string | undefined> {
    try {
      const info = (await this.redis.xinfo("STREAM", log)) as unknown[];
      const at = info.indexOf("max-deleted-entry-id");
      return at >= 0 ? String(info[at + 1]) : "0-0";
    } catch {
      return undefined; // no log at all: nothing to replay from
    }
  }
}

/** Orders Redis stream ids `ms-seq`. */
export function compareIds(a: string, b: string): number {
  const [am = "0", as = "0"] = a.split("-");
  const [bm = "0", bs = "0"] = b.split("-");
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}
