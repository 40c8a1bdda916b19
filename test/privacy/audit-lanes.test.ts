import { describe, expect, it } from "vitest";
import { GatewayServer } from "../../gateway/index.ts";
import { Checkout, OrderStore, SandboxPaymentProvider } from "../../orders/index.ts";
import { useGatewayStack } from "../harness/gateway.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition } from "../sale-engine/fixtures.ts";

const g = useGatewayStack({ shadow: true });

async function call(base: string, method: string, url: string, token: string, body?: unknown) {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("audit rows go to the caller's lane, and a failed write fails the call", () => {
  it("a shadow host's drop changes are written to the shadow lane's audit log, not the live one", async () => {
    const room = "audit-shadow";
    const admin = await g().token("admin-lanes", "admin");
    const minted = await call(g().server.url, "POST", "/api/v1/admin/shadow/tokens", admin, {
      role: "host",
      count: 1,
      rooms: [room],
    });
    const [shadowHost] = minted.body.tokens as string[];
    const def = dropDefinition({ roomId: room, startsAt: Date.now() + 3_600_000 });
    const { dropId, roomId: _r, ...fields } = def;
    expect(
      (
        await call(g().server.url, "POST", `/api/v1/rooms/${room}/drops`, shadowHost as string, {
          ...fields,
          dropId,
        })
      ).status,
    ).toBe(201);
    expect(
      (await call(g().server.url, "POST", `/api/v1/drops/${dropId}/launch`, shadowHost as string)).status,
    ).toBe(200);
    const shadowStore = g().options.shadow?.store;
    if (!shadowStore) throw new Error("the stack has no shadow lane");
    const rows = await shadowStore.audit({ target: dropId });
    expect(rows.map((r) => [r.action, r.lane, r.actorRole, r.outcome])).toEqual([
      ["drop.launch", "shadow", "host", "ok"],
      ["drop.create", "shadow", "host", "ok"],
    ]);
    expect(await g().stack.store.audit({ target: dropId })).toEqual([]);
    // The minting itself is an admin action of the live lane; the tokens are not in it.
    const mint = (await g().stack.store.audit({ action: "admin.shadow.tokens", actor: "admin-lanes" }))[0];
    expect(mint).toMatchObject({
      lane: "live",
      outcome: "ok",
      details: { role: "host", count: 1, rooms: [room] },
    });
    expect(JSON.stringify(mint)).not.toContain(shadowHost as string);
  });

  it("when the audit row cannot be written, HTTP answers 500 and the WebSocket ack is refused INTERNAL", async () => {
    const room = "audit-broken";
    const defs = [
      dropDefinition({ roomId: room, startsAt: Date.now() + 3_600_000 }),
      dropDefinition({ roomId: room }),
    ];
    for (const d of defs) await g().stack.engine.createDrop(d);
    // A gateway whose order store is closed: every audit write fails.
    const pgUrl = g().stack.env.DATABASE_URL as string;
    const closed = await OrderStore.open({ kind: "pg", url: pgUrl });
    await closed.close();
    const engine = g().stack.engine;
    const checkout = new Checkout({
      engine,
      store: closed,
      payments: SandboxPaymentProvider.inRedis(engine.connection, engine.keys.prefix),
      redis: engine.connection,
      keyPrefix: engine.keys.prefix,
    });
    const { shadow: _s, ...options } = g().options;
    const broken = await GatewayServer.create({ ...options, port: 0, store: closed, checkout });
    try {
      const host = await g().token("host-broken", "host", [room]);
      const res = await call(broken.url, "POST", `/api/v1/drops/${defs[0]?.dropId}/launch`, host);
      expect(res).toMatchObject({ status: 500, body: { error: { code: "INTERNAL" } } });
      const s = await TestSocket.connect(broken.url, host);
      try {
        s.send({ t: "join", room });
        await s.next((f) => f.t === "joined");
        s.send({
          t: "host",
          reqId: "p1",
          room,
          action: { kind: "pause", dropId: defs[1]?.dropId as string },
        });
        expect(await s.next((f) => f.t === "ack" && f.reqId === "p1")).toMatchObject({
          ok: false,
          code: "INTERNAL",
        });
      } finally {
        s.close();
      }
    } finally {
      await broken.close();
    }
  });
});
