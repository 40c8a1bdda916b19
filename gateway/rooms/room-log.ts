import { luaCommands, type RedisClient } from "../../core/index.ts";
import { decodeRoomLogEntry, type RoomLogEntry, type RoomMessage } from "../../protocol/index.ts";
import { roomKeys } from "../keys.ts";

const register = luaCommands(new URL("../lua/", import.meta.url), {
  ldRoomAppend: { file: "room-append", keys: 3 },
});

/** The epoch a joiner of a room with no log yet gets: any resume from it is a resync. */
export const EMPTY_EPOCH = "0";

/** Entries read from the log per call while a replay pages through it. */
const REPLAY_PAGE = 500;

export type ReplayResult =
  | {
      readonly kind: "events";
      readonly epoch: string;
      readonly messages: RoomMessage[];
      /** The newest offset read (an entry that did not decode counts): where the replay ends. */
      readonly last: string;
    }
  | { readonly kind: "resync"; readonly epoch: string; readonly offset: string };

/**
 * A room's bounded event log (Redis Stream) and channel. Appends are deduplicated per drop
 * version, so an event offered twice (a lease hand-over, a catch-up) is logged once; each log
 * entry's stream id is the room offset clients resume from. Entries are decoded where they are
 * read (protocol/room-log.ts); one that does not decode is skipped by a replay.
 */
export class RoomLog {
  private readonly cmd: ReturnType<typeof register>;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    /** Seconds a room's log and meta live after its last append. */
    private readonly idleTtlS: number,
    /** Entries kept per room (approximate, Redis MAXLEN ~); all of them are replayable. */
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
    entry: RoomLogEntry,
    drop?: { dropId: string; v: number },
  ): Promise<{ appended: boolean; epoch: string; offset?: string }> {
    const k = roomKeys(this.prefix, room);
    const reply = await this.cmd.ldRoomAppend(
      k.log,
      k.meta,
      k.channel,
      drop?.dropId ?? "",
      drop?.v ?? 0,
      JSON.stringify(entry),
      this.historyLength,
      this.idleTtlS,
    );
    return reply[0] === 1
      ? { appended: true, epoch: String(reply[1]), offset: String(reply[2]) }
      : { appended: false, epoch: String(reply[1]) };
  }

  /** The last version of `dropId` the room log holds (0 when none), as room-append.lua keeps it. */
  async loggedVersion(room: string, dropId: string): Promise<number> {
    return Number((await this.redis.hget(roomKeys(this.prefix, room).meta, `v:${dropId}`)) ?? 0);
  }

  /**
   * The room's current epoch and last offset. Reading writes nothing: a room without a log yet
   * (its epoch is made by its first append) answers EMPTY_EPOCH and `0-0`.
   */
  async position(room: string): Promise<{ epoch: string; offset: string }> {
    const k = roomKeys(this.prefix, room);
    const [epoch, last] = await Promise.all([
      this.redis.hget(k.meta, "epoch"),
      this.redis.xrevrange(k.log, "+", "-", "COUNT", 1),
    ]);
    return { epoch: epoch ?? EMPTY_EPOCH, offset: last[0]?.[0] ?? "0-0" };
  }

  /**
   * What a client missed since `offset` in `epoch`: every event still in the log after it (paged,
   * so the whole history kept is replayable), or a resync when the epoch changed or the gap is
   * older than the history kept.
   */
  async since(room: string, epoch: string, offset: string): Promise<ReplayResult> {
    const k = roomKeys(this.prefix, room);
    const now = await this.position(room);
    if (epoch === EMPTY_EPOCH || now.epoch !== epoch || !/^\d+-\d+$/.test(offset))
      return { kind: "resync", ...now };
    // Redis remembers the newest id it trimmed: anything after the client's offset gone means a gap.
    const trimmed = await this.maxDeletedId(k.log);
    if (trimmed === undefined || compareIds(offset, trimmed) < 0) return { kind: "resync", ...now };
    const messages: RoomMessage[] = [];
    let after = offset;
    let last = offset;
    for (;;) {
      const page = await this.redis.xrange(k.log, `(${after}`, "+", "COUNT", REPLAY_PAGE);
      for (const [id, fields] of page) {
        const entry = decodeRoomLogEntry(fields[1] ?? "null");
        if (entry.ok) messages.push({ e: epoch, o: id, ev: entry.value });
        last = id;
      }
      if (page.length < REPLAY_PAGE) break;
      // A log growing faster than it is read: a snapshot serves better than chasing its tail.
      if (messages.length > 2 * this.historyLength) return { kind: "resync", ...now };
      after = page.at(-1)?.[0] ?? after;
    }
    // Trimmed while paging past the client's offset: part of the gap is gone after all.
    const trimmedAfter = await this.maxDeletedId(k.log);
    if (trimmedAfter !== undefined && compareIds(offset, trimmedAfter) < 0)
      return { kind: "resync", ...(await this.position(room)) };
    return { kind: "events", epoch, messages, last };
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
