// Bench helper, run as its own process: one WebSocket per token, each buying in a closed loop
// (send `buy`, wait for its `ack`, repeat) for a fixed time; reports acks/s and latency over IPC.
// Each socket stays under the gateway's 20 frames a second per connection, like a real client.
import WebSocket from "ws";

const [url, dropId, durationArg] = process.argv.slice(2);
const durationMs = Number(durationArg);

process.once("message", async ({ tokens }) => {
  const sockets = await Promise.all(
    tokens.map(
      (token) =>
        new Promise((resolve, reject) => {
          const ws = new WebSocket(`${url}?token=${encodeURIComponent(token)}`, { perMessageDeflate: false });
          ws.once("error", reject);
          ws.on("message", (data) => {
            const text = data.toString();
            if (text.startsWith('{"t":"welcome"')) resolve(ws);
          });
        }),
    ),
  );
  const latencies = [];
  let ok = 0;
  let refused = 0;
  let seq = 0;
  const end = Date.now() + durationMs;
  const start = performance.now();
  await Promise.all(
    sockets.map(
      (ws, i) =>
        new Promise((resolve) => {
          let sentAt = 0;
          let reqId = "";
          const send = () => {
            if (Date.now() >= end) return resolve();
            reqId = `b${i}-${seq++}`;
            sentAt = performance.now();
            ws.send(JSON.stringify({ t: "buy", reqId, dropId, qty: 1, idempotencyKey: reqId }));
          };
          // At most one buy per 60 ms per socket (about 16 a second).
          const next = () => setTimeout(send, Math.max(0, 60 - (performance.now() - sentAt)));
          ws.on("message", (data) => {
            const frame = JSON.parse(data.toString());
            if (frame.t === "error" && frame.code === "RATE_LIMITED") return void setTimeout(send, 200);
            if (frame.t !== "ack" || frame.reqId !== reqId) return;
            latencies.push(performance.now() - sentAt);
            if (frame.ok) ok += 1;
            else refused += 1;
            next();
          });
          send();
        }),
    ),
  );
  const elapsed = performance.now() - start;
  latencies.sort((a, b) => a - b);
  process.send?.({
    acks: latencies.length,
    ok,
    refused,
    elapsedMs: elapsed,
    p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
  });
  for (const ws of sockets) ws.close();
});
