import WebSocket from "ws";
import { onEntry, recordEntry } from "../lib/admission.ts";
import { ceilingFor, snipeLeadMs } from "../lib/auction-run.ts";
import { chatter, flashBuy, type HttpPay, shop, watch } from "../lib/behaviours.ts";
import { bidder } from "../lib/bidder.ts";
import { type Runtime, Session } from "../lib/session.ts";
import { closeIfOpen, sendIfOpen } from "../lib/socket-send.ts";
import { Api } from "./api.ts";
import { GeneratorMonitor } from "./generator-monitor.ts";
import type { BehaviourSpec, FromWorker, Outcome, ToWorker } from "./protocol.ts";
import { Recorder } from "./recorder.ts";

/**
 * A load worker process: holds many WebSocket sessions (the `ws` package) and runs the shared
 * behaviours on them, as k6 VUs run them in the k6 scripts. The driver forks a few of these so
 * thousands of sockets are not all on one event loop.
 */

const BATCH = 200;
const CONNECT_TIMEOUT_MS = 15_000;

const runtime: Runtime = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

let wsUrl = "";
let api: Api | undefined;
let recorder = new Recorder();
let monitor: GeneratorMonitor | undefined;
/** Open sessions and what each does (a ramp closes only its own kind). */
const open = new Map<Session, BehaviourSpec["kind"]>();
const outcomes: Outcome[] = [];
const closes: Record<string, number> = {};
const tallyClose = (why: string) => {
  closes[why] = (closes[why] ?? 0) + 1;
};
let queue: Promise<void> = Promise.resolve();

const send = (m: FromWorker) => process.send?.(m);

function connect(token: string, spec: BehaviourSpec, ref: number, planned: boolean): Promise<void> {
  const ws = new WebSocket(`${wsUrl}?token=${encodeURIComponent(token)}`, { perMessageDeflate: false });
  const session = new Session(
    { send: (text) => sendIfOpen(ws, text), close: () => closeIfOpen(ws) },
    runtime,
    recorder,
    runtime.now(),
    `w${process.pid}x${ref}`,
  );
  open.set(session, spec.kind);
  session.onClose(() => open.delete(session));
  onEntry(session, spec.room, (failure) => recordEntry(recorder, failure, planned));
  ws.on("message", (data) => session.message(data.toString()));
  ws.on("close", (code) => {
    if (!session.endedOnPurpose && !session.isClosed) tallyClose(`close ${code}`);
    session.closed();
  });
  ws.on("error", (err) => {
    if (!session.endedOnPurpose && !session.isClosed) tallyClose(err.message.slice(0, 80));
    session.closed();
    ws.terminate();
  });
  start(session, spec, ref, token);
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, CONNECT_TIMEOUT_MS);
    const settle = () => {
      clearTimeout(timer);
      resolve();
    };
    ws.once("open", settle);
    ws.once("close", settle);
    ws.once("error", settle);
  });
}

function start(s: Session, spec: BehaviourSpec, ref: number, token: string): void {
  switch (spec.kind) {
    case "watch":
      watch(s, { room: spec.room });
      break;
    case "chat":
      chatter(s, { room: spec.room, everyMs: spec.everyMs, ...(spec.stayMs ? { stayMs: spec.stayMs } : {}) });
      break;
    case "flashBuy":
      flashBuy(s, spec, (o) => {
        outcomes.push({ kind: "flashBuy", ref, ...o });
        s.end();
      });
      break;
    case "bid": {
      const { kind: _, sniperShare, antiSnipeMs, ...options } = spec;
      const sniper = Math.random() < sniperShare;
      const snipeLead = snipeLeadMs(antiSnipeMs);
      bidder(s, { ...options, ceilingMinor: ceilingFor(sniper), sniper, snipeLeadMs: snipeLead }, (o) => {
        outcomes.push({ kind: "bid", ref, ...o });
        s.end();
      });
      break;
    }
    case "shop": {
      const payOverHttp: HttpPay | undefined =
        spec.payOverHttp && api
          ? (rid, payToken, key, cb) => {
              api
                ?.pay(token, rid, payToken, key)
                .then((a) => cb(a.status === 200 ? a.body?.status : undefined))
                .catch(() => cb(undefined));
            }
          : undefined;
      const { room, dropId, qty, orderWaitMs } = spec;
      shop(s, { room, dropId, qty, orderWaitMs, ...(payOverHttp ? { payOverHttp } : {}) }, (o) => {
        outcomes.push({ kind: "shop", ref, ...o });
        s.end();
      });
      break;
    }
  }
}

async function openAll(
  spec: BehaviourSpec,
  tokens: string[],
  firstRef: number,
  planned: boolean,
): Promise<void> {
  for (let i = 0; i < tokens.length; i += BATCH) {
    const batch = tokens.slice(i, i + BATCH);
    await Promise.all(batch.map((t, j) => connect(t, spec, firstRef + i + j, planned)));
  }
}

async function stop(): Promise<void> {
  monitor?.stop();
  for (const s of [...open.keys()]) s.end();
  const deadline = Date.now() + 6_000;
  while (open.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  // Disconnect only once the (large) final message has gone out.
  await new Promise<void>((resolve) => {
    const final: FromWorker = { type: "final", dump: recorder.dump(), outcomes, closes };
    if (process.send) process.send(final, undefined, {}, () => resolve());
    else resolve();
  });
}

const ticker = setInterval(
  () => send({ type: "progress", open: open.size, done: outcomes.length, metrics: recorder.tallies() }),
  250,
);

process.on("message", (m: ToWorker) => {
  switch (m.type) {
    case "init":
      wsUrl = m.wsUrl;
      recorder = new Recorder(new Set(m.wanted));
      api = new Api(m.baseUrl, recorder);
      monitor = new GeneratorMonitor(recorder);
      return;
    case "open":
      // Opens run one after another, so a ramp's batches connect in order.
      queue = queue.then(() => openAll(m.spec, m.tokens, m.firstRef, m.planned));
      return;
    case "close": {
      const victims = [...open].filter(([, kind]) => kind === m.kind).slice(-m.count);
      for (const [s] of victims) s.end();
      return;
    }
    case "stop":
      queue.then(stop).then(() => {
        clearInterval(ticker);
        process.disconnect?.();
      });
      return;
  }
});
process.on("disconnect", () => {
  clearInterval(ticker);
  setTimeout(() => process.exit(0), 7_000).unref();
});
