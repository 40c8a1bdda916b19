import type { TemplatedApp, WebSocket } from "uWebSockets.js";
import { randomUUID } from "node:crypto";
import type { Logger, RedisClient } from "../../core/index.ts";
import { RateLimiter } from "../../core/index.ts";
import { type Checkout, type OrderUpdate, userOrderChannel } from "../../orders/index.ts";
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
import type { DropStatus, SaleEngine } from "../../sale-engine/index.ts";
import type { Claims, TokenService } from "../auth/index.ts";
import type { GatewayMetrics } from "../metrics.ts";
import { RoomHub } from "../rooms/hub.ts";
import { RoomLog, type RoomMessage } from "../rooms/room-log.ts";
import { ViewerCounts } from "../rooms/viewer-counts.ts";
import * as actions from "./actions.ts";
import { BoundedMap } from "./bounded-map.ts";
import { type ChatEvent, RoomChat } from "./chat.ts";
import { ChatBatcher } from "./chat-batcher.ts";
import { dropSnapshot, frameOf, isDropLevel, wireError } from "./frames.ts";
import { RoomBroadcaster } from "./room-broadcaster.ts";
import { buyerHint, RoomPacer } from "./room-pacer.ts";

export interface Conn {
  readonly connId: string;
  readonly ip: string;
  readonly claims: Claims;
  readonly rooms: Set<string>;
  closed: boolean;
  violations: number;
}

export interface SocketServerOptions {
  readonly engine: SaleEngine;
  readonly checkout: Checkout;
  readonly tokens: TokenService;
  /** Commands (room log). */
  readonly redis: RedisClient;
  /** A dedicated connection for sharded pub/sub subscriptions. */
  readonly subscriber: RedisClient;
  readonly keyPrefix: string;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  /** Namespace of this lane's uWS topics (topics are per process, shared by every lane). */
  readonly topicPrefix?: string;
  /** Counts buy clicks for the ops funnel; the shadow lane has none. */
  readonly countBuy?: (dropId: string) => void;
  /** Whether this lane serves frames now (the shadow lane's kill switch). Default: always. */
  readonly serving?: () => boolean;
}

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
/** A join answered later than this is logged, with the time spent subscribing and in the batch. */
const SLOW_JOIN_MS = 2_000;
const SLOW_JOIN_LOG_EVERY_MS = 5_000;
/** Frames per second per connection, and the burst after a quiet spell. */
const FRAMES_PER_SECOND = 20;
const FRAME_BURST = 40;
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
  private readonly delivery = new Map<string, Promise<void>>();
  /** Sockets whose join waits for the room's next join step. */
  private readonly pendingJoins = new Map<string, { sockets: WebSocket<Conn>[]; served: Promise<void> }>();
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
  private slowJoins = { count: 0, loggedAt: 0 };
  /** Bytes published to each room since its sockets were last scanned for slow ones. */
  private readonly unscannedBytes = new Map<string, number>();
  private readonly pacer = new RoomPacer((room, frame) => {
    this.inRoomOrder(room, async () => this.publish(room, frame)).catch(() => undefined);
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
    this.roomLog = new RoomLog(o.redis, o.keyPrefix);
    this.chat = new RoomChat(o.redis, o.keyPrefix, this.roomLog);
    this.actions = { engine: o.engine, checkout: o.checkout, chat: this.chat, countBuy: o.countBuy };
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
        this.inRoomOrder(room, async () => this.publish(room, { t: "viewers", room, count })).catch(
          () => undefined,
        ),
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
    return { connId: randomUUID(), ip, claims, rooms: new Set(), closed: false, violations: 0 };
  }

  open(ws: WebSocket<Conn>): void {
    const conn = ws.getUserData();
    this.conns.set(ws, conn);
    this.sockets.add(ws);
    this.limiters.set(conn, new RateLimiter(FRAMES_PER_SECOND, FRAME_BURST));
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
    for (const room of conn.rooms) this.roomSockets.get(room)?.delete(ws);
    for (const room of conn.rooms)
      this.hub
        .leave(room)
        .catch((err: unknown) => this.o.log.warn({ err: (err as Error).message }, "leave failed"));
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
          message: `more than ${FRAMES_PER_SECOND} frames a second`,
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
    if (this.o.serving && !this.o.serving() && frame.t !== "ping" && frame.t !== "leave") {
      this.send(ws, {
        t: "error",
        code: WireErrorCode.SHADOW_DISABLED,
        message: "shadow (load-test) traffic is switched off",
        ...("reqId" in frame ? { reqId: frame.reqId } : {}),
      });
      return;
    }
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
        return this.join(ws, conn, frame.room);
      case "leave":
        if (conn.rooms.delete(frame.room)) {
          if (!conn.closed) ws.unsubscribe(this.topic(frame.room));
          this.roomSockets.get(frame.room)?.delete(ws);
          await this.hub.leave(frame.room);
        }
        return;
      case "resume":
        return this.resume(ws, conn, frame.room, frame.epoch, frame.offset);
      case "buy":
        return this.answer(ws, await actions.buy(this.actions, conn.claims, frame));
      case "pay":
        return this.answer(ws, await actions.pay(this.actions, conn.claims, frame));
      case "host":
        return this.answer(ws, await actions.host(this.actions, conn.claims, frame));
      case "chat":
        return this.answer(
          ws,
          await actions.chat(this.actions, conn.claims, conn.rooms.has(frame.room), frame),
        );
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

  private async join(ws: WebSocket<Conn>, conn: Conn, room: string): Promise<void> {
    if (conn.rooms.has(room)) return;
    conn.rooms.add(room);
    const startedAt = Date.now();
    await this.hub.enter(room);
    const subscribedAt = Date.now();
    // Joins waiting for the room are served together: one read of the log position, the drops
    // and the recent chat for all of them, so a join storm (a drop announced on air) costs a few
    // Redis round trips per batch instead of per viewer, and live events are not held up.
    const waiting = this.pendingJoins.get(room);
    let served: Promise<void>;
    if (waiting) {
      waiting.sockets.push(ws);
      served = waiting.served;
    } else {
      served = this.inRoomOrder(room, () => this.serveJoins(room));
      this.pendingJoins.set(room, { sockets: [ws], served });
    }
    await served;
    // A join is a viewer staring at a spinner: a slow one is worth a line, with where it waited
    // (at most one line per SLOW_JOIN_LOG_EVERY_MS, counting the others, so a storm is no flood).
    const totalMs = Date.now() - startedAt;
    if (totalMs < SLOW_JOIN_MS) return;
    this.slowJoins.count++;
    if (Date.now() - this.slowJoins.loggedAt < SLOW_JOIN_LOG_EVERY_MS) return;
    this.o.log.warn(
      {
        room,
        totalMs,
        subscribeMs: subscribedAt - startedAt,
        servedAfterMs: Date.now() - subscribedAt,
        slowJoinsSinceLastLine: this.slowJoins.count,
      },
      "slow join",
    );
    this.slowJoins = { count: 0, loggedAt: Date.now() };
  }

  /**
   * Runs in the room's delivery order: no live event can overtake the snapshot, and every event
   * after the snapshot's offset arrives live (the sockets are subscribed in the same step).
   */
  private async serveJoins(room: string): Promise<void> {
    const batch = this.pendingJoins.get(room)?.sockets ?? [];
    this.pendingJoins.delete(room);
    const epoch = await this.roomLog.ensureEpoch(room);
    const { offset } = await this.roomLog.position(room);
    const [drops, chat] = await Promise.all([this.snapshots(room), this.chat.recent(room)]);
    const frame = encodeServerFrame({
      t: "joined",
      room,
      epoch,
      offset,
      viewers: this.hub.localViewers(room),
      drops,
      chat,
    });
    for (const ws of batch) {
      if (this.conns.get(ws)?.closed !== false) continue;
      this.enterRoom(ws, room);
      ws.cork(() => ws.send(frame));
    }
  }

  private async resume(
    ws: WebSocket<Conn>,
    conn: Conn,
    room: string,
    epoch: string,
    offset: string,
  ): Promise<void> {
    if (!conn.rooms.has(room)) {
      conn.rooms.add(room);
      await this.hub.enter(room);
    }
    // Replayed in the room's delivery order (see join): what was logged before the replay read
    // arrives in it; anything later arrives live after it, never before.
    await this.inRoomOrder(room, async () => {
      const replay = await this.roomLog.since(room, epoch, offset);
      const frames: ServerFrame[] = [];
      if (replay.kind === "resync") {
        frames.push({
          t: "resync",
          room,
          epoch: replay.epoch || (await this.roomLog.ensureEpoch(room)),
          offset: replay.offset,
          drops: await this.snapshots(room),
        });
      } else {
        for (const m of replay.messages) {
          const frame = await this.frame(room, m);
          if (frame) frames.push(frame);
        }
      }
      if (this.conns.get(ws)?.closed !== false) return;
      this.enterRoom(ws, room);
      for (const frame of frames) this.send(ws, frame);
      if (replay.kind === "events") {
        this.send(ws, {
          t: "resumed",
          room,
          epoch: replay.epoch,
          offset: replay.messages.at(-1)?.o ?? offset,
        });
      }
    });
  }

  private async snapshots(room: string) {
    const ids = await this.o.engine.dropsInRoom(room);
    return (await Promise.all(ids.map((id) => this.o.engine.status(id)))).map(dropSnapshot);
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
    this.inRoomOrder(room, async () => {
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
      if (!frame) return;
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
    }).catch((err: unknown) =>
      this.o.log.warn({ err: (err as Error).message, room }, "room delivery failed"),
    );
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
  private inRoomOrder(room: string, step: () => Promise<void>): Promise<void> {
    const run = (this.delivery.get(room) ?? Promise.resolve()).then(step);
    this.delivery.set(
      room,
      run.catch(() => undefined),
    );
    return run;
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
