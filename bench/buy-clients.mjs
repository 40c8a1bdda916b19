// Bench helper, run as its own process: one WebSocket per token, each buying in a closed loop
// (send `buy`, wait for its `ack`, repeat) for a fixed time; reports acks/s and latency over IPC.
// Each socket stays under the gateway's 20 frames a second per connection, like a real client.
// Raw-TCP WebSocket clients (raw-ws.mjs): with the `ws` library this process took a third of
// the machine, CPU the gateway then lacked.
import { connectRaw, startsWith, textFrame } from "./raw-ws.mjs";

const [url, dropId, durationArg] = process.argv.slice(2);
const durationMs = Number(durationArg);

const WELCOME = Buffer.from('{"t":"welcome"');
const ACK = Buffer.from('{"t":"ack"');
const ERROR = Buffer.from('{"t":"error"');

process.once("message", async ({ tokens }) => {
  const latencies = [];
  let ok = 0;
  let refused = 0;
  let seq = 0;
  let end = Number.POSITIVE_INFINITY;
  /** Per socket: what to do with its next ack or error (set once buying starts). */
  const handlers = [];
  const sockets = await Promise.all(
    tokens.map(
      (token, i) =>
        new Promise((resolve, reject) => {
          const connected = connectRaw(`${url}?token=${encodeURIComponent(token)}`, (buf, start, stop) => {
            if (startsWith(buf, start, WELCOME)) connected.then(resolve);
            else if (startsWith(buf, start, ACK) || startsWith(buf, start, ERROR))
              handlers[i]?.(JSON.parse(buf.toString("utf8", start, stop)));
          });
          connected.catch(reject);
        }),
    ),
  );
  end = Date.now() + durationMs;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  process.send?.({ type: "buying" });
  await Promise.all(
    sockets.map(
      (socket, i) =>
        new Promise((resolve) => {
          let sentAt = 0;
          let reqId = "";
          const send = () => {
            if (Date.now() >= end) return resolve();
            reqId = `b${i}-${seq++}`;
            sentAt = performance.now();
            socket.write(
              textFrame(JSON.stringify({ t: "buy", reqId, dropId, qty: 1, idempotencyKey: reqId })),
            );
          };
          // At most one buy per 60 ms per socket (about 16 a second).
          const next = () => setTimeout(send, Math.max(0, 60 - (performance.now() - sentAt)));
          handlers[i] = (frame) => {
            if (frame.t === "error" && frame.code === "RATE_LIMITED") return void setTimeout(send, 200);
            if (frame.t !== "ack" || frame.reqId !== reqId) return;
            latencies.push(performance.now() - sentAt);
            if (frame.ok) ok += 1;
            else refused += 1;
            next();
          };
          send();
        }),
    ),
  );
  const elapsed = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  latencies.sort((a, b) => a - b);
  process.send?.({
    type: "report",
    cpuMicros: cpu.user + cpu.system,
    acks: latencies.length,
    ok,
    refused,
    elapsedMs: elapsed,
    p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
  });
  for (const socket of sockets) socket.destroy();
});
