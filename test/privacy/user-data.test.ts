import { describe, expect, it } from "vitest";
import { SandboxToken } from "../../orders/index.ts";
import {
  decodeRoomLogEntry,
  type ServerFrame,
  type UserErase,
  type UserExport,
} from "../../protocol/index.ts";
import { dropCreateArgs, livedrop } from "../harness/cli.ts";
import { useGatewayStack } from "../harness/gateway.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

const g = useGatewayStack();
const ROOM = "privacy-room";
const BUYER = "buyer-privacy-7q";
const NAME = "Zelda Quixote";

async function api(method: string, url: string, token: string, body?: unknown): Promise<Response> {
  return fetch(`${g().server.url}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

async function joined(token: string): Promise<TestSocket> {
  const s = await TestSocket.connect(g().server.url, token);
  s.send({ t: "join", room: ROOM });
  await s.next((f) => f.t === "joined");
  return s;
}

/** Every entry of the room log, decoded. */
async function roomLog(): Promise<{ id: string; json: string }[]> {
  const client = g().options.redis;
  const entries = await client.xrange(`${g().options.keyPrefix}:room:{${ROOM}}:log`, "-", "+");
  return entries.map(([id, fields]) => ({ id, json: fields[1] ?? "" }));
}

describe("export and erase one user's personal data", () => {
  it("exports orders, payments and chat; erase pseudonymises the money record and tombstones the chat, idempotently", async () => {
    const stack = g();
    const buyerToken = await stack.tokens.issue({
      userId: BUYER,
      role: "viewer",
      name: NAME,
      ttlSeconds: 3600,
    });
    const admin = await stack.token("admin-privacy", "admin");
    const moderator = await stack.token("mod-privacy", "moderator", [ROOM]);
    const other = await stack.token("other-viewer");
    const def = dropDefinition({ roomId: ROOM, initialStock: 5 });
    await stack.stack.engine.createDrop(def);

    const buyer = await joined(buyerToken);
    const bystander = await joined(other);
    const mod = await joined(moderator);
    try {
      buyer.send({ t: "chat", room: ROOM, text: "first words of zelda", clientMsgId: "b1" });
      await buyer.next((f) => f.t === "chat" && f.messages.some((m) => m.text === "first words of zelda"));
      // Past the chat rate limit's burst is not needed: two messages fit.
      buyer.send({ t: "chat", room: ROOM, text: "second words of zelda", clientMsgId: "b2" });
      await buyer.next((f) => f.t === "chat" && f.messages.some((m) => m.text === "second words of zelda"));
      bystander.send({ t: "chat", room: ROOM, text: "a bystander speaks", clientMsgId: "o1" });
      await bystander.next((f) => f.t === "chat" && f.messages.some((m) => m.text === "a bystander speaks"));
      mod.send({
        t: "moderation",
        reqId: "m1",
        room: ROOM,
        action: { kind: "timeout", userId: BUYER, seconds: 1 },
      });
      expect(await mod.next((f) => f.t === "ack" && f.reqId === "m1")).toMatchObject({ ok: true });

      const buy = await api("POST", `/api/v1/drops/${def.dropId}/buy`, buyerToken, {
        qty: 1,
        idempotencyKey: key(),
      });
      expect(buy.status).toBe(201);
      const { reservationId } = (await buy.json()) as { reservationId: string };
      await expect
        .poll(async () => (await stack.stack.store.get(reservationId))?.status, { timeout: 15_000 })
        .toBe("pending_payment");
      const paid = await api("POST", `/api/v1/orders/${reservationId}/pay`, buyerToken, {
        token: SandboxToken.success,
        idempotencyKey: key(),
      });
      expect(paid.status).toBe(200);

      // The room log carries the hold's events too (with the buyer's user id).
      await expect
        .poll(async () => (await roomLog()).filter((e) => e.json.includes('"reservation.')).length, {
          timeout: 15_000,
        })
        .toBeGreaterThanOrEqual(2);
      const exported = await api("GET", `/api/v1/admin/users/${BUYER}/export`, admin);
      expect(exported.status).toBe(200);
      const data = (await exported.json()) as UserExport;
      expect(data.userId).toBe(BUYER);
      expect(data.orders).toEqual([
        expect.objectContaining({ reservationId, status: "paid", totalMinor: 12_900 }),
      ]);
      expect(data.paymentAttempts.map((a) => a.status)).toEqual(["succeeded"]);
      expect(data.saleHolds).toEqual([{ dropId: def.dropId, reservationId, qty: 1, status: "confirmed" }]);
      expect(data.chatMessages.map((m) => [m.name, m.text])).toEqual([
        [NAME, "first words of zelda"],
        [NAME, "second words of zelda"],
      ]);

      const erased = await api("POST", `/api/v1/admin/users/${BUYER}/erase`, admin);
      expect(erased.status).toBe(200);
      const done = (await erased.json()) as UserErase;
      expect(done).toMatchObject({
        userId: BUYER,
        orders: 1,
        paymentAttempts: 1,
        chatMessages: 2,
        moderationEntries: 1,
        rooms: 1,
      });
      // placed and confirmed at least (the room appender logs every event of the drop).
      expect(done.reservationEntries).toBeGreaterThanOrEqual(2);
      // The sale engine's record of the sold unit is the pseudonym's now; the drop is still
      // active, so its log's placed and confirmed events are reported, not deleted.
      expect(done).toMatchObject({ saleRecords: 1, saleHoldsReleased: 0, saleEventEntries: 0 });
      expect(done.saleEventsPending).toBeGreaterThanOrEqual(2);
      expect(await stack.stack.engine.reservation(reservationId)).toMatchObject({
        userId: done.pseudonym,
        status: "confirmed",
      });
      expect(done.pseudonym).toMatch(/^erased-[0-9a-f]{24}$/);

      // Live clients hear a delete notice for each of the buyer's messages.
      const messageIds = data.chatMessages.map((m) => m.id).sort();
      const deletes = (s: TestSocket) =>
        s.frames
          .filter((f): f is Extract<ServerFrame, { t: "moderation" }> => f.t === "moderation")
          .flatMap((f) => (f.action.kind === "delete" ? [f.action.messageId] : []))
          .sort();
      await expect.poll(() => deletes(bystander), { timeout: 10_000 }).toEqual(messageIds);

      // The room log names them no more; the bystander's message stays.
      const log = await roomLog();
      expect(log.some((e) => e.json.includes(BUYER) || e.json.includes(NAME))).toBe(false);
      expect(log.some((e) => e.json.includes("a bystander speaks"))).toBe(true);
      const notices = log.flatMap((e) => {
        const d = decodeRoomLogEntry(e.json);
        return d.ok && d.value.type === "chat.moderation" && d.value.action.kind === "delete"
          ? [d.value.action.messageId]
          : [];
      });
      expect(notices.sort()).toEqual(messageIds);

      // The money record is kept, under the pseudonym.
      const order = await stack.stack.store.get(reservationId);
      expect(order).toMatchObject({ userId: done.pseudonym, status: "paid", totalMinor: 12_900 });
      expect((await stack.stack.store.paymentAttempts(reservationId)).map((a) => a.userId)).toEqual([
        done.pseudonym,
      ]);

      // Twice: the same result, nothing changed the second time.
      const again = (await (
        await api("POST", `/api/v1/admin/users/${BUYER}/erase`, admin)
      ).json()) as UserErase;
      expect(again).toEqual({
        ...done,
        orders: 0,
        paymentAttempts: 0,
        chatMessages: 0,
        moderationEntries: 0,
        reservationEntries: 0,
        rooms: 0,
        saleRecords: 0,
        // What is left is reported again; the order relay may have moved an outbox entry meanwhile.
        saleEventsPending: expect.any(Number),
      });
      expect(again.saleEventsPending).toBeLessThanOrEqual(done.saleEventsPending);
      const after = (await (
        await api("GET", `/api/v1/admin/users/${BUYER}/export`, admin)
      ).json()) as UserExport;
      expect(after).toMatchObject({ orders: [], paymentAttempts: [], chatMessages: [], saleHolds: [] });

      const audit = await stack.stack.store.audit({ target: BUYER });
      expect(audit.map((e) => [e.action, e.actor, e.outcome])).toEqual(
        [
          ["user.export", "admin-privacy", "ok"],
          ["user.erase", "admin-privacy", "ok"],
          ["user.erase", "admin-privacy", "ok"],
          ["user.export", "admin-privacy", "ok"],
        ].reverse(),
      );
    } finally {
      for (const s of [buyer, bystander, mod]) s.close();
    }
  }, 60_000);

  it("the CLI erases and exports too, both audited, and `livedrop audit` reads the log back", async () => {
    const env = { ...g().stack.env, GATEWAY_TOKEN_SECRET: "s".repeat(48), LOG_LEVEL: "silent" };
    const user = "cli-erased-user";
    const pseudonym = await g().tokens.pseudonym(user);
    const erase = await livedrop(["users", "erase", user, "--json"], env);
    expect(erase.code, erase.stderr).toBe(0);
    expect(JSON.parse(erase.stdout)).toMatchObject({
      userId: user,
      pseudonym,
      orders: 0,
      chatMessages: 0,
      saleRecords: 0,
      saleEventsPending: 0,
    });
    const exp = await livedrop(["users", "export", user, "--json"], env);
    expect(exp.code, exp.stderr).toBe(0);
    expect(JSON.parse(exp.stdout)).toMatchObject({
      userId: user,
      orders: [],
      chatMessages: [],
      saleHolds: [],
    });

    const read = await livedrop(["audit", "--target", user, "--json"], env);
    expect(read.code, read.stderr).toBe(0);
    const entries = JSON.parse(read.stdout) as {
      action: string;
      actor: string;
      actorRole: string;
      outcome: string;
    }[];
    expect(entries.map((e) => e.action)).toEqual(["user.export", "user.erase"]);
    for (const e of entries)
      expect(e).toMatchObject({ actorRole: "cli", outcome: "ok", actor: expect.stringMatching(/^cli:/) });

    const human = await livedrop(["audit", "--action", "user.erase", "--limit", "1"], env);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain("user.erase");
    expect(human.stdout).toContain(user);
    const bad = await livedrop(["audit", "--limit", "many", "--json"], env);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toMatchObject({ error: { code: "INVALID_INPUT" } });
    const badUser = await livedrop(["users", "erase", "not a user!", "--json"], env);
    expect(badUser.code).toBe(2);

    // Drop changes from the CLI are written too, refusals included.
    const dropId = `cli-audit-${key().slice(0, 8)}`;
    expect((await livedrop(dropCreateArgs(dropId), env)).code).toBe(0);
    expect((await livedrop(["drop", "pause", dropId, "--json"], env)).code).toBe(0);
    expect((await livedrop(["drop", "restock", dropId, "--qty", "0", "--json"], env)).code).toBe(2);
    const drops = JSON.parse((await livedrop(["audit", "--target", dropId, "--json"], env)).stdout) as {
      action: string;
      outcome: string;
      actorRole: string;
    }[];
    expect(drops.map((e) => [e.action, e.outcome, e.actorRole])).toEqual([
      ["drop.restock", "INVALID_INPUT", "cli"],
      ["drop.pause", "ok", "cli"],
      ["drop.create", "ok", "cli"],
    ]);
  }, 60_000);
});
