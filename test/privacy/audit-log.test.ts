import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { auditOf, type Command } from "../../gateway/commands/command.ts";
import * as commands from "../../gateway/commands/index.ts";
import {
  appendAudit,
  migrate,
  PgClient,
  PgliteClient,
  type SqlClient,
  sqlState,
} from "../../orders/index.ts";
import type { AuditEntry } from "../../protocol/index.ts";
import { useGatewayStack } from "../harness/gateway.ts";
import { startPrivatePostgres } from "../harness/postgres.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition } from "../sale-engine/fixtures.ts";

const g = useGatewayStack();
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Polls until the audit log holds an entry matching `pred`, or fails after `timeoutMs`. */
async function auditEntry(pred: (e: AuditEntry) => boolean, timeoutMs = 10_000): Promise<AuditEntry> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const hit = (await g().stack.store.audit({ limit: 500 })).find(pred);
    if (hit) return hit;
    if (Date.now() > until) throw new Error("no such audit entry");
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function call(
  method: string,
  url: string,
  token: string | undefined,
  body?: unknown,
): Promise<Response> {
  return fetch(`${g().server.url}${url}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

async function refusedChange(db: SqlClient, sql: string): Promise<string | undefined> {
  try {
    await db.query(sql);
    return undefined;
  } catch (err) {
    return sqlState(err);
  }
}

describe("audit log is append-only in the database", () => {
  const check = async (db: SqlClient) => {
    await migrate(db);
    const row = await appendAudit(db, {
      actor: "admin-1",
      actorRole: "admin",
      lane: "live",
      action: "drop.launch",
      target: "drop-a",
      details: { dropId: "drop-a", token: "must-not-be-kept", nested: { authorization: "x", n: 1 } },
      outcome: "ok",
    });
    expect(row.details).toEqual({ dropId: "drop-a", nested: { n: 1 } });
    for (const sql of [
      "UPDATE audit_log SET outcome = 'FORGED'",
      "DELETE FROM audit_log",
      "TRUNCATE audit_log",
    ])
      expect(await refusedChange(db, sql), sql).toBe("42501");
    const [kept] = await db.query<{ outcome: string; n: number | string }>(
      "SELECT min(outcome) AS outcome, count(*) AS n FROM audit_log",
    );
    expect(kept).toEqual({ outcome: "ok", n: expect.anything() });
    expect(Number(kept?.n)).toBe(1);
  };

  it("PGlite refuses UPDATE, DELETE and TRUNCATE of audit rows", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-audit-"));
    dirs.push(dir);
    const db = await PgliteClient.open(dir);
    try {
      await check(db);
    } finally {
      await db.close();
    }
  }, 60_000);

  it("PostgreSQL refuses UPDATE, DELETE and TRUNCATE of audit rows", async () => {
    const pg = await startPrivatePostgres();
    const db = await PgClient.open(pg.url);
    try {
      await check(db);
    } finally {
      await db.close();
      await pg.stop();
    }
  }, 60_000);
});

describe("every host, moderator and admin action is audited", () => {
  it("the command table: each command whose access is host, moderator or admin is audited", () => {
    const exported: unknown[] = [...Object.values(commands), ...Object.values(commands.DROP_CONTROLS)];
    const table = exported.filter(
      (v): v is Command<unknown, unknown> =>
        typeof v === "object" && v !== null && "run" in v && "access" in v,
    );
    const names = [...new Set(table.map((c) => c.name))].sort();
    expect(names).toEqual(
      [
        "auction.open",
        "bid",
        "buy",
        "chat.moderate",
        "chat.post",
        "coupon.claim",
        "coupon.list",
        "coupon.pin",
        "coupon.unpin",
        "drop.create",
        "drop.end",
        "drop.launch",
        "drop.pause",
        "drop.pin",
        "drop.restock",
        "drop.resume",
        "drop.unpin",
        "order.pay",
        "waitlist",
      ].sort(),
    );
    for (const c of table) {
      const privileged = !["anyone", "signed-in"].includes(c.access.who);
      expect(auditOf(c) !== undefined, c.name).toBe(privileged);
    }
  });

  it("the route table: each host, moderator or admin route that changes something is audited, and so are the privacy reads", () => {
    const rules = g().server.routeTable;
    for (const r of rules) {
      const privileged = !["anyone", "signed-in"].includes(r.who);
      if (privileged && r.method !== "GET") expect(r.audited, `${r.method} ${r.pattern}`).toBe(true);
      if (!privileged) expect(r.audited, `${r.method} ${r.pattern}`).toBe(false);
    }
    const audited = rules.filter((r) => r.audited).map((r) => r.name);
    expect(audited).toEqual(
      expect.arrayContaining(["user.export", "user.erase", "audit.read", "admin.shadow.set"]),
    );
  });

  it("HTTP drop controls and the shadow switch write who, what, when and the outcome", async () => {
    const room = "audit-http";
    const host = await g().token("host-h", "host", [room]);
    const admin = await g().token("admin-h", "admin");
    const def = dropDefinition({ roomId: room, startsAt: Date.now() + 3_600_000 });
    const { dropId, roomId: _r, ...body } = def;
    const before = Date.now();
    expect((await call("POST", `/api/v1/rooms/${room}/drops`, host, { ...body, dropId })).status).toBe(201);
    expect((await call("POST", `/api/v1/drops/${dropId}/launch`, host)).status).toBe(200);
    expect((await call("POST", `/api/v1/drops/${dropId}/restock`, host, { qty: 3 })).status).toBe(200);
    expect((await call("PUT", "/api/v1/admin/shadow", admin, { enabled: false })).status).toBe(200);
    const created = await auditEntry((e) => e.action === "drop.create" && e.target === dropId);
    expect(created).toMatchObject({ actor: "host-h", actorRole: "host", lane: "live", outcome: "ok" });
    expect(created.at).toBeGreaterThanOrEqual(before - 1_000);
    expect(await auditEntry((e) => e.action === "drop.launch" && e.target === dropId)).toMatchObject({
      actor: "host-h",
      outcome: "ok",
    });
    expect(await auditEntry((e) => e.action === "drop.restock" && e.target === dropId)).toMatchObject({
      details: { dropId, qty: 3 },
      outcome: "ok",
    });
    expect(await auditEntry((e) => e.action === "admin.shadow.set" && e.actor === "admin-h")).toMatchObject({
      details: { enabled: false },
      outcome: "ok",
      target: null,
    });
  });

  it("a refused host is recorded with the refusal's code; a refused viewer is not", async () => {
    const room = "audit-refused";
    const def = dropDefinition({ roomId: room });
    await g().stack.engine.createDrop(def);
    const elsewhere = await g().token("host-elsewhere", "host", ["some-other-room"]);
    const viewer = await g().token("viewer-v", "viewer");
    expect((await call("POST", `/api/v1/drops/${def.dropId}/pause`, elsewhere)).status).toBe(403);
    expect((await call("POST", `/api/v1/drops/${def.dropId}/pause`, viewer)).status).toBe(403);
    expect(
      await auditEntry(
        (e) => e.action === "drop.pause" && e.actor === "host-elsewhere" && e.target === def.dropId,
      ),
    ).toMatchObject({ outcome: "FORBIDDEN" });
    // Admin routes: the role rule and the body rule refuse before the handler, and are written too.
    const admin = await g().token("admin-refused", "admin");
    expect((await call("PUT", "/api/v1/admin/shadow", elsewhere, { enabled: true })).status).toBe(403);
    expect((await call("PUT", "/api/v1/admin/shadow", viewer, { enabled: true })).status).toBe(403);
    expect((await call("PUT", "/api/v1/admin/shadow", admin, { enabled: "yes" })).status).toBe(400);
    expect(
      await auditEntry((e) => e.action === "admin.shadow.set" && e.actor === "host-elsewhere"),
    ).toMatchObject({ outcome: "FORBIDDEN", details: {} });
    expect(
      await auditEntry((e) => e.action === "admin.shadow.set" && e.actor === "admin-refused"),
    ).toMatchObject({ outcome: "INVALID_INPUT", actorRole: "admin" });
    const all = await g().stack.store.audit({ actor: "viewer-v" });
    expect(all).toEqual([]);
  });

  it("WebSocket host and moderation frames are audited by the same rule", async () => {
    const room = "audit-ws";
    const def = dropDefinition({ roomId: room, startsAt: Date.now() + 3_600_000 });
    await g().stack.engine.createDrop(def);
    const s = await TestSocket.connect(g().server.url, await g().token("host-ws", "host", [room]));
    try {
      s.send({ t: "join", room });
      await s.next((f) => f.t === "joined");
      s.send({ t: "host", reqId: "h1", room, action: { kind: "launch", dropId: def.dropId } });
      expect(await s.next((f) => f.t === "ack" && f.reqId === "h1")).toMatchObject({ ok: true });
      s.send({ t: "moderation", reqId: "m1", room, action: { kind: "slowmode", seconds: 5 } });
      expect(await s.next((f) => f.t === "ack" && f.reqId === "m1")).toMatchObject({ ok: true });
    } finally {
      s.close();
    }
    expect(await auditEntry((e) => e.action === "drop.launch" && e.actor === "host-ws")).toMatchObject({
      target: def.dropId,
      details: { dropId: def.dropId, room },
      outcome: "ok",
    });
    expect(await auditEntry((e) => e.action === "chat.moderate" && e.actor === "host-ws")).toMatchObject({
      target: room,
      details: { room, action: { kind: "slowmode", seconds: 5 } },
      outcome: "ok",
    });
  });
});
