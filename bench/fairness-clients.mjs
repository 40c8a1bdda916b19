// Bench helper, run as its own process: the viewers of the fairness bench, one raw WebSocket each
// (raw-ws.mjs: a client library would make this process, not the gateway, the bottleneck). Each
// viewer signs in, joins the room, syncs its clock to the server's with ping/pong as the viewer
// page does, and per round buys once when its video shows the drop: server-clock T0 + its playback
// delay + its reaction time. Outcomes go to the parent over IPC. Plain JS (no TypeScript loader).
import { connectRaw, startsWith, textFrame } from "./raw-ws.mjs";

const [url, room] = process.argv.slice(2);

const WELCOME = Buffer.from('{"t":"welcome"');
const JOINED = Buffer.from('{"t":"joined"');
const DROP = Buffer.from('{"t":"drop"');
const PONG = Buffer.from('{"t":"pong"');
const ACK = Buffer.from('{"t":"ack"');
const ENTRY = Buffer.from('{"t":"entry"');
const DRAW = Buffer.from('{"t":"draw"');
const ERROR = Buffer.from('{"t":"error"');
/** Clock samples per viewer; the one with the lowest round trip is trusted (protocol/clock.ts). */
const PINGS = 3;
/** Sockets opened at once: a burst of upgrades the gateway takes without refusing any. */
const BATCH = 250;

/** @type {Viewer[]} */
const viewers = [];
let failed = false;

function fail(message) {
  if (failed) return;
  failed = true;
  process.send?.({ type: "failed", message });
  setTimeout(() => process.exit(1), 100);
}

/**
 * One viewer: its socket, clock offset (server ≈ local + offset), the drops it has seen
 * (dropId → server-clock startsAt) and the handler of the round in progress.
 */
class Viewer {
  constructor(i, token) {
    this.i = i;
    this.token = token;
    this.offset = 0;
    this.rtt = Number.POSITIVE_INFINITY;
    this.startsAt = new Map();
    this.onFrame = undefined;
    this.pendingPing = undefined;
  }

  /** Connected, joined and synced within `timeoutMs`, or the run fails. */
  open(timeoutMs) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`viewer ${this.i}: not joined within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const connected = connectRaw(`${url}?token=${encodeURIComponent(this.token)}`, (buf, start, end) =>
        this.receive(buf, start, end, done, reject),
      );
      // The welcome can arrive in the upgrade's own chunk, before this resolves: frames wait on it.
      this.connected = connected;
      connected.then((socket) => {
        this.socket = socket;
        // A viewer the server closed fails the run at once instead of hanging it.
        socket.once("close", () => {
          reject(new Error(`viewer ${this.i}: socket closed before it joined`));
          fail(`viewer ${this.i}: socket closed by the server`);
        });
      }, reject);
    });
  }

  receive(buf, start, end, joined, refused) {
    if (startsWith(buf, start, WELCOME)) this.connected.then(() => this.send({ t: "join", room }));
    else if (startsWith(buf, start, JOINED)) {
      for (const d of JSON.parse(buf.toString("utf8", start, end)).drops)
        this.startsAt.set(d.dropId, d.startsAt);
      this.sync().then(joined, refused);
    } else if (startsWith(buf, start, DROP)) {
      const { drop } = JSON.parse(buf.toString("utf8", start, end));
      if (!this.startsAt.has(drop.dropId)) {
        this.startsAt.set(drop.dropId, drop.startsAt);
        this.onFrame?.({ t: "drop", drop });
      }
    } else if (startsWith(buf, start, PONG)) {
      const pong = JSON.parse(buf.toString("utf8", start, end));
      this.pendingPing?.(pong);
    } else if (startsWith(buf, start, ACK) || startsWith(buf, start, ENTRY) || startsWith(buf, start, DRAW))
      this.onFrame?.(JSON.parse(buf.toString("utf8", start, end)));
    else if (startsWith(buf, start, ERROR)) {
      const error = JSON.parse(buf.toString("utf8", start, end));
      if (error.reqId && this.onFrame) this.onFrame(error);
      else refused(new Error(`viewer ${this.i}: ${buf.toString("utf8", start, end)}`));
    }
  }

  /** NTP-style: a few pings one after another, keeping the lowest-round-trip estimate. */
  async sync() {
    for (let n = 0; n < PINGS; n++) {
      const clientSend = Date.now();
      const pong = await new Promise((resolve) => {
        this.pendingPing = resolve;
        this.send({ t: "ping", reqId: `p${n}`, clientTime: clientSend });
      });
      const clientReceive = Date.now();
      const rtt = clientReceive - clientSend;
      if (rtt >= 0 && rtt < this.rtt) {
        this.rtt = rtt;
        this.offset = pong.serverTime - (clientSend + clientReceive) / 2;
      }
    }
    this.pendingPing = undefined;
  }

  send(frame) {
    this.socket?.write(textFrame(JSON.stringify(frame)));
  }

  /** Server-clock now as this viewer estimates it. */
  serverNow() {
    return Date.now() + this.offset;
  }
}

/** Opens every viewer, BATCH at a time; resolves once all joined and synced. */
async function openAll(tokens, timeoutMs) {
  for (let i = 0; i < tokens.length; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(i + BATCH, tokens.length); j++) {
      const viewer = new Viewer(j, tokens[j]);
      viewers.push(viewer);
      batch.push(viewer.open(timeoutMs));
    }
    await Promise.all(batch);
  }
}

/**
 * One round: each viewer waits until it has seen `dropId`, then buys at its startsAt + delayMs[i]
 * + reactionMs[i] (server clock, through its own offset). A buy answered "entered" waits for its
 * `entry` frame; one refused as retryable (between the window's end and the allocation) is sent
 * again with the same key. Resolves with one outcome per viewer once all are settled or at
 * `deadline` (server clock), whichever is first.
 */
function runRound({ dropId, delayMs, reactionMs, retryMs, deadline }) {
  return new Promise((resolve) => {
    const outcomes = viewers.map(() => ({ settled: false }));
    let left = viewers.length;
    const timers = [];
    const settle = (i) => {
      if (outcomes[i].settled) return;
      outcomes[i].settled = true;
      viewers[i].onFrame = undefined;
      if (--left === 0) finish();
    };
    const finish = () => {
      for (const t of timers) clearTimeout(t);
      for (const v of viewers) v.onFrame = undefined;
      resolve(outcomes);
    };
    timers.push(setTimeout(finish, Math.max(0, deadline - Date.now())));
    viewers.forEach((viewer, i) => {
      const out = outcomes[i];
      const reqId = `${dropId.slice(0, 40)}-${i}`;
      let attempts = 0;
      const buy = () => {
        attempts += 1;
        out.sentAt = viewer.serverNow();
        viewer.send({ t: "buy", reqId, dropId, qty: 1, idempotencyKey: reqId });
      };
      const schedule = (startsAt) => {
        const at = startsAt - viewer.offset + delayMs[i] + reactionMs[i];
        timers.push(setTimeout(buy, Math.max(0, at - Date.now())));
      };
      viewer.onFrame = (frame) => {
        if (frame.t === "drop" && frame.drop.dropId === dropId) return schedule(frame.drop.startsAt);
        // When the room heard the draw: the results follow it (a separate timing from theirs).
        if (frame.t === "draw" && frame.dropId === dropId) {
          out.drawAt = viewer.serverNow();
          return;
        }
        if (frame.t === "entry" && frame.dropId === dropId) {
          out.result = { status: frame.status, granted: frame.granted, at: viewer.serverNow() };
          return settle(i);
        }
        if ((frame.t !== "ack" && frame.t !== "error") || frame.reqId !== reqId) return;
        out.ackAt = viewer.serverNow();
        out.attempts = attempts;
        if (frame.t === "ack" && frame.ok) {
          out.kind = frame.result.kind;
          if (out.kind === "entered") {
            out.closesAt = frame.result.closesAt;
            // The result may have come first (a late ack): then this viewer is done.
            if (out.result) settle(i);
            return;
          }
          return settle(i);
        }
        if (frame.retryable || frame.code === "NOT_STARTED" || frame.code === "RATE_LIMITED") {
          timers.push(setTimeout(buy, retryMs));
          return;
        }
        out.code = frame.code;
        settle(i);
      };
      const seen = viewer.startsAt.get(dropId);
      if (seen !== undefined) schedule(seen);
    });
  });
}

// The bench gone (killed, or its IPC closed): its viewers go too.
process.once("disconnect", () => process.exit(0));

process.on("message", async (m) => {
  try {
    if (m.type === "open") {
      await openAll(m.tokens, m.openTimeoutMs);
      const rtts = viewers.map((v) => v.rtt).sort((a, b) => a - b);
      process.send?.({ type: "ready", maxRttMs: rtts.at(-1), medianRttMs: rtts[rtts.length >> 1] });
    } else if (m.type === "report-delay") {
      for (const [i, v] of viewers.entries())
        v.send({ t: "delay", room, ms: m.delayMs[i], source: m.sources[i] });
      process.send?.({ type: "reported" });
    } else if (m.type === "round") {
      const outcomes = await runRound(m);
      process.send?.({ type: "round", outcomes });
    }
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
});
