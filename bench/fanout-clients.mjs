// Bench helper, run as its own process: opens N WebSocket clients, counts the drop events each
// receives, and reports to the parent over IPC. Plain JS (no TypeScript loader) to stay light.
//
// The clients speak WebSocket over raw TCP sockets with a minimal frame reader: one load process
// has to keep up with tens of thousands of messages a second, and a full client library would
// make the load generator, not the server under test, the bottleneck of both runs.
import { randomBytes } from "node:crypto";
import net from "node:net";

const [url, countArg, mode, room] = process.argv.slice(2);
const n = Number(countArg);
const endpoint = new URL(url);
const counts = new Uint32Array(n);
let target = Number.POSITIVE_INFINITY;
let reached = 0;

const DROP = Buffer.from('{"t":"drop"');
const JOINED = Buffer.from('{"t":"joined"');
const WELCOME = Buffer.from('{"t":"welcome"');

function onEvent(i) {
  counts[i] += 1;
  if (counts[i] === target) {
    reached += 1;
    if (reached === n) process.send?.({ type: "done", at: Date.now() });
  }
}

/** A masked client text frame (RFC 6455 requires clients to mask). */
function textFrame(text) {
  const payload = Buffer.from(text);
  if (payload.length > 125) throw new Error("bench frames stay small");
  const mask = randomBytes(4);
  const out = Buffer.alloc(6 + payload.length);
  out[0] = 0x81;
  out[1] = 0x80 | payload.length;
  mask.copy(out, 2);
  for (let k = 0; k < payload.length; k++) out[6 + k] = payload[k] ^ mask[k & 3];
  return out;
}

const JOIN = textFrame(JSON.stringify({ t: "join", room }));

function startsWith(buf, start, prefix) {
  return (
    buf.length - start >= prefix.length &&
    buf.compare(prefix, 0, prefix.length, start, start + prefix.length) === 0
  );
}

function open(i) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: endpoint.hostname, port: Number(endpoint.port), noDelay: true });
    let pending = Buffer.alloc(0);
    let upgraded = false;
    let ready = false;
    const markReady = () => {
      if (!ready) {
        ready = true;
        resolve();
      }
    };
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.write(
        `GET ${endpoint.pathname}${endpoint.search} HTTP/1.1\r\nHost: ${endpoint.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on("data", (chunk) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let at = 0;
      if (!upgraded) {
        const end = pending.indexOf("\r\n\r\n");
        if (end < 0) return;
        if (!pending.subarray(0, 12).toString().includes("101")) {
          reject(new Error(`upgrade refused: ${pending.subarray(0, 40).toString()}`));
          socket.destroy();
          return;
        }
        upgraded = true;
        at = end + 4;
        if (mode !== "gateway") markReady();
      }
      // Whole frames only; a partial frame waits for the next chunk.
      while (pending.length - at >= 2) {
        let len = pending[at + 1] & 0x7f;
        let head = 2;
        if (len === 126) {
          if (pending.length - at < 4) break;
          len = pending.readUInt16BE(at + 2);
          head = 4;
        } else if (len === 127) {
          if (pending.length - at < 10) break;
          len = Number(pending.readBigUInt64BE(at + 2));
          head = 10;
        }
        if (pending.length - at < head + len) break;
        const start = at + head;
        if ((pending[at] & 0x0f) === 0x1) {
          if (mode !== "gateway") onEvent(i);
          else if (startsWith(pending, start, DROP)) onEvent(i);
          else if (startsWith(pending, start, WELCOME)) socket.write(JOIN);
          else if (startsWith(pending, start, JOINED)) markReady();
        }
        at = start + len;
      }
      pending = at >= pending.length ? Buffer.alloc(0) : pending.subarray(at);
    });
  });
}

// Two halves: the parent reads the server's memory between them (the marginal cost of a
// connection, clear of start-up garbage that a collection might free meanwhile).
const half = Math.floor(n / 2);
const continued = new Promise((resolve) => process.on("message", (m) => m.type === "continue" && resolve()));
for (let i = 0; i < n; i += 250) {
  if (i === half || (i < half && i + 250 > half)) {
    await Promise.all(Array.from({ length: half - i }, (_, j) => open(i + j)));
    process.send?.({ type: "half", at: Date.now() });
    await continued;
    await Promise.all(Array.from({ length: Math.min(i + 250, n) - half }, (_, j) => open(half + j)));
    continue;
  }
  await Promise.all(Array.from({ length: Math.min(250, n - i) }, (_, j) => open(i + j)));
}
process.send?.({ type: "ready" });
process.on("message", (m) => {
  // The parent announces how many events each client must have seen before it fires them.
  if (m.type === "expect") {
    target = m.total;
    reached = 0;
    for (let i = 0; i < n; i++) if (counts[i] >= target) reached += 1;
  }
});
