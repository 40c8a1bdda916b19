import type { WebSocket } from "uWebSockets.js";
import { type Logger, withDeadline } from "../../core/index.ts";
import {
  type ClientFrame,
  encodeServerFrame,
  type ServerFrame,
  WireErrorCode,
} from "../../protocol/index.ts";
import type { GatewayMetrics } from "../metrics.ts";
import type { RoomHub } from "../rooms/hub.ts";
import type { RoomLog } from "../rooms/room-log.ts";
import type { RoomChat } from "./chat.ts";
import { errorFor } from "./frame-rules.ts";
import { wireError } from "./frames.ts";
import type { RoomCaps } from "./room-caps.ts";
import type { RoomDelivery } from "./room-delivery.ts";
import type { StepKind, StepSignal } from "./room-order.ts";
import type { SlowJoinLog } from "./slow-join-log.ts";
import type { Conn } from "./socket-options.ts";

export interface RoomEntryDeps {
  readonly delivery: RoomDelivery;
  readonly hub: RoomHub;
  readonly roomLog: RoomLog;
  readonly chat: RoomChat;
  readonly caps: RoomCaps;
  readonly slowJoins: SlowJoinLog;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  readonly roomStepTimeoutMs: number;
  /** Sends to one socket unless it closed. */
  readonly send: (ws: WebSocket<Conn>, frame: ServerFrame) => void;
}

type JoinFrame = Extract<ClientFrame, { t: "join" }>;
type ResumeFrame = Extract<ClientFrame, { t: "resume" }>;

/**
 * Room membership of a node's sockets: joins (batched per room), resumes (a replay from an
 * offset), and leaves, within the room caps. Snapshots and replays run as steps of the room's
 * delivery order, so no live event overtakes them, and a join or resume is always answered within
 * the room step deadline: the snapshot, or the retryable UNAVAILABLE.
 */
export class RoomEntry {
  /** Sockets whose join waits for the room's next join step, with their membership tickets. */
  private readonly pendingJoins = new Map<
    string,
    { joiners: { ws: WebSocket<Conn>; conn: Conn; ticket: number }[]; served: Promise<void> }
  >();

  constructor(private readonly d: RoomEntryDeps) {}

  async join(ws: WebSocket<Conn>, conn: Conn, frame: JoinFrame): Promise<void> {
    const room = frame.room;
    if (conn.rooms.has(room)) return;
    const startedAt = Date.now();
    await this.enterWithin(ws, conn, frame, async (ticket, subscribedAt) => {
      // Joins waiting for the room are served together: one read of the log position, the drops
      // and the recent chat for all of them, so a join storm (a drop announced on air) costs a
      // few Redis round trips per batch instead of per viewer, and live events are not held up.
      const waiting = this.pendingJoins.get(room);
      let served: Promise<void>;
      if (waiting) {
        waiting.joiners.push({ ws, conn, ticket });
        served = waiting.served;
      } else {
        served = this.d.delivery.inRoomOrder(room, "join", (signal) => this.serveJoins(room, signal));
        this.pendingJoins.set(room, { joiners: [{ ws, conn, ticket }], served });
      }
      await served;
      this.d.metrics.joinLatency.observe((Date.now() - startedAt) / 1000);
      this.d.slowJoins.note(room, startedAt, subscribedAt);
    });
  }

  async resume(ws: WebSocket<Conn>, conn: Conn, frame: ResumeFrame): Promise<void> {
    const room = frame.room;
    const ticket = conn.tickets.get(room);
    if (ticket !== undefined) {
      // Already in the room: only the replay, with the same deadline.
      try {
        await withDeadline(
          this.replay(ws, conn, frame, ticket),
          this.d.roomStepTimeoutMs,
          `resume of room ${room}`,
        );
      } catch {
        this.d.send(ws, errorFor(frame, WireErrorCode.UNAVAILABLE, `could not resume ${room} now: retry`));
      }
      return;
    }
    await this.enterWithin(ws, conn, frame, (t) => this.replay(ws, conn, frame, t));
  }

  /** Ends a membership (leave, close, failed join): the room's hub count and topic follow. */
  leave(ws: WebSocket<Conn>, conn: Conn, room: string): void {
    if (!this.d.caps.remove(conn, room)) return;
    this.d.delivery.leaveRoom(ws, conn, room);
    this.d.hub
      .leave(room)
      .catch((err: unknown) => this.d.log.warn({ err: (err as Error).message, room }, "leave failed"));
    if (this.d.hub.localViewers(room) === 0) this.d.delivery.roomEmpty(room);
  }

  /** Adds `room` to the connection's rooms within the caps, or answers TOO_MANY_ROOMS. */
  private addMember(ws: WebSocket<Conn>, conn: Conn, room: string): number | undefined {
    const added = this.d.caps.add(conn, room);
    if ("ticket" in added) return added.ticket;
    this.d.send(ws, { t: "error", code: WireErrorCode.TOO_MANY_ROOMS, message: added.refused, room });
    return undefined;
  }

  /**
   * A join or resume of a room the connection was not in: `work` runs after the room's
   * subscription is live, and the whole of it has the room step deadline. Past it, or on a
   * failure, the membership is undone and the socket hears why (UNAVAILABLE, retryable), so a
   * join is always answered, whatever Redis does.
   */
  private async enterWithin(
    ws: WebSocket<Conn>,
    conn: Conn,
    frame: JoinFrame | ResumeFrame,
    work: (ticket: number, subscribedAt: number) => Promise<void>,
  ): Promise<void> {
    const room = frame.room;
    const ticket = this.addMember(ws, conn, room);
    if (ticket === undefined) return;
    const kind: StepKind = frame.t;
    try {
      const entered = (async () => {
        await this.d.hub.enter(room);
        await work(ticket, Date.now());
      })();
      await withDeadline(entered, this.d.roomStepTimeoutMs, `${kind} of room ${room}`);
    } catch (err) {
      if (conn.tickets.get(room) !== ticket) return; // left or rejoined meanwhile
      this.leave(ws, conn, room);
      const e = wireError(err);
      if (e.code === WireErrorCode.INTERNAL)
        this.d.log.warn({ err: (err as Error).message, room }, `${kind} failed`);
      this.d.metrics.joinFailures.inc({ kind });
      this.d.send(ws, errorFor(frame, WireErrorCode.UNAVAILABLE, `could not ${kind} ${room} now: retry`));
    }
  }

  /**
   * Runs in the room's delivery order: no live event can overtake the snapshot, and every event
   * after the snapshot's offset arrives live (the sockets are subscribed in the same step). Reads
   * only: joining a room writes nothing to Redis.
   */
  private async serveJoins(room: string, signal: StepSignal): Promise<void> {
    const batch = this.pendingJoins.get(room)?.joiners ?? [];
    this.pendingJoins.delete(room);
    const { epoch, offset } = await this.d.roomLog.position(room);
    const [snapshot, chat] = await Promise.all([this.d.delivery.snapshot(room), this.d.chat.recent(room)]);
    if (signal.abandoned) return; // its joiners were answered with UNAVAILABLE
    const frame = encodeServerFrame({
      t: "joined",
      room,
      epoch,
      offset,
      viewers: this.d.hub.localViewers(room),
      ...snapshot,
      chat,
    });
    this.d.delivery.servedUpTo(room, epoch, offset);
    for (const { ws, conn, ticket } of batch) {
      // Closed, left, or left and joined again (that join has its own batch) since it asked.
      if (conn.closed || conn.tickets.get(room) !== ticket) continue;
      this.d.delivery.enterRoom(ws, room);
      ws.cork(() => ws.send(frame));
    }
  }

  /**
   * Replayed in the room's delivery order (see serveJoins): what was logged before the replay
   * read arrives in it; anything later arrives live after it, never before.
   */
  private replay(ws: WebSocket<Conn>, conn: Conn, frame: ResumeFrame, ticket: number): Promise<void> {
    const { room, epoch, offset } = frame;
    return this.d.delivery.inRoomOrder(room, "resume", async (signal) => {
      const replayed = await this.d.roomLog.since(room, epoch, offset);
      const frames: ServerFrame[] = [];
      if (replayed.kind === "resync") {
        frames.push({
          t: "resync",
          room,
          epoch: replayed.epoch,
          offset: replayed.offset,
          ...(await this.d.delivery.snapshot(room)),
        });
      } else {
        for (const m of replayed.messages) {
          const f = await this.d.delivery.frame(room, m);
          if (f) frames.push(f);
        }
      }
      if (signal.abandoned || conn.closed || conn.tickets.get(room) !== ticket) return;
      this.d.delivery.enterRoom(ws, room);
      for (const f of frames) this.d.send(ws, f);
      if (replayed.kind === "events")
        this.d.send(ws, { t: "resumed", room, epoch: replayed.epoch, offset: replayed.last });
    });
  }
}
