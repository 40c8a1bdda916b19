import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MediaStack, startMediaStack, waitFor } from "./harness.ts";

/**
 * Slow clients cannot hold the media server's sockets: headers trickled byte by byte, a body
 * trickled after complete headers, and idle keep-alive sockets are all closed within their
 * configured bound (small here), while event streams, whose response lasts, stay open.
 */
const HEADERS_MS = 1_000;
const REQUEST_MS = 2_000;
const KEEPALIVE_MS = 1_000;
/** node checks timeouts every min(1 s, headers / 4); a loaded machine adds scheduling delay. */
const SLACK_MS = 4_000;

interface SlowSocket {
  readonly openedAt: number;
  closedAt: number | undefined;
  /** Everything the server sent before closing. */
  received: string;
  stop(): void;
}

/** A socket that sends `head` at once, then `trickle` one byte every 100 ms, never finishing. */
function slowSocket(port: number, head: string, trickle: string): SlowSocket {
  const s: SlowSocket = { openedAt: Date.now(), closedAt: undefined, received: "", stop: () => undefined };
  const socket = net.connect(port, "127.0.0.1");
  let i = 0;
  const timer = setInterval(() => {
    if (trickle && !socket.destroyed) socket.write(trickle[i++ % trickle.length] as string);
  }, 100);
  socket.on("connect", () => socket.write(head));
  socket.on("data", (d) => {
    s.received += d.toString("latin1");
  });
  socket.on("error", () => undefined);
  socket.on("close", () => {
    clearInterval(timer);
    s.closedAt = Date.now();
  });
  s.stop = () => {
    clearInterval(timer);
    socket.destroy();
  };
  return s;
}

describe("media HTTP server timeouts", () => {
  let s: MediaStack;
  let port: number;
  const open: SlowSocket[] = [];

  beforeAll(async () => {
    s = await startMediaStack({
      MEDIA_HLS: "false",
      MEDIA_WORKERS: "1",
      MEDIA_HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
      MEDIA_HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
      MEDIA_HTTP_KEEPALIVE_TIMEOUT_MS: String(KEEPALIVE_MS),
    });
    port = Number(new URL(s.tier.url).port);
  });
  afterAll(async () => {
    for (const x of open) x.stop();
    await s?.stop();
  });

  const allClosed = (list: SlowSocket[]) => list.every((x) => x.closedAt !== undefined);

  it("closes sockets trickling their headers byte by byte within the headers timeout, and keeps serving", async () => {
    const slow = Array.from({ length: 6 }, () =>
      slowSocket(port, "GET /healthz HTTP/1.1\r\nHost: media\r\n", "X-Slow-Header: aaaaaaaa\r\n"),
    );
    open.push(...slow);
    // Served while the slow sockets hang on.
    expect((await fetch(`${s.tier.url}/healthz`)).status).toBe(200);
    await waitFor("slowloris sockets closed", () => allClosed(slow), Boolean, HEADERS_MS + SLACK_MS, 50);
    for (const x of slow) {
      const lived = (x.closedAt as number) - x.openedAt;
      // Closed by the timeout, not for anything sooner: each lived at least the headers timeout.
      expect(lived).toBeGreaterThanOrEqual(HEADERS_MS - 100);
      expect(x.received).toMatch(/^HTTP\/1\.1 408/);
    }
    expect((await fetch(`${s.tier.url}/healthz`)).status).toBe(200);
  });

  it("closes a socket trickling its body after complete headers within the request timeout", async () => {
    const head =
      "POST /media/v1/rooms/r/transports HTTP/1.1\r\nHost: media\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n";
    const slow = [slowSocket(port, head, " ")];
    open.push(...slow);
    await waitFor("body-trickling socket closed", () => allClosed(slow), Boolean, REQUEST_MS + SLACK_MS, 50);
    expect((slow[0]?.closedAt as number) - (slow[0]?.openedAt as number)).toBeGreaterThanOrEqual(
      REQUEST_MS - 100,
    );
  });

  it("closes an idle keep-alive socket after the keep-alive timeout", async () => {
    const idle = slowSocket(port, "GET /healthz HTTP/1.1\r\nHost: media\r\n\r\n", "");
    open.push(idle);
    await waitFor(
      "idle keep-alive socket closed",
      () => allClosed([idle]),
      Boolean,
      KEEPALIVE_MS + SLACK_MS,
      50,
    );
    expect(idle.received).toMatch(/^HTTP\/1\.1 200/);
  });

  it("an event stream outlives the request timeout (its request is complete; only its response lasts)", async () => {
    const viewer = await s.token("sse-viewer");
    const res = await fetch(`${s.tier.url}/media/v1/rooms/sse-long/events?token=${viewer}`);
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let ended = false;
    const drain = (async () => {
      for (;;) {
        const { done } = await reader.read();
        if (done) break;
      }
      ended = true;
    })().catch(() => {
      ended = true;
    });
    const until = Date.now() + REQUEST_MS + SLACK_MS / 2;
    while (Date.now() < until && !ended) await new Promise((r) => setTimeout(r, 100));
    expect(ended).toBe(false);
    await reader.cancel();
    await drain;
  });
});
