import type { TemplatedApp, WebSocket } from "uWebSockets.js";
import { randomUUID } from "node:crypto";
import type { Claims } from "../../auth/index.ts";
import { RateLimiter } from "../../core/index.ts";
import { userOrderChannel } from "../../orders/index.ts";
import {
  type ClientFrame,
  CloseCode,
  decodeClientFrame,
  decodeOrderUpdate,
  encodeServerFrame,
  PROTOCOL_VERSION,
  type ServerFrame,
  WIRE_LIMITS,
  WireErrorCode,
} from "../../protocol/index.ts";
import { endSpan, SpanAttr, SpanKind, startSpan } from "../../telemetry/index.ts";
import { registerCouponRoomLog } from "../commands/index.ts";
import { RoomHub } from "../rooms/hub.ts";
import { RoomAppender } from "../rooms/room-appender.ts";
import { RoomDelay } from "../rooms/room-delay.ts";
import { RoomLog } from "../rooms/room-log.ts";
import { ViewerCounts } from "../rooms/viewer-counts.ts";
import { RoomChat } from "./chat.ts";
import { answerCommandFrame, type CommandFramesDeps, isCommandFrame } from "./command-frames.ts";
import { errorFor, refusal } from "./frame-rules.ts";
import { wireError } from "./frames.ts";
import { RoomCaps } from "./room-caps.ts";
import { RoomDelivery } from "./room-delivery.ts";
import { RoomEntry } from "./room-entry.ts";
import { SlowJoinLog } from "./slow-join-log.ts";
import { type Conn, SOCKET_DEFAULTS, type SocketServerOptions } from "./socket-options.ts";

export { MAX_BACKPRESSURE } from "./room-delivery.ts";
export { type Conn, SOCKET_DEFAULTS, type SocketServerOptions } from "./socket-options.ts";

/** Rate-limit refusals after which the connection is closed. */
const MAX_VIOLATIONS = 50;

/**
 * The WebSocket endpoint `/ws?token=…`: connection lifecycle, frame decoding and dispatch (rooms,
 * clock ping, buy with an ack in the same round trip, pay, host, chat, moderation). What rooms
 * do lives in their own units: membership, joins and resumes (RoomEntry), what a room's sockets
 * receive and in which order (RoomDelivery), the room channel subscriptions (RoomHub), and the
 * lane's one writer of drop events into the room logs (RoomAppender).
 */
export class SocketServer {
  readonly hub: RoomHub;
  readonly roomLog: RoomLog;
  readonly viewers: ViewerCounts;
  /** The playback delays this node's sockets report per room (what a fair window "auto" takes). */
  readonly delay: RoomDelay;
  /** Logs the lane's drop events into the room logs while this node holds the lane's lease. */
  readonly appender: RoomAppender;
  private readonly sockets = new Set<WebSocket<Conn>>();
  private readonly limiters = new WeakMap<Conn, RateLimiter>();
  /** A closed uWS socket throws on any access, its user data too: keep our own handle. */
  private readonly conns = new WeakMap<WebSocket<Conn>, Conn>();
  private readonly limits: Required<Pick<SocketServerOptions, keyof typeof SOCKET_DEFAULTS>>;
  private readonly chat: RoomChat;
  private readonly commands: CommandFramesDeps;
  private readonly delivery: RoomDelivery;
  private readonly rooms: RoomEntry;
  private readonly userTopic: (userId: string) => string;

  constructor(
    private readonly app: TemplatedApp,
    private readonly o: SocketServerOptions,
  ) {
    const ns = o.topicPrefix ?? "";
    this.userTopic = (userId) => `${ns}user:${userId}`;
    const limits = { ...SOCKET_DEFAULTS };
    for (const name of Object.keys(SOCKET_DEFAULTS) as (keyof typeof SOCKET_DEFAULTS)[]) {
      const value = o[name];
      if (value !== undefined) (limits as Record<string, number>)[name] = value;
    }
    this.limits = limits;
    this.roomLog = new RoomLog(o.redis, o.keyPrefix, limits.roomIdleTtlS);
    // Coupon pins reach the room's sockets through this log, from HTTP as from WebSocket.
    registerCouponRoomLog(o.engine, this.roomLog);
    this.chat = new RoomChat(o.redis, o.keyPrefix, this.roomLog, limits.roomIdleTtlS, {
      rate: limits.chatRate,
      burst: limits.chatBurst,
    });
    this.commands = {
      lane: { engine: o.engine, checkout: o.checkout, countBuy: o.countBuy },
      chat: this.chat,
      serving: () => o.serving?.() ?? true,
      dependencyTimeoutMs: limits.dependencyTimeoutMs,
      log: o.log,
    };
    this.delivery = new RoomDelivery({
      app,
      topic: (room) => `${ns}room:${room}`,
      engine: o.engine,
      roomLog: this.roomLog,
      hub: () => this.hub,
      connOf: (ws) => this.conns.get(ws),
      toUser: (userId, frame) => app.publish(this.userTopic(userId), encodeServerFrame(frame)),
      metrics: o.metrics,
      log: o.log,
      roomStepTimeoutMs: limits.roomStepTimeoutMs,
      snapshotMaxDrops: limits.snapshotMaxDrops,
    });
    this.hub = new RoomHub(
      o.subscriber,
      this.roomLog,
      (room, m) => this.delivery.deliver(room, m),
      o.log,
      (userId) => userOrderChannel(o.keyPrefix, userId),
      (userId, payload) => this.deliverOrder(userId, payload),
      (room) => this.delivery.recheck(room),
    );
    this.rooms = new RoomEntry({
      delivery: this.delivery,
      hub: this.hub,
      roomLog: this.roomLog,
      chat: this.chat,
      caps: new RoomCaps(limits.maxRoomsPerSocket, limits.maxRoomsPerUser),
      slowJoins: new SlowJoinLog(o.log),
      metrics: o.metrics,
      log: o.log,
      roomStepTimeoutMs: limits.roomStepTimeoutMs,
      send: (ws, frame) => this.send(ws, frame),
    });
    this.appender = new RoomAppender(o.redis, o.subscriber, o.engine, this.roomLog, o.keyPrefix, o.log, {
      scanMs: limits.roomAppendScanMs,
      leaseMs: limits.roomAppendLeaseMs,
      readBatch: limits.roomAppendReadBatch,
    });
    this.viewers = new ViewerCounts(
      o.redis,
      o.keyPrefix,
      () => this.hub.localCounts(),
      (room, count) => this.delivery.publishInOrder(room, { t: "viewers", room, count }),
      o.log,
      () => this.delivery.usersByRoom(),
    );
    this.delay = new RoomDelay(
      o.engine,
      {
        syncMs: limits.delaySyncMs,
        bucketMs: limits.delayBucketMs,
        marginMs: limits.fairMarginMs,
        stepMs: limits.fairWindowStepMs,
        defaultWindowMs: limits.fairDefaultWindowMs,
      },
      o.log,
    );
  }

  /** Closes every socket with SERVER_SHUTDOWN: clients reconnect elsewhere and resume. */
  shutdown(): void {
    for (const ws of this.sockets) {
      if (!this.conns.get(ws)?.closed) ws.end(CloseCode.SERVER_SHUTDOWN, "server shutting down");
    }
    this.hub.close();
    this.delivery.close();
    this.viewers.close();
    this.delay.close();
    // The lease is given up, so another node's appender takes over at its next scan.
    this.appender
      .close()
      .catch((err: unknown) =>
        this.o.log.warn({ err: (err as Error).message }, "room appender close failed"),
      );
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
    // A switched-off lane serves only ping and leave (frame-rules.ts); a command's own rule
    // (role, room, presence) judges its sender (command-frames.ts).
    const refused = refusal(frame, this.o.serving?.() ?? true);
    if (refused) return this.send(ws, refused);
    if (isCommandFrame(frame))
      return this.answer(
        ws,
        await answerCommandFrame(this.commands, frame, conn.claims, (r) => conn.rooms.has(r)),
      );
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
      case "delay":
        // Only a member counts in a room's distribution: anyone else could skew its fair window.
        if (!conn.rooms.has(frame.room))
          return this.send(ws, errorFor(frame, WireErrorCode.NOT_IN_ROOM, `join ${frame.room} first`));
        this.delay.report(conn.connId, frame.room, frame.ms, frame.source);
        return;
    }
  }

  private answer(ws: WebSocket<Conn>, frame: ServerFrame | undefined): void {
    if (frame) this.send(ws, frame);
  }

  private join(ws: WebSocket<Conn>, conn: Conn, frame: Extract<ClientFrame, { t: "join" }>): Promise<void> {
    return this.rooms.join(ws, conn, frame);
  }

  private resume(
    ws: WebSocket<Conn>,
    conn: Conn,
    frame: Extract<ClientFrame, { t: "resume" }>,
  ): Promise<void> {
    return this.rooms.resume(ws, conn, frame);
  }

  /** Ends a membership (leave, close, failed join). */
  private removeMember(ws: WebSocket<Conn>, conn: Conn, room: string): void {
    this.delay.leave(conn.connId, room);
    this.rooms.leave(ws, conn, room);
  }

  /** An order update from the order pipeline, to every local socket of its buyer. */
  private deliverOrder(userId: string, payload: string): void {
    const decoded = decodeOrderUpdate(payload);
    if (!decoded.ok) {
      this.o.log.warn({ err: decoded.error }, "bad order update");
      return;
    }
    const u = decoded.value;
    // Tracing on: the last span of the buy's trace, child of the pipeline's publish.
    const span = u.trace === undefined ? undefined : startSpan("order.frame", SpanKind.CONSUMER, u.trace);
    span?.setAttributes({
      [SpanAttr.drop]: u.dropId,
      [SpanAttr.room]: u.roomId,
      [SpanAttr.reservation]: u.reservationId,
    });
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
    endSpan(span, "sent");
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
