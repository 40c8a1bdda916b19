import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { Recorder } from "../../loadtest/driver/recorder.ts";
import { frames } from "../../loadtest/lib/frames.ts";
import { type Runtime, Session } from "../../loadtest/lib/session.ts";
import { closeIfOpen, type StatefulSocket, sendIfOpen } from "../../loadtest/lib/socket-send.ts";

/**
 * Every load-test send goes through sendIfOpen, so a frame sent to a socket that closed (the
 * server hung up, the VU's timer fired before the close event) is dropped and counted instead of
 * throwing. Real `ws` sockets against a real server here; k6's socket, which cannot run on these
 * machines, is stood in for by one that throws as k6/websockets documents (InvalidStateError).
 */

const runtime: Runtime = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

let server: WebSocketServer;
let url = "";
const received: string[] = [];

beforeAll(async () => {
  server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  server.on("connection", (ws) => ws.on("message", (d) => received.push(d.toString())));
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const c of server.clients) c.terminate();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const opened = (ws: WebSocket) => new Promise<void>((resolve) => ws.once("open", () => resolve()));
const closed = (ws: WebSocket) => new Promise<void>((resolve) => ws.once("close", () => resolve()));

/** Polls until `cond` holds (bounded). */
async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** k6/websockets' behaviour: send on a socket that is not OPEN throws InvalidStateError. */
class K6LikeSocket implements StatefulSocket {
  readyState = 3;
  sent: string[] = [];
  send(text: string): void {
    if (this.readyState !== 1) throw new Error("InvalidStateError: the socket is not open");
    this.sent.push(text);
  }
  close(): void {
    if (this.readyState === 3) throw new Error("InvalidStateError: already closed");
    this.readyState = 3;
  }
}

describe("sending on load-test sockets", () => {
  it("sendIfOpen sends on an open socket and answers false, without throwing, before open and after close", async () => {
    const ws = new WebSocket(url);
    const gone = closed(ws);
    // `ws` itself throws when sent to while connecting.
    expect(() => ws.send("raw")).toThrow();
    expect(sendIfOpen(ws, "early")).toBe(false);
    await opened(ws);
    expect(sendIfOpen(ws, "hello")).toBe(true);
    await until(() => received.includes("hello"));
    closeIfOpen(ws);
    expect(sendIfOpen(ws, "while closing")).toBe(false);
    await gone;
    expect(sendIfOpen(ws, "after close")).toBe(false);
    expect(() => closeIfOpen(ws)).not.toThrow();
    expect(received).not.toContain("early");
    expect(received).not.toContain("while closing");
  });

  it("sendIfOpen and closeIfOpen never throw on a socket that throws InvalidStateError (k6)", () => {
    const k6 = new K6LikeSocket();
    expect(() => k6.send("x")).toThrow(/InvalidStateError/);
    expect(sendIfOpen(k6, "x")).toBe(false);
    expect(() => closeIfOpen(k6)).not.toThrow();
    k6.readyState = 1;
    expect(sendIfOpen(k6, "y")).toBe(true);
    expect(k6.sent).toEqual(["y"]);
  });

  it("a session whose server hung up counts the frames it could not send instead of throwing", async () => {
    const recorder = new Recorder();
    const ws = new WebSocket(url);
    const session = new Session(
      { send: (text) => sendIfOpen(ws, text), close: () => closeIfOpen(ws) },
      runtime,
      recorder,
      Date.now(),
      "t",
    );
    const gone = closed(ws);
    await opened(ws);
    session.send(frames.join("r1"));
    await until(() => received.some((r) => r.includes('"join"')));
    // The server closes the socket; the session's timer fires before it has heard of it.
    for (const c of server.clients) c.close(1001, "going away");
    await until(() => ws.readyState !== WebSocket.OPEN);
    expect(() => session.send(frames.chat("r1", "too late", "m1"))).not.toThrow();
    expect(recorder.summarize(1, {}).ws_sends_dropped?.values.count).toBe(1);
    await gone;
  });
});
