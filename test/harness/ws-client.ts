import WebSocket from "ws";
import type { ClientFrame, ServerFrame } from "../../protocol/index.ts";

interface Waiter {
  pred: (f: ServerFrame) => boolean;
  resolve: (f: ServerFrame) => void;
  reject: (err: Error) => void;
}

/** A real WebSocket client (the `ws` package) that records every frame it receives. */
export class TestSocket {
  readonly frames: ServerFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Why the socket closed, once it has: a frame still awaited then can never come. */
  private closeInfo: { code: number; reason: string } | undefined;
  /** The last client-side error (a protocol error is reported here, then the close says 1006). */
  private lastError: Error | undefined;
  private waiters: Waiter[] = [];

  private constructor(readonly ws: WebSocket) {
    // Kept for the socket's life: an error after open would otherwise be thrown, or lost.
    ws.on("error", (err) => {
      this.lastError = err;
    });
    this.closed = new Promise((resolve) =>
      ws.once("close", (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        const waiting = this.waiters;
        this.waiters = [];
        for (const w of waiting) w.reject(this.closedError());
      }),
    );
    ws.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as ServerFrame;
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
  }

  /**
   * Connects with `token` and resolves once the server's welcome arrived and a clock ping was
   * answered. uWS 20.30 can drop a socket upgraded after an asynchronous check right after its
   * 101 and welcome (a bug of that library version): a connection dropped that way (1006
   * before any answer) is opened again, as the browser client reconnects, at most 3 times.
   */
  static async connect(baseUrl: string, token: string): Promise<TestSocket> {
    for (let attempt = 1; ; attempt++) {
      const socket = await TestSocket.welcomed(baseUrl, token);
      try {
        socket.send({ t: "ping", reqId: "connect-check", clientTime: Date.now() });
        await socket.next((f) => f.t === "pong" && f.reqId === "connect-check");
        return socket;
      } catch (err) {
        if (attempt >= 3 || socket.closeInfo?.code !== 1006) throw err;
      }
    }
  }

  /** Connects and resolves at the welcome, without the ping check (for peers that fake a server). */
  static async welcomed(baseUrl: string, token: string): Promise<TestSocket> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/ws?token=${encodeURIComponent(token)}`);
    const socket = new TestSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    await socket.next((f) => f.t === "welcome");
    return socket;
  }

  send(frame: ClientFrame | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(frame));
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  /**
   * The first frame (already received or still to come) matching `pred`. Rejects when none came
   * within `timeoutMs`, and at once when the socket closes first (with its close code and reason).
   */
  next<T extends ServerFrame = ServerFrame>(
    pred: (f: ServerFrame) => boolean,
    timeoutMs = 10_000,
  ): Promise<T> {
    const seen = this.frames.find(pred);
    if (seen) return Promise.resolve(seen as T);
    if (this.closeInfo) return Promise.reject(this.closedError());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching frame within ${timeoutMs} ms; got ${this.received()}`));
      }, timeoutMs);
      const waiter: Waiter = {
        pred,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f as T);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.waiters.push(waiter);
    });
  }

  close(): void {
    this.ws.close();
  }

  private received(): string {
    return this.frames.map((f) => f.t).join(",") || "nothing";
  }

  private closedError(): Error {
    const { code, reason } = this.closeInfo ?? { code: 0, reason: "" };
    const why = reason ? ` "${reason}"` : code === 1006 ? " (no close frame)" : "";
    const error = this.lastError ? `; client error: ${this.lastError.message}` : "";
    return new Error(
      `socket closed with ${code}${why} before a matching frame arrived${error}; got ${this.received()}`,
    );
  }
}
