// Minimal WebSocket client over raw TCP for the bench load processes (plain JS, no loader).
// One load process has to keep up with tens of thousands of messages a second; a full client
// library made the load generator, not the server under test, the bottleneck (and took a third
// of the machine's CPU in the buy bench). Text frames only, no extensions, no fragmentation: what
// the servers under test send.
import { randomBytes } from "node:crypto";
import net from "node:net";

/**
 * A client text frame. RFC 6455 requires clients to mask, with a key unpredictable to
 * intermediaries (it protects proxies, not the server); over loopback to our own servers the key
 * is all zeros, which leaves the payload as it is and saves the load process a random draw and a
 * pass over every byte.
 */
export function textFrame(text) {
  const payload = Buffer.from(text);
  if (payload.length > 0xffff) throw new Error("bench frames stay under 64 KB");
  const head = payload.length < 126 ? 2 : 4;
  const out = Buffer.alloc(head + 4 + payload.length);
  out[0] = 0x81;
  if (head === 2) out[1] = 0x80 | payload.length;
  else {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(payload.length, 2);
  }
  // Bytes head..head+3 (the masking key) stay zero.
  payload.copy(out, head + 4);
  return out;
}

/**
 * Opens a WebSocket to `url` (ws://host:port/path?query) and calls `onText(buffer, start, end)`
 * for each text message, without copying it. Resolves with the socket once upgraded.
 */
export function connectRaw(url, onText) {
  const endpoint = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: endpoint.hostname, port: Number(endpoint.port), noDelay: true });
    let pending = Buffer.alloc(0);
    let upgraded = false;
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
        resolve(socket);
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
        if ((pending[at] & 0x0f) === 0x1) onText(pending, start, start + len);
        at = start + len;
      }
      pending = at >= pending.length ? Buffer.alloc(0) : pending.subarray(at);
    });
  });
}

/** Whether `buf[start…]` begins with `prefix`. */
export function startsWith(buf, start, prefix) {
  return (
    buf.length - start >= prefix.length &&
    buf.compare(prefix, 0, prefix.length, start, start + prefix.length) === 0
  );
}
