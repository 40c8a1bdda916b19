import { describe, expect, it } from "vitest";
import type { ServerFrame } from "../../protocol/index.ts";
import { useGatewayStack } from "../harness/gateway.ts";
import { TestSocket } from "../harness/ws-client.ts";

const g = useGatewayStack();

type ChatFrame = Extract<ServerFrame, { t: "chat" }>;

async function joined(
  userId: string,
  room: string,
  role: "viewer" | "moderator" | "host" = "viewer",
): Promise<TestSocket> {
  const s = await TestSocket.connect(
    g().server.url,
    await g().token(userId, role, role === "viewer" ? [] : [room]),
  );
  s.send({ t: "join", room });
  await s.next((f) => f.t === "joined");
  return s;
}

const chatTexts = (s: TestSocket, room: string) =>
  s.frames
    .filter((f): f is ChatFrame => f.t === "chat" && f.room === room)
    .flatMap((f) => f.messages.map((m) => m.text));

describe("room chat", () => {
  it("messages reach everyone in the room in batches, unaltered (markup is text); the sender gets its own at once", async () => {
    const room = "chat-basic";
    const [ann, bob] = [await joined("ann", room), await joined("bob", room)];
    ann.send({ t: "chat", room, text: "<b>hello</b> & <script>x</script>", clientMsgId: "c1" });
    await ann.next((f) => f.t === "chat" && f.messages.some((m) => m.userId === "ann"));
    await bob.next((f) => f.t === "chat" && f.messages.some((m) => m.userId === "ann"), 5_000);
    expect(chatTexts(bob, room)).toEqual(["<b>hello</b> & <script>x</script>"]);
    const outsider = await TestSocket.connect(g().server.url, await g().token("carl"));
    outsider.send({ t: "chat", room, text: "hi", clientMsgId: "c2" });
    expect(await outsider.next((f) => f.t === "error")).toMatchObject({ code: "NOT_IN_ROOM", reqId: "c2" });
    for (const s of [ann, bob, outsider]) s.close();
  });

  it("rate limit, slow mode, timeout and ban are enforced on the server; delete leaves a tombstone in history", async () => {
    const room = "chat-mod";
    const viewer = await joined("vic", room);
    const mod = await joined("mona", room, "moderator");
    for (let i = 0; i < 6; i++) viewer.send({ t: "chat", room, text: `m${i}`, clientMsgId: `r${i}` });
    expect(await viewer.next((f) => f.t === "error" && f.code === "RATE_LIMITED")).toMatchObject({
      reqId: "r5",
    });
    const first = (await viewer.next<ChatFrame>((f) => f.t === "chat" && f.messages[0]?.text === "m0"))
      .messages[0]!;

    mod.send({ t: "moderation", reqId: "slow", room, action: { kind: "slowmode", seconds: 30 } });
    expect(await mod.next((f) => f.t === "ack" && f.reqId === "slow")).toMatchObject({ ok: true });
    await new Promise((r) => setTimeout(r, 2_200)); // let the rate limit refill two tokens
    viewer.send({ t: "chat", room, text: "once", clientMsgId: "s1" });
    viewer.send({ t: "chat", room, text: "twice", clientMsgId: "s2" });
    expect(await viewer.next((f) => f.t === "error" && f.reqId === "s2")).toMatchObject({
      code: "SLOW_MODE",
    });

    mod.send({ t: "moderation", reqId: "to", room, action: { kind: "timeout", userId: "vic", seconds: 60 } });
    await mod.next((f) => f.t === "ack" && f.reqId === "to");
    viewer.send({ t: "chat", room, text: "muted?", clientMsgId: "t1" });
    expect(await viewer.next((f) => f.t === "error" && f.reqId === "t1")).toMatchObject({ code: "MUTED" });
    mod.send({ t: "moderation", reqId: "ban", room, action: { kind: "ban", userId: "vic" } });
    await mod.next((f) => f.t === "ack" && f.reqId === "ban");
    viewer.send({ t: "chat", room, text: "banned?", clientMsgId: "b1" });
    expect(await viewer.next((f) => f.t === "error" && f.reqId === "b1")).toMatchObject({ code: "BANNED" });

    mod.send({ t: "moderation", reqId: "del", room, action: { kind: "delete", messageId: first.id } });
    await viewer.next((f) => f.t === "moderation" && f.action.kind === "delete");
    const late = await TestSocket.connect(g().server.url, await g().token("lara"));
    late.send({ t: "join", room });
    const history = (await late.next<Extract<ServerFrame, { t: "joined" }>>((f) => f.t === "joined")).chat;
    expect(history.find((m) => m.id === first.id)).toMatchObject({ deleted: true, text: "" });
    expect(history.map((m) => m.text)).toContain("m1");
    for (const s of [viewer, mod, late]) s.close();
  });

  it("a viewer, or a moderator of another room, cannot moderate", async () => {
    const room = "chat-guarded";
    const viewer = await joined("val", room);
    const otherMod = await TestSocket.connect(
      g().server.url,
      await g().token("otto", "moderator", ["elsewhere"]),
    );
    for (const s of [viewer, otherMod]) {
      s.send({ t: "moderation", reqId: "x", room, action: { kind: "ban", userId: "val" } });
      expect(await s.next((f) => f.t === "ack" && f.reqId === "x")).toMatchObject({
        ok: false,
        code: "FORBIDDEN",
      });
    }
    viewer.send({ t: "chat", room, text: "still here", clientMsgId: "ok" });
    await viewer.next((f) => f.t === "chat" && f.messages.some((m) => m.text === "still here"));
    viewer.close();
    otherMod.close();
  });
});
