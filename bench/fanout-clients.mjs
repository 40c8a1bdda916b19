// Bench helper, run as its own process: opens N WebSocket clients, counts the drop events each
// receives, and reports to the parent over IPC. Plain JS (no TypeScript loader) to stay light.
//
// The clients speak WebSocket over raw TCP (raw-ws.mjs): one load process has to keep up with
// tens of thousands of messages a second.
import { connectRaw, startsWith, textFrame } from "./raw-ws.mjs";

const [url, countArg, mode, room] = process.argv.slice(2);
const n = Number(countArg);
const counts = new Uint32Array(n);
let target = Number.POSITIVE_INFINITY;
let reached = 0;

const DROP = Buffer.from('{"t":"drop"');
const JOINED = Buffer.from('{"t":"joined"');
const WELCOME = Buffer.from('{"t":"welcome"');
const ERROR = Buffer.from('{"t":"error"');
const JOIN = textFrame(JSON.stringify({ t: "join", room }));

function onEvent(i) {
  counts[i] += 1;
  if (counts[i] === target) {
    reached += 1;
    if (reached === n) process.send?.({ type: "done", at: Date.now() });
  }
}

/** Client i: connected, and (through the gateway) joined to the room. */
function open(i) {
  return new Promise((resolve, reject) => {
    let socket;
    const connected = connectRaw(url, (buf, start, end) => {
      if (mode !== "gateway") onEvent(i);
      else if (startsWith(buf, start, DROP)) onEvent(i);
      else if (startsWith(buf, start, WELCOME)) connected.then((s) => s.write(JOIN));
      else if (startsWith(buf, start, JOINED)) resolve(socket);
      else if (startsWith(buf, start, ERROR))
        reject(new Error(`client ${i}: ${buf.toString("utf8", start, end)}`));
    });
    connected.then((s) => {
      socket = s;
      // A socket the server closed before the join was answered fails the run instead of hanging it.
      s.once("close", () => reject(new Error(`client ${i}: closed before it joined`)));
      if (mode !== "gateway") resolve(s);
    }, reject);
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
