import {
  type ClientFrame,
  closeAction,
  decodeServerFrame,
  PROTOCOL_VERSION,
  type ServerFrame,
  type ServerFrameOf,
} from "../../../protocol/index.ts";
import { randomId } from "./ids.ts";
import { compareOffsets } from "./offsets.ts";
import type { ServerClock } from "./server-clock.ts";

export type ConnectionState = "connecting" | "open" | "reconnecting" | "stopped";

/** A frame that the server answers with an ack carrying the same reqId. */
type Requestable = Extract<
  ClientFrame,
  { t: "buy" | "pay" | "host" | "moderation" | "waitlist" | "bid" | "coupon" }
> & {
  reqId: string;
};
type RequestBody = Requestable extends infer F ? (F extends Requestable ? Omit<F, "reqId"> : never) : never;
export type Ack = ServerFrameOf<"ack">;

interface Pending {
  readonly frame: Requestable;
  readonly resolve: (ack: Ack) => void;
  readonly reject: (err: Error) => void;
  /** Safe to send again after a reconnect (carries an idempotency key). */
  readonly resend: boolean;
  readonly timer: ReturnType<typeof setTimeout>;
}

export interface ConnectionOptions {
  /** WebSocket endpoint, e.g. ws://host/ws. */
  readonly url: string;
  /** A token; `fresh` after the server refused the last one. */
  readonly token: (fresh: boolean) => Promise<string>;
  readonly clock: ServerClock;
  /** Rooms to join (and resume after every reconnect). */
  readonly rooms: readonly string[];
}

const REQUEST_TIMEOUT_MS = 15_000;
const MAX_BACKOFF_MS = 10_000;

/**
 * The page's one WebSocket to the gateway: joins its rooms, keeps the server clock in sync,
 * reconnects by close code (protocol/codes.ts) and resumes each room from its last offset, so
 * a flaky phone network misses no drop or stock event. Frames already seen (offset at or below
 * the last one) are dropped here; listeners get only fresh, schema-checked frames.
 */
export class LiveConnection {
  state: ConnectionState = "connecting";
  userId = "";
  role = "";
  private ws: WebSocket | undefined;
  private attempt = 0;
  private stopped = false;
  private freshToken = false;
  private readonly positions = new Map<string, { epoch: string; offset: string }>();
  /** Rooms to enter again after the server answered a join or resume with a retryable error. */
  private readonly enterTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly pending = new Map<string, Pending>();
  private readonly frameListeners = new Set<(f: ServerFrame) => void>();
  private readonly stateListeners = new Set<(s: ConnectionState) => void>();
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly o: ConnectionOptions) {}

  start(): void {
    this.open().catch(() => this.scheduleRetry("resume-after-backoff"));
    // A phone coming back online should not wait out a long backoff.
    addEventListener("online", this.retryNow);
  }

  stop(): void {
    this.stopped = true;
    removeEventListener("online", this.retryNow);
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    for (const t of this.enterTimers.values()) clearTimeout(t);
    this.ws?.close(1000, "page closed");
    this.setState("stopped");
  }

  onFrame(fn: (f: ServerFrame) => void): () => void {
    this.frameListeners.add(fn);
    return () => this.frameListeners.delete(fn);
  }

  onState(fn: (s: ConnectionState) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  /** Sends a frame now if the socket is open; false when it could not. */
  send(frame: ClientFrame): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /**
   * Sends a request and resolves with its ack (ok or refused). Frames with an idempotency key
   * (buy, pay, waitlist) are sent again after a reconnect: the server answers a repeat with the first
   * answer. Others reject when the connection drops before the ack.
   */
  request(body: RequestBody): Promise<Ack> {
    const reqId = randomId("r");
    const frame = { ...body, reqId } as Requestable;
    const resend = "idempotencyKey" in frame;
    return new Promise<Ack>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(reqId);
        reject(new Error("timeout"));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(reqId, { frame, resolve, reject, resend, timer });
      if (!this.send(frame) && !resend) {
        this.settle(reqId);
        reject(new Error("offline"));
      }
    });
  }

  private readonly retryNow = () => {
    if (this.state === "reconnecting") {
      clearTimeout(this.retryTimer);
      this.open().catch(() => this.scheduleRetry("resume-after-backoff"));
    }
  };

  private async open(): Promise<void> {
    if (this.stopped) return;
    const token = await this.o.token(this.freshToken);
    this.freshToken = false;
    const ws = new WebSocket(`${this.o.url}?token=${encodeURIComponent(token)}`);
    this.ws = ws;
    ws.onmessage = (ev) => {
      if (typeof ev.data === "string") this.receive(ev.data);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      clearInterval(this.pingTimer);
      this.ws = undefined;
      for (const [reqId, p] of this.pending) {
        if (p.resend) continue;
        this.settle(reqId);
        p.reject(new Error("disconnected"));
      }
      if (this.stopped) return;
      this.scheduleRetry(closeAction(ev.code));
    };
  }

  private scheduleRetry(action: ReturnType<typeof closeAction>): void {
    if (action === "stop") {
      this.stopped = true;
      this.setState("stopped");
      return;
    }
    if (action === "new-token") this.freshToken = true;
    this.setState("reconnecting");
    this.attempt += 1;
    // "resume": at once (a small jitter spreads a node's clients); otherwise exponential backoff.
    const base = action === "resume" ? 100 : Math.min(MAX_BACKOFF_MS, 500 * 2 ** (this.attempt - 1));
    const delay = base / 2 + Math.random() * (base / 2);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.open().catch(() => this.scheduleRetry("resume-after-backoff"));
    }, delay);
  }

  private receive(data: string): void {
    const decoded = decodeServerFrame(data);
    if (!decoded.ok) return; // a newer server's frame, or garbage: ignore it
    const frame = decoded.frame;
    switch (frame.t) {
      case "welcome":
        this.welcomed(frame);
        return;
      case "pong":
        this.o.clock.add({
          clientSend: frame.clientTime,
          serverTime: frame.serverTime,
          clientReceive: Date.now(),
        });
        return;
      case "ack": {
        const p = this.settle(frame.reqId);
        p?.resolve(frame);
        break;
      }
      case "joined":
      case "resync":
      case "resumed":
        this.positions.set(frame.room, { epoch: frame.epoch, offset: frame.offset });
        break;
      case "drop":
      case "stock":
      case "draw": {
        const pos = this.positions.get(frame.room);
        if (pos && pos.epoch === frame.e && compareOffsets(frame.o, pos.offset) <= 0) return; // stale
        this.positions.set(frame.room, { epoch: frame.e, offset: frame.o });
        break;
      }
      case "error":
        if (frame.reqId)
          this.settle(frame.reqId)?.reject(Object.assign(new Error(frame.message), { code: frame.code }));
        // A join or resume the server could not serve in time: ask again shortly.
        else if (frame.room && frame.retryable && this.o.rooms.includes(frame.room))
          this.enterLater(frame.room);
        break;
    }
    for (const fn of this.frameListeners) fn(frame);
  }

  private welcomed(frame: ServerFrameOf<"welcome">): void {
    if (frame.v !== PROTOCOL_VERSION) {
      // Built for another protocol: a reload fetches the client that matches the server.
      location.reload();
      return;
    }
    this.userId = frame.userId;
    this.role = frame.role;
    this.attempt = 0;
    this.o.clock.roughFromWelcome(frame.serverTime);
    for (const room of this.o.rooms) this.enter(room);
    for (const p of this.pending.values()) if (p.resend) this.send(p.frame);
    this.ping(5);
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => this.ping(1), 30_000);
    this.setState("open");
    for (const fn of this.frameListeners) fn(frame);
  }

  /** Joins `room`, or resumes it from the last offset seen. */
  private enter(room: string): void {
    const pos = this.positions.get(room);
    this.send(pos ? { t: "resume", room, epoch: pos.epoch, offset: pos.offset } : { t: "join", room });
  }

  /** Enters `room` again after 1–2 s (jittered, so a node's clients do not return at once). */
  private enterLater(room: string): void {
    clearTimeout(this.enterTimers.get(room));
    this.enterTimers.set(
      room,
      setTimeout(
        () => {
          this.enterTimers.delete(room);
          if (this.state === "open") this.enter(room);
        },
        1_000 + Math.random() * 1_000,
      ),
    );
  }

  /** `n` clock pings, 150 ms apart (several samples: the lowest round trip is trusted). */
  private ping(n: number): void {
    for (let i = 0; i < n; i++) {
      setTimeout(() => this.send({ t: "ping", reqId: randomId("p"), clientTime: Date.now() }), i * 150);
    }
  }

  private settle(reqId: string): Pending | undefined {
    const p = this.pending.get(reqId);
    if (!p) return undefined;
    clearTimeout(p.timer);
    this.pending.delete(reqId);
    return p;
  }

  private setState(s: ConnectionState): void {
    if (this.state === s) return;
    this.state = s;
    for (const fn of this.stateListeners) fn(s);
  }
}

/** The gateway WebSocket URL of this page's origin. */
export function wsUrl(): string {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`;
}
