import WebSocket from "ws";

export interface ViewerOptions {
  readonly gateways: readonly string[];
  readonly room: string;
  readonly tokens: readonly string[];
  /** A socket whose pings go unanswered this long is taken for dead (a cut link sends no close), ms. */
  readonly deadAfterMs: number;
  readonly pingEveryMs: number;
  /** Pause between reconnect attempts, ms. */
  readonly reconnectEveryMs: number;
}

interface ViewerState {
  /** Offsets of the `drop` frames it got (drop-level events: created, state, restock). */
  readonly dropOffsets: Set<string>;
  /** Offsets of the resyncs it got: a resync at X stands in for every event up to X. */
  readonly resyncOffsets: string[];
  /** The offset of its first join: events before it are none of its business. */
  joinedAt: string | undefined;
  epoch: string | undefined;
  lastOffset: string | undefined;
  /** The newest state (by version) it knows of each drop: what its screen shows. */
  readonly drops: Map<string, { available: number; v: number }>;
  resumes: number;
  resyncs: number;
  reconnects: number;
  /** Joins and resumes asked again after a retryable refusal. */
  enterRetries: number;
  /** The gateway of its current (or last) connection. */
  gateway: string | undefined;
}

interface DropFields {
  readonly dropId: string;
  readonly available: number;
  readonly v: number;
}

/** Keeps the newer of what the viewer knew and what this frame says (frames can arrive out of order on a resume). */
function see(s: ViewerState, dropId: string, d: { available: number; v: number }): void {
  const known = s.drops.get(dropId);
  if (!known || d.v >= known.v) s.drops.set(dropId, { available: d.available, v: d.v });
}

function compareOffsets(a: string, b: string): number {
  const [am = "0", as = "0"] = a.split("-");
  const [bm = "0", bs = "0"] = b.split("-");
  return Number(am) - Number(bm) || Number(as) - Number(bs);
}

/**
 * Viewers in the room over WebSocket, each on one gateway. A socket that closes, or stops
 * answering pings, is replaced by one on the next gateway that resumes from the last offset it
 * saw (the gateway answers `resumed` and replays, or `resync` with the state). Every drop-level
 * event is recorded by offset so the run can tell whether a viewer missed one.
 */
export class Viewers {
  readonly states: ViewerState[];
  private readonly sockets: (WebSocket | undefined)[];
  private running = false;
  private readonly loops: Promise<void>[] = [];

  constructor(private readonly o: ViewerOptions) {
    this.states = o.tokens.map(() => ({
      dropOffsets: new Set<string>(),
      resyncOffsets: [],
      joinedAt: undefined,
      epoch: undefined,
      lastOffset: undefined,
      drops: new Map(),
      resumes: 0,
      resyncs: 0,
      reconnects: 0,
      enterRetries: 0,
      gateway: undefined,
    }));
    this.sockets = o.tokens.map(() => undefined);
  }

  /** Connects every viewer and resolves once each has joined the room. */
  async start(timeoutMs: number): Promise<void> {
    this.running = true;
    for (let i = 0; i < this.o.tokens.length; i++) this.loops.push(this.keepConnected(i));
    const until = Date.now() + timeoutMs;
    while (this.states.some((s) => s.joinedAt === undefined)) {
      if (Date.now() > until) throw new Error(`viewers did not all join within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const ws of this.sockets) ws?.terminate();
    await Promise.all(this.loops);
  }

  /** Offsets of drop events some viewer saw that viewer i neither got nor had covered by a resync. */
  missed(i: number, all: ReadonlySet<string>): string[] {
    const s = this.states[i] as ViewerState;
    return [...all].filter(
      (o) =>
        s.joinedAt !== undefined &&
        compareOffsets(o, s.joinedAt) > 0 &&
        !s.dropOffsets.has(o) &&
        !s.resyncOffsets.some((r) => compareOffsets(r, o) >= 0),
    );
  }

  /** Viewers whose screen does not (yet) show `available` for the drop. */
  behind(dropId: string, available: number): number[] {
    return this.states.flatMap((s, i) => (s.drops.get(dropId)?.available === available ? [] : [i]));
  }

  /** What a failed run needs to tell where viewer i lost track: its connection history and offsets. */
  describe(i: number): string {
    const s = this.states[i] as ViewerState;
    const seen = [...s.dropOffsets].sort(compareOffsets);
    return JSON.stringify({
      viewer: i,
      gateway: s.gateway,
      reconnects: s.reconnects,
      resumes: s.resumes,
      resyncs: s.resyncs,
      enterRetries: s.enterRetries,
      joinedAt: s.joinedAt,
      lastOffset: s.lastOffset,
      resyncOffsets: s.resyncOffsets,
      dropOffsetsSeen: seen,
    });
  }

  /** Every drop-event offset any viewer saw. */
  allDropOffsets(): Set<string> {
    return new Set(this.states.flatMap((s) => [...s.dropOffsets]));
  }

  private async keepConnected(i: number): Promise<void> {
    for (let attempt = 0; this.running; attempt++) {
      const gateway = this.o.gateways[(i + attempt) % this.o.gateways.length] as string;
      await this.session(i, gateway);
      if (!this.running) return;
      (this.states[i] as ViewerState).reconnects++;
      await new Promise((r) => setTimeout(r, this.o.reconnectEveryMs));
    }
  }

  /** One connection's life: join or resume, record frames, ping; resolves when it ends. */
  private session(i: number, gateway: string): Promise<void> {
    const s = this.states[i] as ViewerState;
    const ws = new WebSocket(
      `${gateway.replace(/^http/, "ws")}/ws?token=${encodeURIComponent(this.o.tokens[i] as string)}`,
    );
    this.sockets[i] = ws;
    s.gateway = gateway;
    let lastPong = Date.now();
    const enter = () => {
      if (ws.readyState !== WebSocket.OPEN) return;
      const resume = s.epoch !== undefined && s.lastOffset !== undefined;
      ws.send(
        JSON.stringify(
          resume
            ? { t: "resume", room: this.o.room, epoch: s.epoch, offset: s.lastOffset }
            : { t: "join", room: this.o.room },
        ),
      );
    };
    return new Promise((resolve) => {
      const timer = setInterval(() => {
        if (Date.now() - lastPong > this.o.deadAfterMs) ws.terminate();
        else if (ws.readyState === WebSocket.OPEN)
          ws.send(JSON.stringify({ t: "ping", reqId: `p${Date.now()}`, clientTime: Date.now() }));
      }, this.o.pingEveryMs);
      ws.on("error", () => undefined);
      ws.once("close", () => {
        clearInterval(timer);
        resolve();
      });
      ws.on("message", (data) => {
        lastPong = Date.now();
        let f: Record<string, unknown>;
        try {
          f = JSON.parse(data.toString()) as Record<string, unknown>;
        } catch {
          return;
        }
        if (f.t === "welcome") {
          enter();
        } else if (f.t === "error" && f.room === this.o.room && f.retryable === true) {
          // The node could not serve the join or resume in time (Redis failing over): ask again,
          // as the viewer page does.
          s.enterRetries++;
          setTimeout(enter, this.o.reconnectEveryMs);
        } else if (f.t === "joined" && f.room === this.o.room) {
          for (const d of f.drops as DropFields[]) see(s, d.dropId, d);
          s.joinedAt ??= f.offset as string;
          s.epoch = f.epoch as string;
          s.lastOffset = f.offset as string;
        } else if (f.t === "resumed") {
          s.resumes++;
        } else if (f.t === "resync" && f.room === this.o.room) {
          s.resyncs++;
          for (const d of f.drops as DropFields[]) see(s, d.dropId, d);
          s.epoch = f.epoch as string;
          s.lastOffset = f.offset as string;
          s.resyncOffsets.push(f.offset as string);
        } else if ((f.t === "drop" || f.t === "stock") && f.room === this.o.room) {
          if (f.t === "drop") s.dropOffsets.add(f.o as string);
          if (f.t === "drop") see(s, (f.drop as DropFields).dropId, f.drop as DropFields);
          else see(s, f.dropId as string, f as unknown as DropFields);
          s.epoch = f.e as string;
          if (s.lastOffset === undefined || compareOffsets(f.o as string, s.lastOffset) > 0)
            s.lastOffset = f.o as string;
        }
      });
    });
  }
}
