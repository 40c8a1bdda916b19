import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TokenService } from "../../auth/index.ts";
import { compareIds } from "../../gateway/rooms/room-log.ts";
import { CloseCode, type ServerFrame } from "../../protocol/index.ts";
import { type NodeStack, startNodeStack } from "../harness/gateway-process.ts";
import type { OrderStack } from "../harness/order-stack.ts";
import type { PrivateRedis } from "../harness/redis.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

const SECRET = "two-nodes-secret-".padEnd(48, "x");

let nodeStack: NodeStack;
let redis: PrivateRedis;
let stack: OrderStack;
let tokens: TokenService;
const startNode = () => nodeStack.startNode();

/** A viewer that remembers its place in the room and resumes on another node when its node dies. */
class Viewer {
  readonly offsets: string[] = [];
  epoch = "";
  lastHeld = -1;
  /** After a resume: the offset resumed from, and the offsets replayed before `resumed`. */
  replayed: { from: string; frames: string[]; done: boolean } = { from: "", frames: [], done: false };
  socket!: TestSocket;

  constructor(
    readonly userId: string,
    private readonly token: string,
    readonly room: string,
  ) {}

  async connect(url: string, resume: boolean): Promise<void> {
    // A join is answered within the room step deadline (3 s): `joined`, or UNAVAILABLE when
    // Redis was slow. A client answers UNAVAILABLE, or a connection dropped before the answer,
    // by connecting and joining again, as this one does (and says so in the test output).
    for (let attempt = 1; ; attempt++) {
      this.socket = await TestSocket.connect(url, this.token);
      this.socket.ws.on("message", (data) => this.onFrame(JSON.parse(data.toString()) as ServerFrame));
      if (resume && this.offsets.length > 0) {
        this.replayed = { from: this.offsets.at(-1) as string, frames: [], done: false };
        this.socket.send({
          t: "resume",
          room: this.room,
          epoch: this.epoch,
          offset: this.offsets.at(-1) as string,
        });
        return;
      }
      this.socket.send({ t: "join", room: this.room });
      const answer = await Promise.race([
        this.socket.next(
          (f) => (f.t === "joined" || f.t === "error") && "room" in f && f.room === this.room,
          10_000,
        ),
        this.socket.closed,
      ]);
      if ("t" in answer && answer.t === "joined") return;
      if ("t" in answer) expect(answer).toMatchObject({ code: "UNAVAILABLE", retryable: true });
      process.stderr.write(`${this.userId}: join attempt ${attempt} got ${JSON.stringify(answer)}\n`);
      expect(attempt, "join attempts").toBeLessThan(5);
      this.socket.close();
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }

  /** Frames are handled as they arrive (several can arrive in one read, before any await resumes). */
  private onFrame(f: ServerFrame): void {
    if (f.t === "resumed") {
      this.replayed.done = true;
      return;
    }
    if (f.t === "joined" && f.room === this.room) {
      this.epoch = f.epoch;
      this.offsets.push(f.offset);
      return;
    }
    if ((f.t === "drop" || f.t === "stock") && f.room === this.room) {
      // Live delivery and replay may overlap right after a resume: keep each offset once, in order.
      const last = this.offsets.at(-1);
      if (last === undefined || compareIds(f.o, last) > 0) {
        // As the browser client does: a room joined before its first entry gets its epoch here.
        this.epoch = f.e;
        this.offsets.push(f.o);
        this.lastHeld = f.t === "stock" ? f.held : f.drop.held;
        if (this.replayed.from && !this.replayed.done) this.replayed.frames.push(f.o);
      }
    }
  }
}

beforeAll(async () => {
  nodeStack = await startNodeStack(SECRET);
  ({ redis, stack, tokens } = nodeStack);
}, 120_000);

afterAll(async () => {
  await nodeStack?.stop();
});

/**
 * Two nodes share `room` with 60 viewers; a stream of stock events runs, and node A gets `signal`
 * a third of the way through. A's viewers reconnect to B with their last offset and must miss
 * nothing; `closeCode` is what A's viewers must see (undefined: any, a killed node sends none).
 */
async function failover(room: string, signal: "SIGKILL" | "SIGTERM", closeCode?: number): Promise<void> {
  const [a, b] = [await startNode(), await startNode()];
  const def = dropDefinition({ roomId: room, initialStock: 1_000, perUserLimit: 1 });
  await stack.engine.createDrop(def);
  const viewers = await Promise.all(
    Array.from({ length: 60 }, async (_, i) => {
      const userId = `${room}-v${i}`;
      const v = new Viewer(userId, await tokens.issue({ userId, role: "viewer", ttlSeconds: 600 }), room);
      await v.connect(i % 2 === 0 ? a.url : b.url, false);
      return v;
    }),
  );
  const onA = viewers.filter((_, i) => i % 2 === 0);
  // Viewer counts are summed across both nodes (each reports every 2 s).
  for (const v of [viewers[0]!, viewers[1]!]) {
    await v.socket.next((f) => f.t === "viewers" && f.room === room && f.count === 60, 20_000);
  }

  // A stream of stock events; node A dies a third of the way through.
  let killed = false;
  const closes = new Map<string, number>();
  for (let i = 0; i < 60; i++) {
    await stack.engine.reserve({ dropId: def.dropId, userId: `buyer-${i}`, qty: 1, idempotencyKey: key() });
    if (i === 20) {
      a.child.kill(signal);
      killed = true;
      // Each client of A notices the drop and resumes on B with its last offset.
      for (const v of onA)
        v.socket.closed.then((close) => {
          closes.set(v.userId, close.code);
          return v.connect(b.url, true);
        });
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(killed).toBe(true);

  // The drop's snapshot plus one event per buy; the last ones may still be on their way in.
  const logKey = `${stack.prefix}:room:{${room}}:log`;
  await expect.poll(() => redis.client().xlen(logKey), { timeout: 10_000 }).toBe(61);
  const log = await redis.client().xrange(logKey, "-", "+");
  const all = log.map(([id]) => id);
  // Stock frames are coalesced live, so a viewer holds a subset of the log, in order; what it
  // must not miss is the end state, and (for A's viewers) what the resume replayed.
  for (const v of viewers) {
    await expect.poll(() => v.offsets.at(-1), { timeout: 20_000 }).toBe(all.at(-1));
    expect(v.offsets.slice(1).every((o) => all.includes(o))).toBe(true);
    expect(v.lastHeld).toBe(60);
  }
  for (const v of onA) {
    // The replay after the failover is contiguous: every logged event after the offset the
    // viewer resumed from, up to the `resumed` frame.
    const { from, frames, done } = v.replayed;
    expect(done).toBe(true);
    const logged = all.filter((o) => compareIds(o, from) > 0);
    expect(frames).toEqual(logged.slice(0, frames.length));
  }
  if (closeCode !== undefined) for (const v of onA) expect(closes.get(v.userId), v.userId).toBe(closeCode);
  for (const v of viewers) v.socket.close();
  b.child.kill("SIGTERM");
}

describe("two gateway processes", () => {
  it("share a room; when one is SIGKILLed mid-stream its clients resume on the other and miss no drop or stock event", async () => {
    await failover("shared-kill", "SIGKILL");
  }, 120_000);

  it("when one is SIGTERMed mid-stream it drains: its clients are told to reconnect (SERVER_SHUTDOWN), resume on the other and miss nothing", async () => {
    await failover("shared-term", "SIGTERM", CloseCode.SERVER_SHUTDOWN);
  }, 120_000);
});
