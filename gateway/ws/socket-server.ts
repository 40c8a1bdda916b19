import type { TemplatedApp, WebSocket } from "uWebSockets.js";
import { randomUUID } from "node:crypto";
import type { Claims } from "../../auth/index.ts";
import { RateLimiter, withDeadline } from "../../core/index.ts";
import { type OrderUpdate, userOrderChannel } from "../../orders/index.ts";
import {
  type ClientFrame,
  CloseCode,
  decodeClientFrame,
  encodeServerFrame,
  PROTOCOL_VERSION,
  type ServerFrame,
  WIRE_LIMITS,
  WireErrorCode,
} from "../../protocol/index.ts";
import type { DropStatus } from "../../sale-engine/index.ts";
import { RoomHub } from "../rooms/hub.ts";
import { RoomLog, type RoomMessage } from "../rooms/room-log.ts";
import { ViewerCounts } from "../rooms/viewer-counts.ts";
import * as actions from "./actions.ts";
import { BoundedMap } from "./bounded-map.ts";
import { type ChatEvent, RoomChat } from "./chat.ts";
import { ChatBatcher } from "./chat-batcher.ts";
import { errorFor, refusal } from "./frame-rules.ts";
import { frameOf, isDropLevel, wireError } from "./frames.ts";
import { RoomBroadcaster } from "./room-broadcaster.ts";
import { RoomCaps } from "./room-caps.ts";
import { RoomOrder, type StepKind, type StepSignal } from "./room-order.ts";
import { buyerHint, RoomPacer } from "./room-pacer.ts";
import { SlowJoinLog } from "./slow-join-log.ts";
import { roomSnapshot } from "./snapshot.ts";
import { type Conn, SOCKET_DEFAULTS, type SocketServerOptions } from "./socket-options.ts";

export { type Conn, SOCKET_DEFAULTS, type SocketServerOptions } from "./socket-options.ts";

/** Bytes a socket may have queued before it is closed with TOO_SLOW rather than skipped. */
const SLOW_SOCKET_BYTES = 1024 * 1024;
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
/** Rate-limit refusals after which the connection is closed. */
const MAX_VIOLATIONS = 50;

/**
 * The WebSocket endpoint `/ws?token=…`: rooms (join, leave, resume), clock ping, and buy with an
 * ack in the same round trip. Room events reach every local socket through one uWS topic per
 * room, written in small bursts (RoomBroadcaster). A socket whose queue passes SLOW_SOCKET_BYTES is
 * closed with TOO_SLOW instead of being skipped, so a slow client never silently misses a state
 * event: it reconnects and resumes.
 */
export class SocketServer {
  readonly hub: RoomHub;
  readonly roomLog: RoomLog;
  readonly viewers: ViewerCounts;
  private readonly sockets = new Set<WebSocket<Conn>>();
  private readonly limiters = new WeakMap<Conn, RateLimiter>();
  /** A closed uWS socket throws on any access, its user data too: keep our own handle. */
  private readonly conns = new WeakMap<WebSocket<Conn>, Conn>();
  private readonly order: RoomOrder;
  /** Sockets whose join waits for the room's next join step, with their membership tickets. */
  private readonly pendingJoins = new Map<
    string,
    { joiners: { ws: WebSocket<Conn>; conn: Conn; ticket: number }[]; served: Promise<void> }
  >();
  private readonly caps: RoomCaps;
  private readonly limits: Required<Pick<SocketServerOptions, keyof typeof SOCKET_DEFAULTS>>;
  /**
   * Product, window and limits per drop for drop frames (the event carries state and counts):
   * fetched once, so a burst of drop events costs no Redis round trip each.
   */
  private readonly dropDetails = new BoundedMap<string, DropStatus>(10_000);
  /** Local sockets per room, for the per-socket chat delivery. */
  private readonly roomSockets = new Map<string, Set<WebSocket<Conn>>>();
  private readonly chat: RoomChat;
  private readonly actions: actions.ActionDeps;
  private readonly chatBatcher = new ChatBatcher((room) => this.roomSockets.get(room) ?? []);
  // Paced frames go out through the room's order too, so nothing overtakes them.
  private readonly broadcaster = new RoomBroadcaster(
    (room, payload) => this.app.publish(this.topic(room), payload),
    (room, bytes) => this.closeSlowSockets(room, bytes),
  );
  private readonly slowJoins: SlowJoinLog;
  /** Bytes published to each room since its sockets were last scanned for slow ones. */
  private readonly unscannedBytes = new Map<string, number>();
  private readonly pacer = new RoomPacer((room, frame) => {
    this.inRoomOrder(room, "publish", async () => this.publish(room, frame)).catch(() => undefined);
  });

  private readonly topic: (room: string) => string;
  private readonly userTopic: (userId: string) => string;

  constructor(
    private readonly app: TemplatedApp,
    private readonly o: SocketServerOptions,
  ) {
    const ns = o.topicPrefix ?? "";
    this.topic = (room) => `${ns}room:${room}`;
    this.userTopic = (userId) => `${ns}user:${userId}`;
    const limits = { ...SOCKET_DEFAULTS };
    for (const name of Object.keys(SOCKET_DEFAULTS) as (keyof typeof SOCKET_DEFAULTS)[]) {
      const value = o[name];
      if (value !== undefined) (limits as Record<string, number>)[name] = value;
    }
    this.limits = limits;
    this.caps = new RoomCaps(limits.maxRoomsPerSocket, limits.maxRoomsPerUser);
    this.slowJoins = new SlowJoinLog(o.log);
    this.order = new RoomOrder(limits.roomStepTimeoutMs, (room, kind) => {
      o.metrics.roomStepTimeouts.inc({ kind });
      o.log.warn({ room, kind, timeoutMs: limits.roomStepTimeoutMs }, "room step abandoned");
    });
    this.roomLog = new RoomLog(o.redis, o.keyPrefix, limits.roomIdleTtlS);
    this.chat = new RoomChat(o.redis, o.keyPrefix, this.roomLog, limits.roomIdleTtlS, {
      rate: limits.chatRate,
      burst: limits.chatBurst,
    });
    this.actions = {
      engine: o.engine,
      checkout: o.checkout,
      chat: this.chat,
      countBuy: o.countBuy,
      within: (work, what) => withDeadline(work, limits.dependencyTimeoutMs, what),
    };
    this.hub = new RoomHub(
      o.subscriber,
      o.engine,
      this.roomLog,
      (room, m) => this.deliver(room, m),
      o.log,
      (userId) => userOrderChannel(o.keyPrefix, userId),
      (userId, payload) => this.deliverOrder(userId, payload),
    );
    this.viewers = new ViewerCounts(
      o.redis,
      o.keyPrefix,
      () => this.hub.localCounts(),
      (room, count) =>
        this.inRoomOrder(room, "publish", async () =>
          this.publish(room, { t: "viewers", room, count }),
        ).catch(() => undefined),
      o.log,
    );
  }

  /** Closes every socket with SERVER_SHUTDOWN: clients reconnect elsewhere and resume. */
  shutdown(): void {
    for (const ws of this.sockets) {
      if (!this.conns.get(ws)?.closed) ws.end(CloseCode.SERVER_SHUTDOWN, "server shutting down");
    }
    this.hub.close();
    this.broadcaster.close();
    this.pacer.close();
    this.viewers.close();
    this.chatBatcher.close();
  }

  /** The state of a new connection, attached at upgrade. */
  static newConn(claims: Claims, ip: string): Conn {
    return {
      connId: randomUUID(),
      ip,
      claims,
      rooms: new Set(),
      tickets: new Map(),
      closed: false,
      violations: 0,
    };
  }

  open(ws: WebSocket<Conn>): void {
    const conn = ws.getUserData();
    this.conns.set(ws, conn);
    this.sockets.add(ws);
    this.limiters.set(conn, new RateLimiter(this.limits.frameRate, this.limits.frameBurst));
    this.o.metrics.connections.inc();
    // Order and payment updates of this user follow on the same socket.
    ws.subscribe(this.userTopic(conn.claims.userId));
    this.hub
      .enterUser(conn.claims.userId)
      .catch((err: unknown) => this.o.log.warn({ err: (err as Error).message }, "order updates unavailable"));
    this.send(ws, {
      t: "welcome",
      v: PROTOCOL_VERSION,
      serverTime: Date.now(),
      connId: conn.connId,
      userId: conn.claims.userId,
      role: conn.claims.role,
    });
  }

  close(ws: WebSocket<Conn>): void {
    const conn = ws.getUserData();
    conn.closed = true;
    this.sockets.delete(ws);
    this.o.metrics.connections.dec();
    this.hub.leaveUser(conn.claims.userId).catch(() => undefined);
    for (const room of [...conn.rooms]) this.removeMember(ws, conn, room);
  }

  message(ws: WebSocket<Conn>, message: ArrayBuffer): void {
    const conn = ws.getUserData();
    if (!this.limiters.get(conn)?.take("frames")) {
      conn.violations += 1;
      if (conn.violations > MAX_VIOLATIONS) ws.end(CloseCode.RATE_LIMITED, "too many frames");
      else
        this.send(ws, {
          t: "error",
          code: WireErrorCode.RATE_LIMITED,
          message: `more than ${this.limits.frameRate} frames a second`,
        });
      return;
    }
    // Decoded before returning: the ArrayBuffer is only valid during this callback.
    const decoded = decodeClientFrame(message, WIRE_LIMITS.maxFrameBytes);
    if (!decoded.ok) {
      this.send(ws, {
        t: "error",
        code: decoded.code,
        message: decoded.message,
        ...(decoded.reqId ? { reqId: decoded.reqId } : {}),
      });
      return;
    }
    this.handle(ws, conn, decoded.frame).catch((err: unknown) => {
      const e = wireError(err);
      if (e.code === WireErrorCode.INTERNAL) this.o.log.error({ err }, "websocket frame failed");
      this.send(ws, { t: "error", code: e.code, message: e.message });
    });
  }

  private async handle(ws: WebSocket<Conn>, conn: Conn, frame: ClientFrame): Promise<void> {
    // Who may send what: one table (frame-rules.ts), judged before any handler.
    const refused = refusal(frame, conn.claims, {
      serving: this.o.serving?.() ?? true,
      joined: (room) => conn.rooms.has(room),
    });
    if (refused) return this.send(ws, refused);
    switch (frame.t) {
      case "ping":
        this.send(ws, {
          t: "pong",
          reqId: frame.reqId,
          clientTime: frame.clientTime,
          serverTime: Date.now(),
        });
        return;
      case "join":
        return this.join(ws, conn, frame);
      case "leave":
        this.removeMember(ws, conn, frame.room);
        return;
      case "resume":
        return this.resume(ws, conn, frame);
      case "buy":
        return this.answer(ws, await actions.buy(this.actions, conn.claims, frame));
      case "pay":
        return this.answer(ws, await actions.pay(this.actions, conn.claims, frame));
      case "host":
        return this.answer(ws, await actions.host(this.actions, conn.claims, frame));
      case "chat":
        return this.answer(ws, await actions.chat(this.actions, conn.claims, frame));
      case "moderation":
        return this.answer(ws, await actions.moderate(this.actions, conn.claims, frame));
    }
  }

  private answer(ws: WebSocket<Conn>, frame: ServerFrame | undefined): void {
    if (frame) this.send(ws, frame);
  }

  private enterRoom(ws: WebSocket<Conn>, room: string): void {
    // What was queued before this socket's snapshot or replay must not reach it afterwards.
    this.broadcaster.flush(room);
    ws.subscribe(this.topic(room));
    const set = this.roomSockets.get(room) ?? new Set();
    set.add(ws);
    this.roomSockets.set(room, set);
  }

  /** An order update from the order pipeline, to every local socket of its buyer. */
  private deliverOrder(userId: string, payload: string): void {
    try {
      const u = JSON.parse(payload) as OrderUpdate;
      this.app.publish(
        this.userTopic(userId),
        encodeServerFrame({
          t: "order",
          reservationId: u.reservationId,
          status: u.status,
          dropId: u.dropId,
          totalMinor: u.totalMinor,
          currency: u.currency,
        }),
      );
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, "bad order update");
    }
  }

  /** Adds `room` to the connection's rooms within the caps, or answers TOO_MANY_ROOMS. */
  private addMember(ws: WebSocket<Conn>, conn: Conn, room: string): number | undefined {
    const added = this.caps.add(conn, room);
    if ("ticket" in added) return added.ticket;
    this.send(ws, { t: "error", code: WireErrorCode.TOO_MANY_ROOMS, message: added.refused, room });
    return undefined;
  }

  /** Ends a membership (leave, close, failed join): the room's hub count and topic follow. */
  private removeMember(ws: WebSocket<Conn>, conn: Conn, room: string): void {
    if (!this.caps.remove(conn, room)) return;
    if (!conn.closed) ws.unsubscribe(this.topic(room));
    const set = this.roomSockets.get(room);
    set?.delete(ws);
    if (set?.size === 0) this.roomSockets.delete(room);
    this.hub
      .leave(room)
      .catch((err: unknown) => this.o.log.warn({ err: (err as Error).message, room }, "leave failed"));
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
    frame: Extract<ClientFrame, { t: "join" | "resume" }>,
    work: (ticket: number, subscribedAt: number) => Promise<void>,
  ): Promise<void> {
    const room = frame.room;
    const ticket = this.addMember(ws, conn, room);
    if (ticket === undefined) return;
    const kind: StepKind = frame.t;
    try {
      const entered = (async () => {
        await this.hub.enter(room);
        await work(ticket, Date.now());
      })();
      await withDeadline(entered, this.limits.roomStepTimeoutMs, `${kind} of room ${room}`);
    } catch (err) {
      if (conn.tickets.get(room) !== ticket) return; // left or rejoined meanwhile
      this.removeMember(ws, conn, room);
      const e = wireError(err);
      if (e.code === WireErrorCode.INTERNAL)
        this.o.log.warn({ err: (err as Error).message, room }, `${kind} failed`);
      this.o.metrics.joinFailures.inc({ kind });
      this.send(ws, errorFor(frame, WireErrorCode.UNAVAILABLE, `could not ${kind} ${room} now: retry`));
    }
  }

  private async join(ws: WebSocket<Conn>, conn: Conn, frame: Extract<ClientFrame, { t: "join" }>) {
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
        served = this.inRoomOrder(room, "join", (signal) => this.serveJoins(room, signal));
        this.pendingJoins.set(room, { joiners: [{ ws, conn, ticket }], served });
      }
      await served;
      this.slowJoins.note(room, startedAt, subscribedAt);
    });
  }

  /**
   * Runs in the room's delivery order: no live event can overtake the snapshot, and every event
   * after the snapshot's offset arrives live (the sockets are subscribed in the same step). Reads
   * only: joining a room writes nothing to Redis.
   */
  private async serveJoins(room: string, signal: StepSignal): Promise<void> {
    const batch = this.pendingJoins.get(room)?.joiners ?? [];
    this.pendingJoins.delete(room);
    const { epoch, offset } = await this.roomLog.position(room);
    const [snapshot, chat] = await Promise.all([this.snapshot(room), this.chat.recent(room)]);
    if (signal.abandoned) return; // its joiners were answered with UNAVAILABLE
    const frame = encodeServerFrame({
      t: "joined",
      room,
      epoch,
      offset,
      viewers: this.hub.localViewers(room),
      ...snapshot,
      chat,
    });
    for (const { ws, conn, ticket } of batch) {
      // Closed, left, or left and joined again (that join has its own batch) since it asked.
      if (conn.closed || conn.tickets.get(room) !== ticket) continue;
      this.enterRoom(ws, room);
      ws.cork(() => ws.send(frame));
    }
  }

  private async resume(ws: WebSocket<Conn>, conn: Conn, frame: Extract<ClientFrame, { t: "resume" }>) {
    const { room, epoch, offset } = frame;
    // Replayed in the room's delivery order (see join): what was logged before the replay read
    // arrives in it; anything later arrives live after it, never before.
    const replay = (ticket: number) =>
      this.inRoomOrder(room, "resume", async (signal) => {
        const replayed = await this.roomLog.since(room, epoch, offset);
        const frames: ServerFrame[] = [];
        if (replayed.kind === "resync") {
          frames.push({
            t: "resync",
            room,
            epoch: replayed.epoch,
            offset: replayed.offset,
            ...(await this.snapshot(room)),
          });
        } else {
          for (const m of replayed.messages) {
            const f = await this.frame(room, m);
            if (f) frames.push(f);
          }
        }
        if (signal.abandoned || conn.closed || conn.tickets.get(room) !== ticket) return;
        this.enterRoom(ws, room);
        for (const f of frames) this.send(ws, f);
        if (replayed.kind === "events") {
          this.send(ws, {
            t: "resumed",
            room,
            epoch: replayed.epoch,
            offset: replayed.messages.at(-1)?.o ?? offset,
          });
        }
      });
    const ticket = conn.tickets.get(room);
    if (ticket !== undefined) {
      // Already in the room: only the replay, with the same deadline.
      try {
        await withDeadline(replay(ticket), this.limits.roomStepTimeoutMs, `resume of room ${room}`);
      } catch {
        this.send(ws, errorFor(frame, WireErrorCode.UNAVAILABLE, `could not resume ${room} now: retry`));
      }
      return;
    }
    await this.enterWithin(ws, conn, frame, (t) => replay(t));
  }

  private snapshot(room: string) {
    return roomSnapshot(this.o.engine, room, this.limits.snapshotMaxDrops);
  }

  private async frame(room: string, m: RoomMessage): Promise<ServerFrame | undefined> {
    const ev = m.ev as { type?: string; drop?: string; starts?: number };
    let status: DropStatus | undefined;
    if (ev?.drop && isDropLevel(ev as Parameters<typeof isDropLevel>[0])) {
      status = this.dropDetails.get(ev.drop) ?? (await this.o.engine.status(ev.drop));
      // A launch moves the start; nothing else a drop frame takes from the status ever changes.
      if (typeof ev.starts === "number") status = { ...status, startsAt: ev.starts };
      this.dropDetails.set(ev.drop, status);
    }
    return frameOf(room, m, status);
  }

  /** Room messages go out in log order, per room, to every local socket in the room. */
  private deliver(room: string, m: RoomMessage): void {
    this.inRoomOrder(room, "deliver", async (signal) => {
      const chatEvent = m.ev as Partial<ChatEvent>;
      if (chatEvent.type === "chat.message" && chatEvent.message)
        return this.chatBatcher.add(room, chatEvent.message);
      if (chatEvent.type === "chat.moderation" && chatEvent.action) {
        return this.publish(room, {
          t: "moderation",
          room,
          action: chatEvent.action,
          by: chatEvent.by ?? "",
          at: chatEvent.at ?? Date.now(),
        });
      }
      const frame = await this.frame(room, m);
      // Abandoned past its deadline: later steps went on, so this one must not write any more.
      if (!frame || signal.abandoned) return;
      if (frame.t === "stock") {
        this.pacer.stock(frame);
        const ev = m.ev as { type?: string; qty?: number; user?: string };
        if (ev.type === "reservation.placed" && this.pacer.toastAllowed(room)) {
          this.publish(room, {
            t: "toast",
            room,
            dropId: frame.dropId,
            qty: ev.qty ?? 1,
            buyer: buyerHint(ev.user ?? ""),
          });
        }
        return;
      }
      if (frame.t === "drop") this.pacer.superseded(room, frame.drop.dropId);
      this.publish(room, frame);
    }).catch((err: unknown) => {
      this.o.log.warn({ err: (err as Error).message, room }, "room delivery failed");
      this.resumeEveryone(room);
    });
  }

  /**
   * A room event that could not be turned into its frame (Redis failed or was past the step
   * deadline) is not silently skipped: the room's local sockets are closed with TOO_SLOW, so each
   * reconnects and resumes from its last offset, and the replay brings the event from the log.
   */
  private resumeEveryone(room: string): void {
    for (const ws of this.roomSockets.get(room) ?? []) {
      const conn = this.conns.get(ws);
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
      const conn = this.conns.get(ws);
      if (!conn || conn.closed || ws.getBufferedAmount() <= SLOW_SOCKET_BYTES) continue;
      conn.closed = true;
      this.o.metrics.slowClosed.inc();
      ws.end(CloseCode.TOO_SLOW, "too slow: resume from your last offset");
    }
  }

  /** Runs `step` after every earlier step of the room: deliveries, joins and resumes in one order. */
  private inRoomOrder(room: string, kind: StepKind, step: (signal: StepSignal) => Promise<void>) {
    return this.order.run(room, kind, step);
  }

  /** Sends to one socket, corked (async callers), unless it closed meanwhile. */
  private send(ws: WebSocket<Conn>, frame: ServerFrame): void {
    const conn = this.conns.get(ws);
    if (!conn || conn.closed) return;
    ws.cork(() => {
      ws.send(encodeServerFrame(frame));
    });
  }
}
