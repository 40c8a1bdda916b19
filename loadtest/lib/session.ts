import { bestOffset, type ClockSample } from "./clock.ts";
import { frames as f, type InFrame, type InFrameType, type OutFrame } from "./frames.ts";
import { idFactory } from "./ids.ts";
import { type MetricName, STEP_OF } from "./scenarios.ts";

/**
 * One viewer's WebSocket session, written against three small ports so that the same code runs
 * inside k6 (k6/websockets, k6/timers, k6/metrics) and inside the Node driver (`ws`, Node timers,
 * its recorder). The behaviours in behaviours.ts drive it.
 */

/**
 * The socket: a k6 `WebSocket` or a `ws` one, behind the two calls a session makes. Adapters
 * send through socket-send.ts's sendIfOpen: `send` answers false, never throws, when the socket
 * is not open.
 */
export interface SocketPort {
  send(text: string): boolean;
  close(): void;
}

export interface Runtime {
  /** Local clock, ms since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export type Tags = Record<string, string>;

/** Where measurements go: k6 Trend/Counter/Rate, or the Node driver's recorder. */
export interface Sink {
  trend(name: MetricName, value: number, tags?: Tags): void;
  count(name: MetricName, n: number, tags?: Tags): void;
  rate(name: MetricName, ok: boolean, tags?: Tags): void;
}

type AckOrError = Extract<InFrame, { t: "ack" }> | Extract<InFrame, { t: "error" }>;
type Handler<T extends InFrameType> = (frame: Extract<InFrame, { t: T }>) => void;

interface Pending {
  readonly cb: (answer: AckOrError | undefined, ms: number) => void;
  readonly timer: unknown;
  readonly sentAt: number;
}

export class Session {
  userId = "";
  /** Server clock ≈ local clock + offsetMs (valid once `synced`). */
  offsetMs = 0;
  synced = false;
  readonly nextId: () => string;
  private readonly handlers = new Map<string, ((f: InFrame) => void)[]>();
  private readonly pending = new Map<string, Pending>();
  private readonly timers = new Set<unknown>();
  private readonly closeListeners: (() => void)[] = [];
  private readonly lastOffset = new Map<string, string>();
  private readonly pings = new Map<string, (pong: Extract<InFrame, { t: "pong" }>) => void>();
  private welcomed = false;
  private ending = false;
  private done = false;

  constructor(
    private readonly socket: SocketPort,
    readonly rt: Runtime,
    readonly sink: Sink,
    /** Local time the connection attempt started (for ws_connect_ms). */
    private readonly startedAt: number,
    idPrefix = "lt",
    /** Extra tags on every measurement (k6: scenario-level tags are added by k6 itself). */
    private readonly tags: Tags = {},
  ) {
    this.nextId = idFactory(idPrefix);
  }

  // ---- Called by the socket adapter. ----

  message(text: string): void {
    let frame: InFrame;
    try {
      frame = JSON.parse(text) as InFrame;
    } catch {
      return;
    }
    if (frame.t === "welcome" && !this.welcomed) {
      this.welcomed = true;
      this.userId = frame.userId;
      this.trend("ws_connect_ms", this.rt.now() - this.startedAt);
    }
    if (frame.t === "pong") {
      const answer = this.pings.get(frame.reqId);
      this.pings.delete(frame.reqId);
      answer?.(frame);
    }
    if ((frame.t === "ack" || frame.t === "error") && frame.reqId !== undefined) {
      const p = this.pending.get(frame.reqId);
      if (p) {
        this.pending.delete(frame.reqId);
        this.rt.clearTimeout(p.timer);
        this.timers.delete(p.timer);
        p.cb(frame, this.rt.now() - p.sentAt);
        if (frame.t === "ack") return;
      }
    }
    for (const h of this.handlers.get(frame.t) ?? []) h(frame);
  }

  /** The socket closed (either side) or failed. */
  closed(): void {
    if (this.done) return;
    this.done = true;
    this.rate("ws_session_ok", this.ending);
    for (const t of this.timers) this.rt.clearTimeout(t);
    this.timers.clear();
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.cb(undefined, this.rt.now() - p.sentAt);
    for (const l of this.closeListeners) l();
  }

  // ---- For behaviours. ----

  get isClosed(): boolean {
    return this.done;
  }

  /** The server's welcome frame arrived (the connection was accepted). */
  get isWelcomed(): boolean {
    return this.welcomed;
  }

  /** The runner closed it (end()), rather than the server or the network. */
  get endedOnPurpose(): boolean {
    return this.ending;
  }

  on<T extends InFrameType>(type: T, handler: Handler<T>): void {
    const list = this.handlers.get(type) ?? [];
    list.push(handler as (f: InFrame) => void);
    this.handlers.set(type, list);
  }

  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  /** Sends unless the session is over; a frame the socket could not take is counted, not thrown. */
  send(frame: OutFrame): void {
    if (this.done) return;
    if (!this.socket.send(JSON.stringify(frame))) this.count("ws_sends_dropped", 1);
  }

  /** Sends a frame with a reqId; `cb` gets its ack or error frame, or undefined on timeout / close. */
  request(
    frame: OutFrame & { reqId: string },
    timeoutMs: number,
    cb: (answer: AckOrError | undefined, ms: number) => void,
  ): void {
    const sentAt = this.rt.now();
    const timer = this.after(timeoutMs, () => {
      if (this.pending.delete(frame.reqId)) cb(undefined, this.rt.now() - sentAt);
    });
    this.pending.set(frame.reqId, { cb, timer, sentAt });
    this.send(frame);
  }

  /** A timer that dies with the session (k6 ends an iteration only when none are left). */
  after(ms: number, fn: () => void): unknown {
    const handle = this.rt.setTimeout(
      () => {
        this.timers.delete(handle);
        if (!this.done) fn();
      },
      Math.max(0, ms),
    );
    this.timers.add(handle);
    return handle;
  }

  cancel(handle: unknown): void {
    this.rt.clearTimeout(handle);
    this.timers.delete(handle);
  }

  /** `n` pings `gapMs` apart; keeps the lowest-round-trip estimate, then calls `cb`. */
  syncClock(n: number, gapMs: number, cb: () => void): void {
    const samples: ClockSample[] = [];
    let left = n;
    const settle = () => {
      left -= 1;
      if (left === 0) this.finishSync(samples, cb);
    };
    const ping = (i: number) => {
      const reqId = this.nextId();
      const timer = this.after(5_000, () => {
        if (this.pings.delete(reqId)) settle();
      });
      this.pings.set(reqId, (pong) => {
        this.cancel(timer);
        samples.push({
          clientSend: pong.clientTime,
          serverTime: pong.serverTime,
          clientReceive: this.rt.now(),
        });
        settle();
      });
      this.send(f.ping(reqId, this.rt.now()));
      if (i + 1 < n) this.after(gapMs, () => ping(i + 1));
    };
    ping(0);
  }

  private finishSync(samples: ClockSample[], cb: () => void): void {
    const best = bestOffset(samples);
    if (best) {
      this.offsetMs = best.offsetMs;
      this.synced = true;
      this.trend("clock_rtt_ms", best.rttMs);
    }
    cb();
  }

  /** Now on the server's clock (local clock + offset). */
  serverNow(): number {
    return this.rt.now() + this.offsetMs;
  }

  /**
   * Tracks a room event offset; false when it is older than one already seen (a delivery out of
   * order, counted in frames_out_of_order). Equal offsets are a replay of the same event.
   */
  seenOffset(room: string, offset: string, compare: (a: string, b: string) => number): boolean {
    const last = this.lastOffset.get(room);
    if (last !== undefined && compare(offset, last) < 0) {
      this.count("frames_out_of_order", 1);
      return false;
    }
    this.lastOffset.set(room, offset);
    return true;
  }

  /** Closes on purpose: the session counts as ok. */
  end(): void {
    if (this.done) return;
    this.ending = true;
    this.socket.close();
    // Some socket libraries fire no close event after a local close() on a dead socket.
    this.after(5_000, () => this.closed());
  }

  trend(name: MetricName, value: number): void {
    this.sink.trend(name, value, this.tagsFor(name));
  }
  count(name: MetricName, n: number): void {
    this.sink.count(name, n, this.tagsFor(name));
  }
  rate(name: MetricName, ok: boolean): void {
    this.sink.rate(name, ok, this.tagsFor(name));
  }

  private tagsFor(name: MetricName): Tags {
    const step = STEP_OF[name];
    return step ? { ...this.tags, step } : this.tags;
  }
}
