import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IngestResponse } from "../../media/index.ts";
import {
  consumerInfoSchema,
  ingestResponseSchema,
  mediaRoomSchema,
  transportInfoSchema,
} from "../../protocol/index.ts";
import { type MediaStack, startMediaStack } from "./harness.ts";

/**
 * The signaling API without a browser: every refusal has its status and code, and the room keeps
 * working after each one. The room is made live by an RTP ingest (producers exist at once; no
 * media needs to flow for signaling). HLS is off here: no ffmpeg is needed.
 */
describe("media signaling API", () => {
  let s: MediaStack;
  let host: string;
  let viewer: string;
  let otherHost: string;
  const room = "sig-room";
  let ingest: IngestResponse;
  const rooms = (p = "") => `/media/v1/rooms/${room}${p}`;

  beforeAll(async () => {
    s = await startMediaStack({ MEDIA_HLS: "false", MEDIA_INGEST_TIMEOUT_MS: "600000" });
    host = await s.token("host-1", "host", [room]);
    otherHost = await s.token("host-2", "host", ["elsewhere"]);
    viewer = await s.token("viewer-1");
    const r = await s.api(host, "POST", rooms("/ingest"), { video: { codec: "VP8" }, audio: {} });
    expect(r.status).toBe(200);
    ingest = r.json as unknown as IngestResponse;
  });
  afterAll(async () => {
    await s?.stop();
  });

  const capabilities = async () => (await s.api(viewer, "GET", rooms("/rtp-capabilities"))).json;
  const recvTransport = async (token = viewer) => {
    const r = await s.api(token, "POST", rooms("/transports"), { direction: "recv" });
    expect(r.status).toBe(200);
    return r.json.id as string;
  };

  it("describes a live room: producers by kind, no HLS when egress is off", async () => {
    const r = await s.api(viewer, "GET", rooms());
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ room, live: true, hls: null });
    const kinds = (r.json.producers as { kind: string }[]).map((p) => p.kind).sort();
    expect(kinds).toEqual(["audio", "video"]);
    expect(ingest.video).toMatchObject({ codec: "VP8", payloadType: 101, ip: "127.0.0.1" });
    expect(ingest.audio).toMatchObject({ codec: "opus", payloadType: 100, channels: 2 });
  });

  it("every answer is the body protocol's signaling schemas describe", async () => {
    // Its own user: the calls below do not spend the rate budget of the shared viewer.
    const me = await s.token("viewer-schemas");
    expect(ingestResponseSchema.safeParse(ingest).error?.issues).toBeUndefined();
    expect(mediaRoomSchema.safeParse((await s.api(me, "GET", rooms())).json).error?.issues).toBeUndefined();
    const t = await s.api(me, "POST", rooms("/transports"), { direction: "recv" });
    expect(transportInfoSchema.safeParse(t.json).error?.issues).toBeUndefined();
    const c = await s.api(me, "POST", rooms(`/transports/${t.json.id}/consume`), {
      producerId: ingest.audio?.producerId,
      rtpCapabilities: (await s.api(me, "GET", rooms("/rtp-capabilities"))).json,
    });
    expect(consumerInfoSchema.safeParse(c.json).error?.issues).toBeUndefined();
    expect((await s.api(me, "DELETE", rooms(`/transports/${t.json.id}`))).status).toBe(200);
  });

  it("a room nobody streams to is not live (200, live:false); its capabilities, transports and consume are 409 MEDIA_ROOM_NOT_LIVE", async () => {
    const idle = "idle-room";
    const r = await s.api(viewer, "GET", `/media/v1/rooms/${idle}`);
    expect(r.json).toEqual({ room: idle, live: false, producers: [], hls: null });
    const caps = await s.api(viewer, "GET", `/media/v1/rooms/${idle}/rtp-capabilities`);
    expect([caps.status, caps.json.error?.code]).toEqual([409, "MEDIA_ROOM_NOT_LIVE"]);
    const t = await s.api(viewer, "POST", `/media/v1/rooms/${idle}/transports`, { direction: "recv" });
    expect([t.status, t.json.error?.code]).toEqual([409, "MEDIA_ROOM_NOT_LIVE"]);
    // The live room's transport and capabilities, used on the idle room: still not found there.
    const c = await s.api(
      viewer,
      "POST",
      `/media/v1/rooms/${idle}/transports/${await recvTransport()}/consume`,
      {
        producerId: ingest.video?.producerId,
        rtpCapabilities: await capabilities(),
      },
    );
    expect([c.status, c.json.error?.code]).toEqual([404, "MEDIA_TRANSPORT_NOT_FOUND"]);
    expect(s.tier.rooms.get(idle)).toBeUndefined();
  });

  it("refuses calls without a valid token (401) and bad room ids (400)", async () => {
    expect((await s.api("", "GET", rooms())).json.error?.code).toBe("UNAUTHORIZED");
    expect((await s.api("", "GET", rooms())).status).toBe(401);
    expect((await s.api("not-a-token", "GET", rooms("/rtp-capabilities"))).status).toBe(401);
    const bad = await s.api(viewer, "GET", "/media/v1/rooms/bad%20room");
    expect(bad.status).toBe(400);
    expect(bad.json.error?.code).toBe("INVALID_INPUT");
  });

  it("a viewer may not open a send transport, produce, open an ingest or stop the room (403)", async () => {
    const send = await s.api(viewer, "POST", rooms("/transports"), { direction: "send" });
    expect(send.status).toBe(403);
    expect(send.json.error?.code).toBe("FORBIDDEN");
    const recv = await recvTransport();
    const produce = await s.api(viewer, "POST", rooms(`/transports/${recv}/produce`), {
      kind: "video",
      rtpParameters: { codecs: [{ mimeType: "video/VP8", payloadType: 101, clockRate: 90000 }] },
    });
    expect(produce.status).toBe(403);
    expect((await s.api(viewer, "POST", rooms("/ingest"), { video: {} })).status).toBe(403);
    expect((await s.api(viewer, "POST", rooms("/stop"))).status).toBe(403);
    // A host of another room is a viewer here.
    expect((await s.api(otherHost, "POST", rooms("/stop"))).status).toBe(403);
  });

  it("unknown transports, producers and consumers are 404 with their codes", async () => {
    const caps = await capabilities();
    const unknown = "00000000-0000-0000-0000-000000000000";
    const c = await s.api(viewer, "POST", rooms(`/transports/${unknown}/consume`), {
      producerId: ingest.video?.producerId,
      rtpCapabilities: caps,
    });
    expect(c.status).toBe(404);
    expect(c.json.error?.code).toBe("MEDIA_TRANSPORT_NOT_FOUND");
    const connect = await s.api(viewer, "POST", rooms(`/transports/${unknown}/connect`), {
      dtlsParameters: { role: "client", fingerprints: [{ algorithm: "sha-256", value: "AB:CD" }] },
    });
    expect(connect.json.error?.code).toBe("MEDIA_TRANSPORT_NOT_FOUND");
    expect((await s.api(viewer, "DELETE", rooms(`/transports/${unknown}`))).status).toBe(404);
    const recv = await recvTransport();
    const p = await s.api(viewer, "POST", rooms(`/transports/${recv}/consume`), {
      producerId: unknown,
      rtpCapabilities: caps,
    });
    expect(p.status).toBe(404);
    expect(p.json.error?.code).toBe("MEDIA_PRODUCER_NOT_FOUND");
    const r = await s.api(viewer, "POST", rooms(`/consumers/${unknown}/resume`));
    expect(r.status).toBe(404);
    expect(r.json.error?.code).toBe("MEDIA_CONSUMER_NOT_FOUND");
    // Another user's transport is not found either (ids are not capabilities).
    const mine = await recvTransport(await s.token("viewer-2"));
    expect((await s.api(viewer, "DELETE", rooms(`/transports/${mine}`))).status).toBe(404);
  });

  it("consume before capabilities is 409 MEDIA_CAPABILITIES_REQUIRED; unusable capabilities 409 MEDIA_CANNOT_CONSUME", async () => {
    const recv = await recvTransport();
    const none = await s.api(viewer, "POST", rooms(`/transports/${recv}/consume`), {
      producerId: ingest.video?.producerId,
    });
    expect(none.status).toBe(409);
    expect(none.json.error?.code).toBe("MEDIA_CAPABILITIES_REQUIRED");
    const h264Only = await s.api(viewer, "POST", rooms(`/transports/${recv}/consume`), {
      producerId: ingest.video?.producerId,
      rtpCapabilities: {
        codecs: [{ kind: "video", mimeType: "video/H264", clockRate: 90000, preferredPayloadType: 102 }],
      },
    });
    expect(h264Only.status).toBe(409);
    expect(h264Only.json.error?.code).toBe("MEDIA_CANNOT_CONSUME");
  });

  it("malformed bodies are 400 (schema, JSON), oversize 413, non-JSON 415; a send transport cannot consume (409)", async () => {
    const recv = await recvTransport();
    const cases: [unknown, number, string][] = [
      [{ direction: "sideways" }, 400, "INVALID_INPUT"],
      [{}, 400, "INVALID_INPUT"],
      ["{not json", 400, "BAD_JSON"],
    ];
    for (const [body, status, code] of cases) {
      const r = await s.api(viewer, "POST", rooms("/transports"), body);
      expect([r.status, r.json.error?.code]).toEqual([status, code]);
    }
    const badDtls = await s.api(viewer, "POST", rooms(`/transports/${recv}/connect`), {
      dtlsParameters: { fingerprints: "nope" },
    });
    expect([badDtls.status, badDtls.json.error?.code]).toEqual([400, "INVALID_INPUT"]);
    const extra = await s.api(viewer, "POST", rooms(`/transports/${recv}/consume`), {
      producerId: ingest.video?.producerId,
      rtpCapabilities: await capabilities(),
      surprise: true,
    });
    expect(extra.status).toBe(400);
    const huge = await s.api(viewer, "POST", rooms("/transports"), {
      direction: "recv",
      pad: "x".repeat(70_000),
    });
    expect([huge.status, huge.json.error?.code]).toEqual([413, "BODY_TOO_LARGE"]);
    const text = await fetch(`${s.tier.url}${rooms("/transports")}`, {
      method: "POST",
      headers: { authorization: `Bearer ${viewer}`, "content-type": "text/plain" },
      body: "direction=recv",
    });
    expect(text.status).toBe(415);
    // Host's send transport used for consume: wrong direction.
    const send = await s.api(host, "POST", rooms("/transports"), { direction: "send" });
    const wrong = await s.api(host, "POST", rooms(`/transports/${send.json.id}/consume`), {
      producerId: ingest.video?.producerId,
      rtpCapabilities: await capabilities(),
    });
    expect([wrong.status, wrong.json.error?.code]).toEqual([409, "MEDIA_WRONG_DIRECTION"]);
    // Bad RTP parameters reach mediasoup's own validation: still a typed 400.
    const badRtp = await s.api(host, "POST", rooms(`/transports/${send.json.id}/produce`), {
      kind: "video",
      rtpParameters: {
        codecs: [{ mimeType: "video/NOPE", payloadType: 101, clockRate: 90000 }],
        encodings: [{}],
      },
    });
    expect(badRtp.status).toBe(400);
  });

  it("a user flooding signaling gets 429 RATE_LIMITED past its burst; other users are still served", async () => {
    const flooder = await s.token("flooder");
    const replies = [];
    for (let i = 0; i < 60; i++) replies.push(await s.api(flooder, "GET", rooms("/rtp-capabilities")));
    const statuses = replies.map((r) => r.status);
    expect(statuses.slice(0, 30).every((x) => x === 200)).toBe(true); // a join's worth and more
    const limited = replies.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]?.json.error?.code).toBe("RATE_LIMITED");
    expect((await s.api(viewer, "GET", rooms("/rtp-capabilities"))).status).toBe(200);
  });

  it("after all those refusals the room still works: consume, resume, and the room stays live", async () => {
    const recv = await recvTransport();
    const caps = await capabilities();
    const c = await s.api(viewer, "POST", rooms(`/transports/${recv}/consume`), {
      producerId: ingest.video?.producerId,
      rtpCapabilities: caps,
    });
    expect(c.status).toBe(200);
    expect(c.json).toMatchObject({ producerId: ingest.video?.producerId, kind: "video" });
    const codecs = (c.json.rtpParameters as { codecs: { mimeType: string }[] }).codecs;
    expect(codecs[0]?.mimeType).toBe("video/VP8");
    const resume = await s.api(viewer, "POST", rooms(`/consumers/${c.json.id}/resume`));
    expect([resume.status, resume.json]).toEqual([200, {}]);
    expect((await s.api(viewer, "GET", rooms())).json.live).toBe(true);
    expect((await s.api(viewer, "DELETE", rooms(`/transports/${recv}`))).json).toEqual({});
  });

  it("answers CORS preflights and sends Access-Control-Allow-Origin: * everywhere", async () => {
    const pre = await fetch(`${s.tier.url}${rooms("/transports")}`, {
      method: "OPTIONS",
      headers: {
        origin: "http://example.test",
        "access-control-request-headers": "authorization,content-type",
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    expect(pre.headers.get("access-control-allow-headers")).toMatch(/Authorization/);
    expect(pre.headers.get("access-control-allow-methods")).toMatch(/DELETE/);
    const err = await fetch(`${s.tier.url}${rooms()}`);
    expect(err.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("serves no file outside a room's HLS folder (traversal attempts are 404)", async () => {
    for (const p of [
      "/hls/../core/config.ts",
      "/hls/sig-room/..%2F..%2Fpackage.json",
      "/hls/sig-room/%2e%2e/x.ts",
      "/hls/..%2f/index.m3u8",
      "/hls/sig-room/input.sdp",
      "/hls/sig-room/index.m3u8",
    ]) {
      const r = await fetch(`${s.tier.url}${p}`);
      expect([p, r.status]).toEqual([p, 404]);
    }
  });

  it("streams room state as Server-Sent Events (token in the query) and reports live:false when the host stops", async () => {
    const r2 = "sse-room";
    const h = await s.token("host-3", "host", [r2]);
    const res = await fetch(`${s.tier.url}/media/v1/rooms/${r2}/events?token=${viewer}`);
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    const nextState = async () => {
      for (;;) {
        const at = buffer.indexOf("\n\n");
        if (at >= 0) {
          const frame = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          const data = /^event: state\ndata: (.*)$/m.exec(frame);
          if (data?.[1]) return JSON.parse(data[1]) as { live: boolean; producers: unknown[] };
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("stream ended");
        buffer += decoder.decode(value, { stream: true });
      }
    };
    expect(await nextState()).toMatchObject({ live: false, producers: [] });
    expect((await s.api(h, "POST", `/media/v1/rooms/${r2}/ingest`, { video: {} })).status).toBe(200);
    expect(await nextState()).toMatchObject({ live: true, producers: [{ kind: "video" }] });
    expect((await s.api(h, "POST", `/media/v1/rooms/${r2}/stop`)).json).toEqual({});
    expect(await nextState()).toMatchObject({ live: false, producers: [] });
    await reader.cancel();
    const noToken = await fetch(`${s.tier.url}/media/v1/rooms/${r2}/events`);
    expect(noToken.status).toBe(401);
  });

  it("exposes per-room stats on /metrics and liveness on /healthz", async () => {
    const health = await fetch(`${s.tier.url}/healthz`);
    expect(health.status).toBe(200);
    const text = await (await fetch(`${s.tier.url}/metrics`)).text();
    expect(text).toMatch(new RegExp(`livedrop_media_room_producers\\{room="${room}",kind="video"\\} 1`));
    expect(text).toMatch(/livedrop_media_room_producer_bitrate_bps\{room="sig-room",kind="video"\}/);
    expect(text).toMatch(/livedrop_media_room_consumers\{room="sig-room"\}/);
    expect(text).toMatch(/livedrop_media_worker_cpu_seconds\{pid="\d+"\}/);
    expect(text).toMatch(/livedrop_media_http_requests_total\{route="transport.consume",status="409"\}/);
  });
});
