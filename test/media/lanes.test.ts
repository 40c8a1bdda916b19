import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedis, type RedisClient } from "../../core/index.ts";
import { type AnyRoute, checkRoutes, type Rule } from "../../media/http/router.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { type MediaStack, startMediaStack, waitFor } from "./harness.ts";

/**
 * The lane and role table of the media tier: every route × every caller × shadow claim × kill
 * switch, against a real tier reading the switch from a real Redis. The expected answer is
 * written out here from the rules (not taken from the implementation); a route the table does
 * not know, or a route whose declared rule differs from the table's, fails the test.
 */
type Who = "anonymous" | "viewer" | "host" | "otherHost" | "admin";
interface Request {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  /** The token goes in `?token=` (the event stream) instead of the header. */
  readonly tokenInQuery?: boolean;
}
interface Probe {
  /** The rule this call must be judged by. */
  readonly rule: Rule;
  /** The body raises the route's rule to host. */
  readonly raised?: boolean;
  /** What the call answers once the rule let it through. */
  readonly pass: number;
  /** A fresh live room for calls that change it (stop); the shared live room otherwise. */
  readonly freshRoom?: boolean;
  request(room: string): Request;
}

const ROOM = "lane-room";
const unknownId = "00000000-0000-0000-0000-000000000000";
const dtls = { role: "client", fingerprints: [{ algorithm: "sha-256", value: "AB:CD" }] };
const vp8 = { codecs: [{ mimeType: "video/VP8", payloadType: 101, clockRate: 90000 }], encodings: [{}] };
const base = (room: string, p = "") => `/media/v1/rooms/${room}${p}`;

const PROBES: Record<string, readonly Probe[]> = {
  healthz: [{ rule: "public", pass: 200, request: () => ({ method: "GET", path: "/healthz" }) }],
  readyz: [{ rule: "public", pass: 200, request: () => ({ method: "GET", path: "/readyz" }) }],
  metrics: [{ rule: "public", pass: 200, request: () => ({ method: "GET", path: "/metrics" }) }],
  // HLS egress is off here: a call the rule lets through finds no playlist.
  hls: [{ rule: "public", pass: 404, request: (r) => ({ method: "GET", path: `/hls/${r}/index.m3u8` }) }],
  "replay.list": [{ rule: "public", pass: 200, request: (r) => ({ method: "GET", path: `/replays/${r}` }) }],
  "replay.file": [
    {
      rule: "public",
      pass: 404,
      request: (r) => ({ method: "GET", path: `/replays/${r}/r0-0000/index.m3u8` }),
    },
  ],
  "admin.inventory": [
    { rule: "admin", pass: 200, request: () => ({ method: "GET", path: "/media/v1/admin/inventory" }) },
  ],
  "room.get": [{ rule: "viewer", pass: 200, request: (r) => ({ method: "GET", path: base(r) }) }],
  "room.capabilities": [
    { rule: "viewer", pass: 200, request: (r) => ({ method: "GET", path: base(r, "/rtp-capabilities") }) },
  ],
  "room.events": [
    {
      rule: "viewer",
      pass: 200,
      request: (r) => ({ method: "GET", path: base(r, "/events"), tokenInQuery: true }),
    },
  ],
  "transport.create": [
    {
      rule: "viewer",
      pass: 200,
      request: (r) => ({ method: "POST", path: base(r, "/transports"), body: { direction: "recv" } }),
    },
    {
      rule: "host",
      raised: true,
      pass: 200,
      request: (r) => ({ method: "POST", path: base(r, "/transports"), body: { direction: "send" } }),
    },
  ],
  // Unknown ids: a call the rule lets through reaches the room and gets its 404.
  "transport.connect": [
    {
      rule: "viewer",
      pass: 404,
      request: (r) => ({
        method: "POST",
        path: base(r, `/transports/${unknownId}/connect`),
        body: { dtlsParameters: dtls },
      }),
    },
  ],
  "transport.produce": [
    {
      rule: "host",
      pass: 404,
      request: (r) => ({
        method: "POST",
        path: base(r, `/transports/${unknownId}/produce`),
        body: { kind: "video", rtpParameters: vp8 },
      }),
    },
  ],
  "transport.consume": [
    {
      rule: "viewer",
      pass: 404,
      request: (r) => ({
        method: "POST",
        path: base(r, `/transports/${unknownId}/consume`),
        body: { producerId: unknownId, rtpCapabilities: {} },
      }),
    },
  ],
  "consumer.resume": [
    {
      rule: "viewer",
      pass: 404,
      request: (r) => ({ method: "POST", path: base(r, `/consumers/${unknownId}/resume`) }),
    },
  ],
  "transport.close": [
    {
      rule: "viewer",
      pass: 404,
      request: (r) => ({ method: "DELETE", path: base(r, `/transports/${unknownId}`) }),
    },
  ],
  "room.ingest": [
    {
      rule: "host",
      pass: 200,
      request: (r) => ({ method: "POST", path: base(r, "/ingest"), body: { audio: {} } }),
    },
  ],
  "room.stop": [
    {
      rule: "host",
      pass: 200,
      freshRoom: true,
      request: (r) => ({ method: "POST", path: base(r, "/stop") }),
    },
  ],
};

/** The rules, written out: what a caller gets from a route of `rule`. */
function expected(rule: Rule, who: Who, shadow: boolean, switchOn: boolean, pass: number): [number, string?] {
  if (shadow && !switchOn) return [403, "SHADOW_DISABLED"];
  if (rule === "public") return [pass];
  if (who === "anonymous") return [401, "UNAUTHORIZED"];
  if (rule === "viewer") return [pass];
  // No shadow lane in the media tier: shadow tokens never host or administer.
  if (shadow) return [403, "FORBIDDEN"];
  if (rule === "host") return who === "host" || who === "admin" ? [pass] : [403, "FORBIDDEN"];
  return who === "admin" ? [pass] : [403, "FORBIDDEN"];
}

const CALLERS: readonly { who: Who; shadow: boolean }[] = [
  { who: "anonymous", shadow: false },
  ...(["viewer", "host", "otherHost", "admin"] as const).flatMap((who) => [
    { who, shadow: false },
    { who, shadow: true },
  ]),
];

describe("media lanes and roles: one rule per route, enforced by the router", () => {
  let redis: PrivateRedis;
  let client: RedisClient;
  let s: MediaStack;
  const prefix = uniquePrefix("mlane");
  let serial = 0;
  let freshRooms = 0;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    client = redis.client();
    s = await startMediaStack(
      {
        MEDIA_HLS: "false",
        MEDIA_WORKERS: "1",
        MEDIA_INGEST_TIMEOUT_MS: "600000",
        LIVEDROP_KEY_PREFIX: prefix,
        // The table makes a few hundred calls from one address; the limits have their own test.
        MEDIA_SIGNALING_ADDRESS_BURST: "100000",
      },
      { redis: client },
    );
    await s.tier.openIngest(ROOM, { video: {}, audio: {} });
  });
  afterAll(async () => {
    await s?.stop();
    await redis?.stop();
  });

  /** A token for one cell: its own user id, so per-user limits never mix cells. */
  const tokenOf = async (who: Who, shadow: boolean, room: string): Promise<string> => {
    const id = `${who}-${shadow ? "s" : "l"}-${serial++}`;
    if (who === "anonymous") return "";
    if (who === "viewer") return s.token(id, "viewer", [], shadow);
    if (who === "host") return s.token(id, "host", [room], shadow);
    if (who === "otherHost") return s.token(id, "host", ["elsewhere"], shadow);
    return s.token(id, "admin", [], shadow);
  };

  const call = async (req: Request, token: string): Promise<{ status: number; code?: string }> => {
    const url = new URL(`${s.tier.url}${req.path}`);
    if (req.tokenInQuery && token) url.searchParams.set("token", token);
    const res = await fetch(url, {
      method: req.method,
      headers: {
        ...(token && !req.tokenInQuery ? { authorization: `Bearer ${token}` } : {}),
        ...(req.body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
    });
    if ((res.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
      await res.body?.cancel();
      return { status: res.status };
    }
    const text = await res.text();
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { error?: { code: string } }).error?.code;
    } catch {
      code = undefined;
    }
    return { status: res.status, code };
  };

  const live = (room: string) => s.tier.state(room).live;

  /** Every probe for every caller; returns the cells that differ from the expected table. */
  const runTable = async (switchOn: boolean): Promise<string[]> => {
    const wrong: string[] = [];
    for (const [name, probes] of Object.entries(PROBES)) {
      for (const probe of probes) {
        for (const { who, shadow } of CALLERS) {
          const room = probe.freshRoom ? `lane-fresh-${freshRooms++}` : ROOM;
          if (probe.freshRoom) await s.tier.openIngest(room, { audio: {} }, `encoder-${room}`);
          const got = await call(probe.request(room), await tokenOf(who, shadow, room));
          const [status, code] = expected(probe.rule, who, shadow, switchOn, probe.pass);
          const label = `${name}${probe.raised ? "(raised)" : ""} ${who}${shadow ? "+shadow" : ""} switch ${switchOn ? "on" : "off"}`;
          if (got.status !== status || (code !== undefined && got.code !== code))
            wrong.push(`${label}: got ${got.status} ${got.code ?? ""}, want ${status} ${code ?? ""}`);
          // A refused stop leaves the stream running; an allowed one ends it.
          if (probe.freshRoom && live(room) !== (got.status !== probe.pass))
            wrong.push(`${label}: room live=${live(room)} after ${got.status}`);
        }
      }
    }
    return wrong;
  };

  it("the table knows every route the server registered, with the rule each declares", () => {
    const rules = s.tier.routeRules();
    expect(rules.map((r) => r.name).sort()).toEqual(Object.keys(PROBES).sort());
    for (const r of rules) {
      const probes = PROBES[r.name] ?? [];
      expect([r.name, probes[0]?.rule]).toEqual([r.name, r.rule]);
      expect([r.name, probes.some((p) => p.raised && p.rule === "host")]).toEqual([r.name, r.hostIf]);
    }
  });

  it("while shadow traffic is on: every route × caller answers as the rules say; a shadow host stops nothing", async () => {
    expect(s.tier.shadowEnabled()).toBe(true);
    expect(await runTable(true)).toEqual([]);
    expect(live(ROOM)).toBe(true);
  });

  it("kill switch off: every shadow call is 403 SHADOW_DISABLED, live callers are unaffected, open shadow transports close", async () => {
    const shadowViewer = await s.token("shadow-watcher", "viewer", [], true);
    const t = await s.api(shadowViewer, "POST", base(ROOM, "/transports"), { direction: "recv" });
    expect(t.status).toBe(200);
    const shadowOpen = () => s.tier.rooms.get(ROOM)?.transportsOf((e) => e.shadow).length ?? 0;
    expect(shadowOpen()).toBeGreaterThan(0);

    await client.set(`${prefix}:shadow:switch`, "off");
    await waitFor(
      "the media tier to see the switch off",
      () => s.tier.shadowEnabled(),
      (on) => !on,
      10_000,
    );
    await waitFor("open shadow transports to close", shadowOpen, (n) => n === 0, 10_000);
    expect(await runTable(false)).toEqual([]);
    expect(live(ROOM)).toBe(true);

    await client.set(`${prefix}:shadow:switch`, "on");
    await waitFor(
      "the media tier to see the switch on",
      () => s.tier.shadowEnabled(),
      (on) => on,
      10_000,
    );
    expect((await s.api(shadowViewer, "GET", base(ROOM))).status).toBe(200);
  });

  it("a tier without Redis, or whose Redis does not answer at start, refuses shadow tokens and serves live ones", async () => {
    // Port 1 on loopback: nothing listens, so the connection is refused at once.
    const dead = connectRedis({ url: "redis://127.0.0.1:1" }, { maxRetriesPerRequest: 1 });
    dead.on("error", () => undefined);
    for (const o of [{}, { redis: dead }]) {
      const bare = await startMediaStack({ MEDIA_HLS: "false", MEDIA_WORKERS: "1" }, o);
      try {
        const shadow = await bare.api(await bare.token("s1", "viewer", [], true), "GET", base("x"));
        expect([shadow.status, shadow.json.error?.code]).toEqual([403, "SHADOW_DISABLED"]);
        expect((await bare.api(await bare.token("v1"), "GET", base("x"))).status).toBe(200);
      } finally {
        await bare.stop();
      }
    }
    dead.disconnect();
  });

  it("a route without a rule, or a host rule without a room in its path, is refused at start-up", () => {
    const run = async () => undefined;
    const noRule = { method: "GET", path: /^\/x$/, name: "x", run } as unknown as AnyRoute;
    expect(() => checkRoutes([noRule])).toThrow(/declares no access rule/);
    const roomless = { method: "POST", path: /^\/y$/, name: "y", rule: "host", run } as AnyRoute;
    expect(() => checkRoutes([roomless])).toThrow(/no \(\?<room>\) group/);
  });
});
