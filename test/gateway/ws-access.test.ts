import uWS from "uWebSockets.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetrics } from "../../gateway/metrics.ts";
import { registerWebSocketEndpoint } from "../../gateway/ws/endpoint.ts";
import { FRAME_RULES } from "../../gateway/ws/frame-rules.ts";
import { SocketServer } from "../../gateway/ws/socket-server.ts";
import { CLIENT_FRAME_TYPES, type ClientFrame, type ServerFrame } from "../../protocol/index.ts";
import { SaleEngine } from "../../sale-engine/index.ts";
import { type GatewayStack, startGatewayStack } from "../harness/gateway.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

const ROOM = "access-room";
const OTHER = "other-room";

type Who = "viewer" | "moderatorHere" | "moderatorElsewhere" | "hostHere" | "hostElsewhere" | "admin";
/** Live lane, shadow lane switched on, shadow lane switched off (after the socket connected). */
type Lane = "live" | "shadow" | "shadowOff";
/** "allowed": the frame reached its handler (whatever the handler then said). */
type Answer = "allowed" | "FORBIDDEN" | "SHADOW_DISABLED" | "NOT_IN_ROOM";

const WHO: Record<Who, { role: "viewer" | "moderator" | "host" | "admin"; rooms: string[] }> = {
  viewer: { role: "viewer", rooms: [] },
  moderatorHere: { role: "moderator", rooms: [ROOM] },
  moderatorElsewhere: { role: "moderator", rooms: [OTHER] },
  hostHere: { role: "host", rooms: [ROOM] },
  hostElsewhere: { role: "host", rooms: [OTHER] },
  admin: { role: "admin", rooms: [] },
};

const off = (lane: Lane) => lane === "shadowOff";
const anyone = (_: Who, lane: Lane): Answer => (off(lane) ? "SHADOW_DISABLED" : "allowed");

/** What each frame type gets, per sender and lane. A new frame type fails the test until listed. */
const EXPECTED: Record<ClientFrame["t"], (who: Who, lane: Lane) => Answer> = {
  ping: () => "allowed",
  leave: () => "allowed",
  join: anyone,
  resume: anyone,
  buy: anyone,
  waitlist: anyone,
  bid: anyone,
  coupon: anyone,
  pay: anyone,
  chat: anyone, // sent after the join: "joined" holds
  delay: anyone, // likewise
  host: (who, lane) =>
    off(lane) ? "SHADOW_DISABLED" : who === "hostHere" || who === "admin" ? "allowed" : "FORBIDDEN",
  moderation: (who, lane) =>
    off(lane)
      ? "SHADOW_DISABLED"
      : who === "moderatorHere" || who === "hostHere" || who === "admin"
        ? "allowed"
        : "FORBIDDEN",
};

/** One frame of each type, in the order sent (join first: chat needs it; leave last). */
const ORDER: ClientFrame["t"][] = [
  "join",
  "ping",
  "resume",
  "chat",
  "delay",
  "buy",
  "waitlist",
  "bid",
  "coupon",
  "pay",
  "host",
  "moderation",
  "leave",
];

function sample(t: ClientFrame["t"], dropId: string, epoch: string, offset: string, n: number): ClientFrame {
  const reqId = `r${n}`;
  switch (t) {
    case "ping":
      return { t, reqId, clientTime: Date.now() };
    case "join":
    case "leave":
      return { t, room: ROOM };
    case "resume":
      return { t, room: ROOM, epoch, offset };
    case "chat":
      return { t, room: ROOM, text: "hi", clientMsgId: reqId };
    case "delay":
      return { t, room: ROOM, ms: 3000, source: "hls" };
    case "buy":
    case "waitlist":
      return { t, reqId, dropId, qty: 1, idempotencyKey: key() };
    case "bid":
      return { t, reqId, dropId, maxMinor: 1_000, idempotencyKey: key() };
    case "coupon":
      return { t, reqId, room: ROOM, code: "NONE1", idempotencyKey: key() };
    case "pay":
      return { t, reqId, reservationId: `${dropId}.1`, token: "tok_visa", idempotencyKey: key() };
    case "host":
      return { t, reqId, room: ROOM, action: { kind: "pause", dropId } };
    case "moderation":
      return { t, reqId, room: ROOM, action: { kind: "slowmode", seconds: 0 } };
  }
}

/** The answer to `frame`, classified; leave and delay have none, so a ping after them shows nothing came. */
async function answerOf(s: TestSocket, frame: ClientFrame, n: number): Promise<Answer> {
  const reqId = `r${n}`;
  const refused = (f: ServerFrame) =>
    f.t === "error" || (f.t === "ack" && !f.ok) ? (f.code as Answer) : ("allowed" as Answer);
  const classify = (f: ServerFrame): Answer => {
    const code = refused(f);
    return code === "FORBIDDEN" || code === "SHADOW_DISABLED" || code === "NOT_IN_ROOM" ? code : "allowed";
  };
  const mine = (f: ServerFrame): boolean => {
    switch (frame.t) {
      case "join":
      case "resume":
        return ["joined", "resync", "resumed", "error"].includes(f.t) && "room" in f && f.room === ROOM;
      case "chat":
        return (
          (f.t === "error" && f.reqId === reqId) ||
          (f.t === "chat" && f.messages.some((m) => m.text === "hi"))
        );
      case "leave":
      case "delay":
        return f.t === "error" || (f.t === "pong" && f.reqId === `${reqId}-after`);
      default:
        return ((f.t === "ack" || f.t === "error" || f.t === "pong") && f.reqId === reqId) as boolean;
    }
  };
  s.frames.length = 0;
  s.send(frame);
  if (frame.t === "leave" || frame.t === "delay")
    s.send({ t: "ping", reqId: `${reqId}-after`, clientTime: Date.now() });
  return classify(await s.next(mine, 10_000));
}

let g: GatewayStack;
let listen: uWS.us_listen_socket;
let url = "";
let shadowOn = true;
const servers: SocketServer[] = [];
let dropId = "";

beforeAll(async () => {
  g = await startGatewayStack();
  const app = uWS.App();
  const common = { tokens: g.tokens, metrics: createMetrics(), log: g.options.log, redis: g.options.redis };
  const live = new SocketServer(app, {
    ...common,
    engine: g.options.engine,
    checkout: g.options.checkout,
    subscriber: g.redis.client(),
    keyPrefix: g.options.keyPrefix,
  });
  const shadowPrefix = `${g.options.keyPrefix}-shadow`;
  const shadow = new SocketServer(app, {
    ...common,
    engine: await SaleEngine.create({ redis: g.options.redis, prefix: shadowPrefix }),
    checkout: g.options.checkout,
    subscriber: g.redis.client(),
    keyPrefix: shadowPrefix,
    topicPrefix: "shadow:",
    serving: () => shadowOn,
  });
  servers.push(live, shadow);
  // Upgrades are let in throughout: the switch under test is the per-frame one.
  registerWebSocketEndpoint(app, {
    tokens: g.tokens,
    maxConnectionsPerIp: 1_000,
    live,
    shadow,
    shadowEnabled: () => true,
  });
  listen = await new Promise((resolve, reject) =>
    app.listen("127.0.0.1", 0, (s) => (s ? resolve(s) : reject(new Error("listen")))),
  );
  url = `http://127.0.0.1:${uWS.us_socket_local_port(listen)}`;
  const def = dropDefinition({ roomId: ROOM, initialStock: 100, perUserLimit: 5 });
  await g.stack.engine.createDrop(def);
  dropId = def.dropId;
}, 120_000);

afterAll(async () => {
  for (const s of servers) s.shutdown();
  if (listen) uWS.us_listen_socket_close(listen);
  await g?.stop();
});

describe("WebSocket frame rights (one table)", () => {
  it("every client frame type has a rule and an expectation here", () => {
    const types = [...CLIENT_FRAME_TYPES].sort();
    expect(Object.keys(FRAME_RULES).sort()).toEqual(types);
    expect(Object.keys(EXPECTED).sort()).toEqual(types);
    expect([...ORDER].sort()).toEqual(types);
  });

  it("each frame type x sender x lane gets the answer the table says", async () => {
    const lanes: Lane[] = ["live", "shadow", "shadowOff"];
    const cells = lanes.flatMap((lane) => (Object.keys(WHO) as Who[]).map((who) => ({ who, lane })));
    const sockets = await Promise.all(
      cells.map(async ({ who, lane }) => {
        const token = await g.tokens.issue({
          userId: `${who}-${lane}`,
          ...WHO[who],
          ttlSeconds: 600,
          shadow: lane !== "live",
        });
        return TestSocket.connect(url, token);
      }),
    );
    const got: string[] = [];
    const want: string[] = [];
    const run = async (cell: { who: Who; lane: Lane }) => {
      const { who, lane } = cell;
      const s = sockets[cells.indexOf(cell)] as TestSocket;
      let epoch = "0";
      let offset = "0-0";
      for (const [n, t] of ORDER.entries()) {
        const answer = await answerOf(s, sample(t, dropId, epoch, offset, n), n);
        const joined = s.frames.find((f) => f.t === "joined");
        if (t === "join" && joined?.t === "joined") ({ epoch, offset } = joined);
        got.push(`${t} ${who} ${lane}: ${answer}`);
        want.push(`${t} ${who} ${lane}: ${EXPECTED[t](who, lane)}`);
      }
      s.close();
    };
    // The shadow lane has one switch: its switched-on cells first, then the same lane switched
    // off under sockets that were let in while it was on.
    await Promise.all(cells.filter((c) => !off(c.lane)).map(run));
    shadowOn = false;
    await Promise.all(cells.filter((c) => off(c.lane)).map(run));
    shadowOn = true;
    expect(got.sort()).toEqual(want.sort());
  }, 120_000);

  it("chat and delay in a room the socket has not joined are NOT_IN_ROOM for every sender", async () => {
    for (const who of Object.keys(WHO) as Who[]) {
      const s = await TestSocket.connect(
        url,
        await g.tokens.issue({ userId: `outsider-${who}`, ...WHO[who], ttlSeconds: 600 }),
      );
      expect(await answerOf(s, sample("chat", dropId, "0", "0-0", 1), 1), who).toBe("NOT_IN_ROOM");
      expect(await answerOf(s, sample("delay", dropId, "0", "0-0", 2), 2), who).toBe("NOT_IN_ROOM");
      s.close();
    }
  }, 60_000);
});
