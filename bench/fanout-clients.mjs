// Bench helper, run as its own process: opens N WebSocket clients, counts the drop events each
// receives, and reports to the parent over IPC. Plain JS (no TypeScript loader) to stay light.
import WebSocket from "ws";

const [url, countArg, mode, room] = process.argv.slice(2);
const n = Number(countArg);
const counts = new Uint32Array(n);
let target = Number.POSITIVE_INFINITY;
let reached = 0;

function onEvent(i) {
  counts[i] += 1;
  if (counts[i] === target) {
    reached += 1;
    if (reached === n) process.send?.({ type: "done", at: Date.now() });
  }
}

async function open(i) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once("error", reject);
    ws.on("message", (data) => {
      if (mode === "gateway") {
        const text = data.toString();
        if (text.startsWith('{"t":"joined"')) return resolve();
        if (text.startsWith('{"t":"welcome"')) return ws.send(JSON.stringify({ t: "join", room }));
        if (text.startsWith('{"t":"drop"')) onEvent(i);
      } else {
        onEvent(i);
      }
    });
    if (mode !== "gateway") ws.once("open", resolve);
  });
}

for (let i = 0; i < n; i += 250) {
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
