import { describe, expect, it } from "vitest";
import type { ServerFrame, ServerFrameOf } from "../../protocol/index.ts";
import { useGatewayStack } from "../harness/gateway.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

const g = useGatewayStack();

type Ack = ServerFrameOf<"ack">;
type DropFrame = ServerFrameOf<"drop">;

async function joined(token: string, room: string): Promise<TestSocket> {
  const socket = await TestSocket.connect(g().server.url, token);
  socket.send({ t: "join", room });
  await socket.next((f) => f.t === "joined" && f.room === room);
  return socket;
}

async function post(path: string, token: string, body?: unknown) {
  const res = await fetch(`${g().server.url}${path}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

function ackOf(s: TestSocket, frame: ServerFrame | Record<string, unknown>, reqId: string): Promise<Ack> {
  s.send(frame as Record<string, unknown>);
  return s.next<Ack>((f) => f.t === "ack" && f.reqId === reqId);
}

describe("buy-it-now pins through the gateway", () => {
  it("a host pins over WebSocket and unpins over HTTP; viewers see each as a drop frame and buy only while pinned", async () => {
    const room = "pin-room";
    const def = dropDefinition({ roomId: room, format: "buy_now", initialStock: 3, perUserLimit: 1 });
    await g().stack.engine.createDrop(def);
    const hostToken = await g().token("pin-host", "host", [room]);
    const host = await joined(hostToken, room);
    const viewer = await joined(await g().token("pin-viewer"), room);
    const buy = (reqId: string) => ({ t: "buy", reqId, dropId: def.dropId, qty: 1, idempotencyKey: key() });

    expect(await ackOf(viewer, buy("v1"), "v1")).toMatchObject({ ok: false, code: "NOT_PINNED" });

    const pin = { t: "host", reqId: "h1", room, action: { kind: "pin", dropId: def.dropId } };
    expect(await ackOf(host, pin, "h1")).toMatchObject({
      ok: true,
      result: { kind: "pin", dropId: def.dropId, pinned: true, changed: true },
    });
    const pinned = await viewer.next<DropFrame>(
      (f) => f.t === "drop" && f.drop.dropId === def.dropId && f.drop.pinned === true,
    );
    expect(pinned.drop).toMatchObject({ format: "buy_now", state: "live", available: 3 });
    expect(await ackOf(viewer, buy("v2"), "v2")).toMatchObject({ ok: true, result: { kind: "buy" } });
    // Pinning a pinned drop changes nothing.
    const again = { ...pin, reqId: "h2" };
    expect(await ackOf(host, again, "h2")).toMatchObject({ ok: true, result: { changed: false } });

    const unpinned = await post(`/api/v1/drops/${def.dropId}/unpin`, hostToken);
    expect(unpinned).toEqual({ status: 200, json: { dropId: def.dropId, pinned: false, changed: true } });
    await viewer.next<DropFrame>(
      (f) => f.t === "drop" && f.drop.dropId === def.dropId && f.drop.pinned === false,
    );
    const refused = await post(`/api/v1/drops/${def.dropId}/buy`, await g().token("pin-buyer"), {
      qty: 1,
      idempotencyKey: key(),
    });
    expect(refused.status).toBe(409);
    expect(refused.json).toMatchObject({ error: { code: "NOT_PINNED" } });
    host.close();
    viewer.close();
  });

  it("only a host of the drop's room pins, and only a buy-it-now drop", async () => {
    const room = "pin-room-2";
    const def = dropDefinition({ roomId: room, format: "buy_now" });
    const timed = dropDefinition({ roomId: room });
    await g().stack.engine.createDrop(def);
    await g().stack.engine.createDrop(timed);
    const elsewhere = await g().token("pin-host-elsewhere", "host", ["another-room"]);
    expect((await post(`/api/v1/drops/${def.dropId}/pin`, elsewhere)).status).toBe(403);
    const host = await g().token("pin-host-2", "host", [room]);
    const wrong = await post(`/api/v1/drops/${timed.dropId}/pin`, host);
    expect(wrong.status).toBe(400);
    expect(wrong.json).toMatchObject({ error: { code: "INVALID_INPUT" } });
    expect(await post(`/api/v1/drops/${def.dropId}/pin`, host)).toEqual({
      status: 200,
      json: { dropId: def.dropId, pinned: true, changed: true },
    });
  });
});
