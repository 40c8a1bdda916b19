import { createHash } from "node:crypto";
import net from "node:net";
import { describe, expect, it } from "vitest";
import { GatewayServer } from "../../gateway/index.ts";
import { CloseCode, type ServerFrame } from "../../protocol/index.ts";
import { useGatewayStack } from "../harness/gateway.ts";
import { TestSocket } from "../harness/ws-client.ts";

const g = useGatewayStack();

/** One text frame, unmasked (server to client), payload under 126 bytes. */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  return Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
}

/**
 * A bare TCP server that accepts the upgrade, sends a welcome and then `after` (raw bytes), the
 * way a broken peer would: the client sees the welcome, then its connection end with 1006.
 */
async function brokenPeer(after: Buffer): Promise<{ url: string; close: () => void }> {
  const server = net.createServer((socket) => {
    socket.once("data", (request) => {
      const key = /sec-websocket-key: *(\S+)/i.exec(request.toString())?.[1] ?? "";
      const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
      const welcome = { t: "welcome", v: 1, serverTime: 0, connId: "c", userId: "u", role: "viewer" };
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      socket.write(Buffer.concat([textFrame(JSON.stringify(welcome)), after]));
    });
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

describe("WebSocket open and close", () => {
  it("a burst of sockets that join rooms right after their welcome: every join answered, none closed", async () => {
    const rooms = ["burst-a", "burst-b", "burst-c"];
    const sockets = await Promise.all(
      Array.from({ length: 250 }, async (_, i) => {
        const s = await TestSocket.connect(g().server.url, await g().token(`burst-${i}`));
        for (const room of rooms) s.send({ t: "join", room });
        // next() rejects at once if the socket closes first, with its close code in the message.
        for (const room of rooms) await s.next((f) => f.t === "joined" && f.room === room);
        return s;
      }),
    );
    for (const s of sockets) {
      expect(s.frames[0]?.t).toBe("welcome");
      expect(s.ws.readyState).toBe(s.ws.OPEN);
    }
    for (const s of sockets) s.close();
    await Promise.all(sockets.map((s) => s.closed));
  });

  it("next() rejects as soon as the server closes the socket, with the close code and reason", async () => {
    const node = await GatewayServer.create({ ...g().options, port: 0 });
    let socket: TestSocket | undefined;
    try {
      socket = await TestSocket.connect(node.url, await g().token("closed-early"));
      const waiting = socket.next((f) => f.t === "joined", 60_000);
      await node.close();
      await expect(waiting).rejects.toThrow(
        `socket closed with ${CloseCode.SERVER_SHUTDOWN} "server shutting down" before a matching frame arrived; got welcome,pong`,
      );
      // After the close: a frame received before it is still found; any other is refused at once.
      expect((await socket.next((f) => f.t === "welcome")).t).toBe("welcome");
      await expect(socket.next((f) => f.t === "resumed", 60_000)).rejects.toThrow(
        `socket closed with ${CloseCode.SERVER_SHUTDOWN}`,
      );
    } finally {
      socket?.close();
      await node.close();
    }
  });

  it("an upgrade that says Connection: close is refused with 400 (uWS would drop it after its 101); Connection: Upgrade is served", async () => {
    const token = await g().token("conn-header");
    const upgrade = (connection: string) =>
      new Promise<string>((resolve) => {
        const s = net.connect(g().server.port, "127.0.0.1", () =>
          s.write(
            `GET /ws?token=${token} HTTP/1.1\r\nHost: x\r\nConnection: ${connection}\r\nUpgrade: websocket\r\n` +
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
          ),
        );
        let data = "";
        s.on("data", (d) => {
          data += d.toString("latin1");
          // Upgraded and welcomed: the socket is alive; hang up ourselves.
          if (data.includes('"t":"welcome"')) setTimeout(() => s.destroy(), 200);
        });
        s.on("close", () => resolve(data));
      });
    for (let i = 0; i < 5; i++) {
      const refused = await upgrade("close");
      expect(refused).toMatch(/^HTTP\/1\.1 400/);
      expect(refused).toContain("BAD_REQUEST");
    }
    const served = await upgrade("keep-alive, Upgrade");
    expect(served).toMatch(/^HTTP\/1\.1 101/);
    expect(served).toContain('"t":"welcome"');
  });

  it("a frame the client cannot parse closes it with 1006, and next() says which error", async () => {
    // 0x48 is how "HTTP/1.1 …" starts: RSV1 set without a negotiated extension.
    const peer = await brokenPeer(Buffer.from("HTTP/1.1 101 Switching Protocols\r\n\r\n"));
    try {
      const socket = await TestSocket.welcomed(peer.url, "any");
      const waiting = socket.next((f: ServerFrame) => f.t === "joined", 60_000);
      await expect(waiting).rejects.toThrow(
        /socket closed with 1006 \(no close frame\).*client error: .*RSV1/,
      );
      expect((await socket.closed).code).toBe(1006);
    } finally {
      peer.close();
    }
  });
});
