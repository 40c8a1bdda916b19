import type { TemplatedApp, WebSocket } from "uWebSockets.js";
import type { Logger } from "../../core/index.ts";
import {
  CloseCode,
  encodeServerFrame,
  type RoomChannelMessage,
  type RoomMessage,
  type ServerFrame,
  type ServerFrameOf,
} from "../../protocol/index.ts";
import type { DropStatus, SaleEngine } from "../../sale-engine/index.ts";
import type { GatewayMetrics } from "../metrics.ts";
import type { RoomHub } from "../rooms/hub.ts";
import { compareIds, type RoomLog } from "../rooms/room-log.ts";
import { BoundedMap } from "./bounded-map.ts";
import { ChatBatcher } from "./chat-batcher.ts";
import { DrawResults } from "./draw-results.ts";
import { frameOf, isDropLevel } from "./frames.ts";
import { RoomBroadcaster } from "./room-broadcaster.ts";
import { RoomOrder, type StepKind, type StepSignal } from "./room-order.ts";
import { buyerHint, RoomPacer } from "./room-pacer.ts";
import { RoomSequence } from "./room-sequence.ts";
import { roomSnapshot } from "./snapshot.ts";
import type { Conn } from "./socket-options.ts";

/** Bytes a socket may have queued before it is closed with TOO_SLOW rather than skipped. */
export const SLOW_SOCKET_BYTES = 1024 * 1024;
/**
 * uWS's own limit, the safety net: past it uWS drops the connection without a close frame (the
 * client sees 1006 and resumes all the same). Twice the soft limit, so the TOO_SLOW close, queued
 * behind the backlog, normally gets there first.
 */
export const MAX_BACKPRESSURE = 2 * SLOW_SOCKET_BYTES;
/**
 * A room's sockets are scanned for slow ones once this much was published to it since the last
 * scan: no socket's queue can grow by more than what its room published, so one passes
 * SLOW_SOCKET_BYTES by at most this (plus one burst) before it is closed, well short of
 * MAX_BACKPRESSURE, and a burst of small events costs no walk over every socket.
 */
const SLOW_SCAN_EVERY_BYTES = 256 * 1024;

export interface RoomDeliveryDeps {
  readonly app: TemplatedApp;
  /** The uWS topic of a room's sockets. */
  readonly topic: (room: string) => string;
  readonly engine: SaleEngine;
  readonly roomLog: RoomLog;
  readonly hub: () => RoomHub;
  /** This server's handle of a socket (undefined once it closed). */
  readonly connOf: (ws: WebSocket<Conn>) => Conn | undefined;
  /** A per-user frame (a draw's result, an offered hold) to every local socket of that user. */
  readonly toUser: (userId: string, frame: ServerFrameOf<"entry" | "offer" | "auctionHold">) => void;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  readonly roomStepTimeoutMs: number;
  readonly snapshotMaxDrops: number;
}

/**
 * What a room's local sockets receive, in the room's order: each room message (chat batched,
 * stock paced, purchase toasts sampled, drop frames at once), snapshots and replays of joins and
 * resumes (RoomEntry runs them as steps of the same order), and the sockets of a room that fell
 * behind (a queue past SLOW_SOCKET_BYTES, an event that could not be framed) closed with
 * TOO_SLOW so they resume. A message that arrives after a break in the room log's chain brings
 * the entries missed before it from the log first.
 */
export class RoomDelivery {
  private readonly order: RoomOrder;
  private readonly sequence = new RoomSequence();
  /**
   * Product, window and limits per drop for drop frames (the event carries state and counts):
   * fetched once, so a burst of drop events costs no Redis round trip each.
   */
  private readonly dropDetails = new BoundedMap<string, DropStatus>(10_000);
  /** Local sockets per room, for the per-socket chat delivery and the slow-socket scan. */
  private readonly roomSockets = new Map<string, Set<WebSocket<Conn>>>();
  private readonly chatBatcher = new ChatBatcher((room) => this.roomSockets.get(room) ?? []);
  private readonly broadcaster: RoomBroadcaster;
  /** Bytes published to each room since its sockets were last scanned for slow ones. */
  private readonly unscannedBytes = new Map<string, number>();
  // Paced frames go out through the room's order too, so nothing overtakes them.
  private readonly pacer = new RoomPacer((room, frame) => this.publishInOrder(room, frame));
  private readonly draws: DrawResults;
  /** Per room and drop, the stock frame of a draw's last winner, held for its draw frame. */
  private readonly drawCounts = new Map<string, ServerFrameOf<"stock">>();

  constructor(private readonly d: RoomDeliveryDeps) {
    this.order = new RoomOrder(d.roomStepTimeoutMs, (room, kind) => {
      d.metrics.roomStepTimeouts.inc({ kind });
      d.log.warn({ room, kind, timeoutMs: d.roomStepTimeoutMs }, "room step abandoned");
    });
    this.broadcaster = new RoomBroadcaster(
      (room, payload) => d.app.publish(d.topic(room), payload),
      (room, bytes) => this.closeSlowSockets(room, bytes),
    );
    this.draws = new DrawResults({
      engine: d.engine,
      localUsers: (room) => this.localUsers(room),
      toUser: d.toUser,
      log: d.log,
    });
  }

  close(): void {
    this.broadcaster.close();
    this.pacer.close();
    this.chatBatcher.close();
  }

  /** Runs `step` after every earlier step of the room: deliveries, joins and resumes in one order. */
  inRoomOrder(room: string, kind: StepKind, step: (signal: StepSignal) => Promise<void>): Promise<void> {
    return this.order.run(room, kind, step);
  }

  /** A frame for the whole room, after what the room has queued (viewer counts, paced stock). */
  publishInOrder(room: string, frame: ServerFrame): void {
    this.inRoomOrder(room, "publish", async () => this.publish(room, frame)).catch(() => undefined);
  }

  /** Subscribes a socket to the room's frames, after writing what was queued before it. */
  enterRoom(ws: WebSocket<Conn>, room: string): void {
    // What was queued before this socket's snapshot or replay must not reach it afterwards.
    this.broadcaster.flush(room);
    ws.subscribe(this.d.topic(room));
    const set = this.roomSockets.get(room) ?? new Set();
    set.add(ws);
    this.roomSockets.set(room, set);
  }

  /** The socket is out of the room (leave, close, failed join). */
  leaveRoom(ws: WebSocket<Conn>, conn: Conn, room: string): void {
    if (!conn.closed) ws.unsubscribe(this.d.topic(room));
    const set = this.roomSockets.get(room);
    set?.delete(ws);
    if (set?.size === 0) this.roomSockets.delete(room);
  }

  /** The node's last viewer of the room left: its next first message starts a new chain. */
  roomEmpty(room: string): void {
    this.sequence.forget(room);
    this.draws.forget(room);
    for (const key of this.drawCounts.keys())
      if (key.startsWith(`${room}\u0000`)) this.drawCounts.delete(key);
  }

  /** A join's snapshot served the room's sockets up to `offset`. */
  servedUpTo(room: string, epoch: string, offset: string): void {
    this.sequence.start(room, epoch, offset);
  }

  snapshot(room: string) {
    return roomSnapshot(this.d.engine, room, this.d.snapshotMaxDrops);
  }

  /** The frame of a logged room message (drop frames take the drop's product and window). */
  async frame(room: string, m: RoomMessage): Promise<ServerFrame | undefined> {
    const ev = m.ev;
    let status: DropStatus | undefined;
    if (isDropLevel(ev)) {
      status = this.dropDetails.get(ev.drop) ?? (await this.d.engine.status(ev.drop));
      // A launch moves the start; nothing else a drop frame takes from the status ever changes.
      if ((ev.type === "drop.created" || ev.type === "drop.state") && typeof ev.starts === "number")
        status = { ...status, startsAt: ev.starts };
      // The window closes a fixed time after the start: a launch moves both.
      if (status.fair && ev.type === "drop.state" && typeof ev.starts === "number")
        status = { ...status, fair: { ...status.fair, closesAt: ev.starts + status.fair.windowMs } };
      // A buy-it-now drop's pin is the event's, not the cached status's.
      if (ev.type === "drop.pinned" || ev.type === "drop.unpinned")
        status = { ...status, pinned: ev.type === "drop.pinned" };
      this.dropDetails.set(ev.drop, status);
    }
    // The draw reveals the seed: later drop frames of this drop carry it.
    const cached = ev.type === "fair.allocated" ? this.dropDetails.get(ev.drop) : undefined;
    if (cached?.fair && ev.type === "fair.allocated")
      this.dropDetails.set(ev.drop, {
        ...cached,
        fair: { ...cached.fair, seed: ev.seed, allocatedAt: ev.at },
      });
    return frameOf(room, m, status);
  }

  /** A message from the room channel: delivered in log order, to every local socket of the room. */
  deliver(room: string, m: RoomChannelMessage): void {
    this.inRoomOrder(room, "deliver", async (signal) => {
      // The node's last viewer left since: nobody to deliver to, no chain to keep.
      if (this.d.hub().localViewers(room) === 0) return this.sequence.forget(room);
      const verdict = this.sequence.judge(room, m);
      if (verdict.kind === "gap") return this.fillGap(room, m, verdict, signal);
      if (verdict.kind === "next") this.sequence.note(room, m.e, m.o);
      await this.deliverOne(room, m, signal);
    }).catch((err: unknown) => {
      this.d.log.warn({ err: (err as Error).message, room }, "room delivery failed");
      this.resumeEveryone(room);
    });
  }

  /**
   * The room channel was down a while (the subscriber reconnected): what was logged after the
   * last delivered entry is delivered from the log, in the room's order.
   */
  recheck(room: string): void {
    this.inRoomOrder(room, "deliver", async (signal) => {
      const known = this.sequence.position(room);
      if (!known || this.d.hub().localViewers(room) === 0) return;
      const missed = await this.d.roomLog.since(room, known.epoch, known.offset);
      if (missed.kind === "resync") {
        if (missed.epoch === known.epoch && missed.offset === known.offset) return; // still empty
        this.d.log.warn({ room }, "room messages missed past the log: sockets resume");
        return this.resumeEveryone(room);
      }
      for (const entry of missed.messages) await this.deliverOne(room, entry, signal);
      this.sequence.note(room, missed.epoch, missed.last);
    }).catch((err: unknown) => {
      this.d.log.warn({ err: (err as Error).message, room }, "room recheck failed");
      this.resumeEveryone(room);
    });
  }

  /** Entries were logged between the last delivered one and `m`: deliver them from the log, then `m`. */
  private async fillGap(
    room: string,
    m: RoomChannelMessage,
    gap: { epoch: string; after: string },
    signal: StepSignal,
  ): Promise<void> {
    const missed = await this.d.roomLog.since(room, gap.epoch, gap.after);
    this.sequence.note(room, m.e, m.o);
    if (missed.kind === "resync") {
      // Gone from the log meanwhile: the sockets resume, and get a snapshot.
      this.d.log.warn({ room }, "room messages missed past the log: sockets resume");
      return this.resumeEveryone(room);
    }
    for (const entry of missed.messages) {
      if (compareIds(entry.o, m.o) > 0) break; // later ones arrive live
      await this.deliverOne(room, entry, signal);
    }
  }

  private async deliverOne(room: string, m: RoomChannelMessage, signal: StepSignal): Promise<void> {
    const ev = m.ev;
    if (ev === undefined) {
      this.d.log.warn({ room, offset: m.o, err: m.error }, "room entry of an unknown kind skipped");
      return;
    }
    if (ev.type === "chat.message") return this.chatBatcher.add(room, ev.message);
    if (ev.type === "chat.moderation")
      return this.publish(room, { t: "moderation", room, action: ev.action, by: ev.by, at: ev.at });
    if (ev.type === "coupon.pinned" || ev.type === "coupon.unpinned")
      return this.publish(room, { t: "coupon", room, coupon: ev.coupon });
    const frame = await this.frame(room, { e: m.e, o: m.o, p: m.p, ev });
    // Abandoned past its deadline: later steps went on, so this one must not write any more.
    if (!frame || signal.abandoned) return;
    // Event time (Redis clock) to this node handing the frame out; stock frames then coalesce.
    this.d.metrics.fanoutLatency.observe(Math.max(0, Date.now() - ev.at) / 1000);
    if (ev.type === "reservation.placed") this.draws.placed(ev);
    // An auction's winner, or the runner-up handed its unit, hears their hold and own price on
    // their sockets (only an auction's hand-off carries a per-user price).
    if (
      ev.type === "reservation.placed" &&
      (ev.via === "auction" || ev.via === "handoff") &&
      ev.priceMinor !== undefined
    )
      this.d.toUser(ev.user, {
        t: "auctionHold",
        dropId: ev.drop,
        reservationId: ev.reservation,
        priceMinor: ev.priceMinor,
        deadline: ev.deadline,
      });
    if (frame.t === "stock" && ev.type === "reservation.placed" && ev.via === "draw") {
      // A draw's winners' holds: the counts after the last one go out unpaced just before the
      // draw frame, since a paced stock frame sent after it (an older offset) would be ignored.
      this.drawCounts.set(`${room}\u0000${frame.dropId}`, frame);
      return;
    }
    if (frame.t === "draw" && ev.type === "fair.allocated") {
      const key = `${room}\u0000${frame.dropId}`;
      const counts = this.drawCounts.get(key);
      this.drawCounts.delete(key);
      this.pacer.superseded(room, frame.dropId);
      if (counts) this.publish(room, counts);
      this.publish(room, frame);
      // The room hears the draw before any entrant hears their own result.
      this.broadcaster.flush(room);
      return this.draws.allocated(room, ev);
    }
    if (frame.t === "stock") {
      this.pacer.stock(frame);
      if (ev.type === "reservation.placed" && this.pacer.toastAllowed(room)) {
        this.publish(room, {
          t: "toast",
          room,
          dropId: frame.dropId,
          qty: ev.qty,
          buyer: buyerHint(ev.user),
        });
      }
      return;
    }
    if (frame.t === "auction") return this.pacer.stock(frame);
    if (frame.t === "auctionEnded") this.pacer.superseded(room, frame.dropId, "auction");
    if (frame.t === "drop") this.pacer.superseded(room, frame.drop.dropId);
    this.publish(room, frame);
  }

  /** Per room, the users of its local sockets (this node's room presence). */
  usersByRoom(): Map<string, ReadonlySet<string>> {
    const rooms = new Map<string, ReadonlySet<string>>();
    for (const room of this.roomSockets.keys()) rooms.set(room, this.localUsers(room));
    return rooms;
  }

  /** The users of the room's local sockets, each once. */
  private localUsers(room: string): Set<string> {
    const users = new Set<string>();
    for (const ws of this.roomSockets.get(room) ?? []) {
      const conn = this.d.connOf(ws);
      if (conn && !conn.closed) users.add(conn.claims.userId);
    }
    return users;
  }

  /**
   * A room event that could not be turned into its frame (Redis failed or was past the step
   * deadline) is not silently skipped: the room's local sockets are closed with TOO_SLOW, so each
   * reconnects and resumes from its last offset, and the replay brings the event from the log.
   */
  private resumeEveryone(room: string): void {
    for (const ws of this.roomSockets.get(room) ?? []) {
      const conn = this.d.connOf(ws);
      if (!conn || conn.closed) continue;
      conn.closed = true;
      ws.end(CloseCode.TOO_SLOW, "a room event was not delivered: resume from your last offset");
    }
  }

  private publish(room: string, frame: ServerFrame): void {
    this.broadcaster.add(room, encodeServerFrame(frame));
  }

  /**
   * After a room's frames went out: a socket whose queue passed SLOW_SOCKET_BYTES is closed with
   * TOO_SLOW (the close frame queued behind its backlog), so it reconnects and resumes from its
   * last offset instead of silently missing state events.
   */
  private closeSlowSockets(room: string, bytes: number): void {
    const unscanned = (this.unscannedBytes.get(room) ?? 0) + bytes;
    if (unscanned < SLOW_SCAN_EVERY_BYTES) {
      this.unscannedBytes.set(room, unscanned);
      return;
    }
    this.unscannedBytes.delete(room);
    for (const ws of this.roomSockets.get(room) ?? []) {
      const conn = this.d.connOf(ws);
      if (!conn || conn.closed || ws.getBufferedAmount() <= SLOW_SOCKET_BYTES) continue;
      conn.closed = true;
      this.d.metrics.slowClosed.inc();
      ws.end(CloseCode.TOO_SLOW, "too slow: resume from your last offset");
    }
  }
}
