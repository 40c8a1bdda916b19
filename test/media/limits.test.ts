import { randomInt } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiReply, type MediaStack, startMediaStack, waitFor } from "./harness.ts";

/**
 * Transport limits against a real mediasoup worker: a user or a room at its cap gets a typed 429
 * while everyone else (and the host) still gets transports, transports that never finish DTLS
 * are reaped, and a node out of RTC ports answers a typed 503. Never a 500.
 */
const rooms = (room: string, p = "") => `/media/v1/rooms/${room}${p}`;
const recv = { direction: "recv" };

/** No request of the run was answered 500 (from the server's own counter; 503 is a typed answer). */
async function noServerErrors(s: MediaStack): Promise<void> {
  const text = await (await fetch(`${s.tier.url}/metrics`)).text();
  expect(text).not.toMatch(/livedrop_media_http_requests_total\{[^}]*status="500"/);
}

describe("transport caps per user and per room", () => {
  let s: MediaStack;
  let host: string;
  const room = "capped-room";

  beforeAll(async () => {
    s = await startMediaStack({
      MEDIA_HLS: "false",
      MEDIA_WORKERS: "1",
      MEDIA_INGEST_TIMEOUT_MS: "600000",
      MEDIA_MAX_TRANSPORTS_PER_USER: "3",
      MEDIA_MAX_TRANSPORTS_PER_ROOM: "8",
      // Nothing is reaped while the caps are measured.
      MEDIA_CONNECT_TIMEOUT_MS: "600000",
    });
    host = await s.token("cap-host", "host", [room]);
    await s.tier.openIngest(room, { video: {}, audio: {} });
  });
  afterAll(async () => {
    await s?.stop();
  });

  const open = (token: string, body: unknown = recv): Promise<ApiReply> =>
    s.api(token, "POST", rooms(room, "/transports"), body);

  it("a user at its cap gets 429 MEDIA_TRANSPORT_LIMIT; another user and the host still get transports", async () => {
    const flooder = await s.token("flooder");
    const first = [await open(flooder), await open(flooder), await open(flooder)];
    expect(first.map((r) => r.status)).toEqual([200, 200, 200]);
    const over = await open(flooder);
    expect([over.status, over.json.error?.code]).toEqual([429, "MEDIA_TRANSPORT_LIMIT"]);

    expect((await open(await s.token("real-viewer"))).status).toBe(200);
    expect((await open(host, { direction: "send" })).status).toBe(200);

    // A closed transport gives its slot back.
    const closed = await s.api(flooder, "DELETE", rooms(room, `/transports/${first[0]?.json.id}`));
    expect(closed.status).toBe(200);
    await waitFor(
      "the slot to come back",
      () => open(flooder),
      (r) => r.status === 200,
      5_000,
    );
  });

  it("concurrent requests cannot overshoot a user's cap", async () => {
    const burst = await s.token("burst-user");
    const replies = await Promise.all(Array.from({ length: 10 }, () => open(burst)));
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429, 429, 429, 429, 429]);
  });

  it("a room at its viewer cap gets 429; its host still opens transports", async () => {
    // flooder 3 + real-viewer 1 + burst-user 3 = 7 viewer transports: one more fills the room.
    expect((await open(await s.token("eighth"))).status).toBe(200);
    const full = await open(await s.token("ninth"));
    expect([full.status, full.json.error?.code]).toEqual([429, "MEDIA_TRANSPORT_LIMIT"]);
    expect(full.json.error?.message).toMatch(/HLS/);
    expect((await open(host, { direction: "send" })).status).toBe(200);
    expect(s.tier.state(room).live).toBe(true);
    await noServerErrors(s);
  });
});

describe("transports that never connect are reaped", () => {
  let s: MediaStack;
  const room = "reap-room";

  beforeAll(async () => {
    s = await startMediaStack({
      MEDIA_HLS: "false",
      MEDIA_WORKERS: "1",
      MEDIA_MAX_TRANSPORTS_PER_USER: "3",
      MEDIA_CONNECT_TIMEOUT_MS: "1000",
      MEDIA_INGEST_TIMEOUT_MS: "600000",
    });
    // Viewers reach live rooms only.
    await s.tier.openIngest(room, { audio: {} });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("closes them after MEDIA_CONNECT_TIMEOUT_MS: the worker's transport count falls and the user's slots come back", async () => {
    const admin = await s.token("ops", "admin");
    const inventory = async () =>
      (await s.api(admin, "GET", "/media/v1/admin/inventory")).json as unknown as { transports: number };
    const before = (await inventory()).transports;
    const idler = await s.token("idler");
    const opened = [];
    for (let i = 0; i < 3; i++) opened.push(await s.api(idler, "POST", rooms(room, "/transports"), recv));
    expect(opened.map((r) => r.status)).toEqual([200, 200, 200]);
    // Counted by the worker itself (router dump), not by our maps.
    expect((await inventory()).transports).toBe(before + 3);
    const over = await s.api(idler, "POST", rooms(room, "/transports"), recv);
    expect(over.status).toBe(429);

    await waitFor("never-connected transports reaped", inventory, (inv) => inv.transports === before, 15_000);
    const again = await s.api(idler, "POST", rooms(room, "/transports"), recv);
    expect(again.status).toBe(200);
    await noServerErrors(s);
  });
});

describe("a node out of RTC ports", () => {
  let s: MediaStack;
  const PORTS = 4;

  beforeAll(async () => {
    const min = 20_000 + randomInt(0, 18_000);
    s = await startMediaStack({
      MEDIA_HLS: "false",
      MEDIA_WORKERS: "1",
      MEDIA_RTC_MIN_PORT: String(min),
      MEDIA_RTC_MAX_PORT: String(min + PORTS - 1),
      MEDIA_CONNECT_TIMEOUT_MS: "600000",
      MEDIA_INGEST_TIMEOUT_MS: "600000",
    });
    // Viewers reach live rooms only; the audio ingest holds 2 of the range's UDP ports (RTP, RTCP).
    await s.tier.openIngest("port-room", { audio: {} });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("answers 503 MEDIA_UNAVAILABLE, not 500, and serves again once ports are free", async () => {
    const replies: ApiReply[] = [];
    const tokens: string[] = [];
    // Each user stays under its own cap; the node's port range runs out first.
    for (let i = 0; i < PORTS + 2; i++) {
      tokens.push(await s.token(`port-user-${i}`));
      replies.push(await s.api(tokens[i] as string, "POST", rooms("port-room", "/transports"), recv));
    }
    const ok = replies.filter((r) => r.status === 200);
    const refused = replies.filter((r) => r.status !== 200);
    expect(ok.length).toBeGreaterThan(0);
    expect(ok.length).toBeLessThanOrEqual(PORTS);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect([r.status, r.json.error?.code]).toEqual([503, "MEDIA_UNAVAILABLE"]);

    const first = replies.indexOf(ok[0] as ApiReply);
    const del = await s.api(
      tokens[first] as string,
      "DELETE",
      rooms("port-room", `/transports/${ok[0]?.json.id}`),
    );
    expect(del.status).toBe(200);
    const late = await s.token("late-user");
    await waitFor(
      "a transport once a port is free",
      () => s.api(late, "POST", rooms("port-room", "/transports"), recv),
      (r) => r.status === 200,
      5_000,
    );
    await noServerErrors(s);
  });
});
