import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiReply, type MediaStack, startMediaStack, waitFor } from "./harness.ts";

/**
 * Who may open a room (and its mediasoup router) against a real worker: viewers' calls for rooms
 * that are not live allocate nothing and answer 409, hosts are capped per user and per node
 * (429 MEDIA_ROOM_LIMIT) while other hosts still go live, and rooms nobody used are released.
 * Counts come from the workers' own dumps (the admin inventory), not from our maps.
 */
const rooms = (room: string, p = "") => `/media/v1/rooms/${room}${p}`;
const PER_HOST = 2;
const NODE_ROOMS = 6;
const STREAMS_PER_USER = 3;

interface Inventory {
  workers: { routers: number }[];
  rooms: number;
  transports: number;
}

describe("media rooms: only hosts open them, within caps", () => {
  let s: MediaStack;
  let admin: string;
  let viewer: string;
  const live = "real-room";

  beforeAll(async () => {
    s = await startMediaStack({
      MEDIA_HLS: "false",
      MEDIA_WORKERS: "1",
      MEDIA_INGEST_TIMEOUT_MS: "600000",
      MEDIA_MAX_ROOMS_PER_USER: String(PER_HOST),
      MEDIA_MAX_ROOMS: String(NODE_ROOMS),
      MEDIA_ROOM_IDLE_MS: "1000",
      MEDIA_CONNECT_TIMEOUT_MS: "1000",
      MEDIA_MAX_EVENT_STREAMS_PER_USER: String(STREAMS_PER_USER),
      // Hundreds of calls from one user and one address: the rate limits have their own test.
      MEDIA_SIGNALING_ADDRESS_BURST: "100000",
      MEDIA_SIGNALING_USER_BURST: "100000",
    });
    admin = await s.token("ops", "admin");
    viewer = await s.token("curious-viewer");
    await s.tier.openIngest(live, { audio: {} });
  });
  afterAll(async () => {
    await s?.stop();
  });

  const inventory = async (): Promise<Inventory> =>
    (await s.api(admin, "GET", "/media/v1/admin/inventory")).json as unknown as Inventory;
  const routers = (inv: Inventory) => inv.workers.reduce((n, w) => n + w.routers, 0);
  const ingest = (token: string, room: string): Promise<ApiReply> =>
    s.api(token, "POST", rooms(room, "/ingest"), { audio: {} });
  const codeOf = (r: ApiReply) => [r.status, r.json.error?.code];
  const events = (room: string, token: string) =>
    fetch(`${s.tier.url}${rooms(room, "/events")}?token=${token}`);
  /** Runs `n` calls `batch` at a time (a busy machine, one HTTP agent). */
  const inBatches = async (n: number, batch: number, call: (i: number) => Promise<ApiReply>) => {
    const out: ApiReply[] = [];
    for (let i = 0; i < n; i += batch)
      out.push(...(await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, j) => call(i + j)))));
    return out;
  };

  it("500 made-up rooms: capabilities and receive transports are 409 MEDIA_ROOM_NOT_LIVE and no router, room or transport is created", async () => {
    const before = await inventory();
    expect([routers(before), before.rooms]).toEqual([1, 1]);
    const otherHost = await s.token("host-elsewhere", "host", ["elsewhere"]);

    const caps = await inBatches(500, 50, (i) =>
      s.api(i % 2 ? viewer : otherHost, "GET", rooms(`made-up-${i}`, "/rtp-capabilities")),
    );
    expect(caps.filter((r) => r.status !== 409 || r.json.error?.code !== "MEDIA_ROOM_NOT_LIVE")).toEqual([]);
    const recv = await inBatches(100, 50, (i) =>
      s.api(viewer, "POST", rooms(`made-up-${i}`, "/transports"), { direction: "recv" }),
    );
    expect(recv.filter((r) => r.status !== 409 || r.json.error?.code !== "MEDIA_ROOM_NOT_LIVE")).toEqual([]);
    // The other viewer routes only look rooms up.
    const unknown = "00000000-0000-0000-0000-000000000000";
    expect(codeOf(await s.api(viewer, "GET", rooms("made-up-1")))).toEqual([200, undefined]);
    expect(codeOf(await s.api(viewer, "DELETE", rooms("made-up-1", `/transports/${unknown}`)))).toEqual([
      404,
      "MEDIA_TRANSPORT_NOT_FOUND",
    ]);
    expect(codeOf(await s.api(viewer, "POST", rooms("made-up-1", `/consumers/${unknown}/resume`)))).toEqual([
      404,
      "MEDIA_CONSUMER_NOT_FOUND",
    ]);
    // Event streams hold their connection only: closed, nothing of them stays.
    const watchers = await Promise.all(Array.from({ length: 20 }, (_, i) => s.token(`watcher-${i}`)));
    const streams = await Promise.all(watchers.map((t, i) => events(`made-up-${i}`, t)));
    expect(streams.map((r) => r.status)).toEqual(Array(20).fill(200));
    for (const r of streams) await r.body?.cancel();
    await waitFor(
      "event streams to close",
      () => s.tier.events.count,
      (n) => n === 0,
      10_000,
    );

    const after = await inventory();
    expect([routers(after), after.rooms, after.transports]).toEqual([1, 1, before.transports]);
    expect(s.tier.rooms.all().map((r) => r.name)).toEqual([live]);
    // The live room still serves its viewers.
    expect((await s.api(viewer, "GET", rooms(live, "/rtp-capabilities"))).status).toBe(200);
    expect((await s.api(viewer, "POST", rooms(live, "/transports"), { direction: "recv" })).status).toBe(200);
  });

  it("a host holds at most MEDIA_MAX_ROOMS_PER_USER rooms (429 MEDIA_ROOM_LIMIT, concurrent calls too) while another host goes live; a room that ends gives its slot back", async () => {
    const burst = await Promise.all(Array.from({ length: 6 }, (_, i) => ingest(admin, `admin-${i}`)));
    const ok = burst.filter((r) => r.status === 200);
    const refused = burst.filter((r) => r.status !== 200);
    expect(ok).toHaveLength(PER_HOST);
    for (const r of refused) expect(codeOf(r)).toEqual([429, "MEDIA_ROOM_LIMIT"]);
    expect(refused[0]?.json.error?.message).toMatch(/you hold 2 rooms/);
    // Every host action that would open a room is refused alike.
    const send = await s.api(admin, "POST", rooms("admin-9", "/transports"), { direction: "send" });
    expect(codeOf(send)).toEqual([429, "MEDIA_ROOM_LIMIT"]);
    expect(codeOf(await s.api(admin, "GET", rooms("admin-9", "/rtp-capabilities")))).toEqual([
      429,
      "MEDIA_ROOM_LIMIT",
    ]);

    const host = await s.token("other-host", "host", ["other-1"]);
    expect((await ingest(host, "other-1")).status).toBe(200);
    expect((await s.api(viewer, "GET", rooms("other-1", "/rtp-capabilities"))).status).toBe(200);
    expect((await s.api(viewer, "POST", rooms("other-1", "/transports"), { direction: "recv" })).status).toBe(
      200,
    );

    const mine = s.tier.rooms.all().filter((r) => r.host === "ops");
    expect(mine).toHaveLength(PER_HOST);
    expect((await s.api(admin, "POST", rooms(mine[0]?.name as string, "/stop"))).status).toBe(200);
    expect((await ingest(admin, "admin-9")).status).toBe(200);
    const inv = await inventory();
    expect([routers(inv), inv.rooms]).toEqual([4, 4]); // real-room, admin x2, other-1
  });

  it("a full node (MEDIA_MAX_ROOMS) refuses new rooms with 429 MEDIA_ROOM_LIMIT, keeps serving the live ones, and opens again once one ends", async () => {
    const hosts = await Promise.all(["n-1", "n-2", "n-3"].map((r) => s.token(`host-${r}`, "host", [r])));
    expect((await ingest(hosts[0] as string, "n-1")).status).toBe(200);
    expect((await ingest(hosts[1] as string, "n-2")).status).toBe(200);
    const full = await ingest(hosts[2] as string, "n-3");
    expect(codeOf(full)).toEqual([429, "MEDIA_ROOM_LIMIT"]);
    expect(full.json.error?.message).toMatch(/media node holds 6 rooms/);
    expect((await s.api(viewer, "GET", rooms(live, "/rtp-capabilities"))).status).toBe(200);
    // A host joining a room that is already open takes no new slot.
    const coHost = await s.token("co-host", "host", ["n-1"]);
    expect((await s.api(coHost, "POST", rooms("n-1", "/transports"), { direction: "send" })).status).toBe(
      200,
    );

    expect((await s.api(admin, "POST", rooms("other-1", "/stop"))).status).toBe(200);
    expect((await ingest(hosts[2] as string, "n-3")).status).toBe(200);
    expect(routers(await inventory())).toBe(NODE_ROOMS);
  });

  it("a room its host opened and never took live is released after MEDIA_ROOM_IDLE_MS; its slot comes back", async () => {
    for (const r of ["n-1", "n-2", "n-3"])
      expect((await s.api(admin, "POST", rooms(r, "/stop"))).status).toBe(200);
    const before = routers(await inventory());
    const host = await s.token("hesitant", "host", ["u-1", "u-2", "u-3"]);
    // Capabilities first (the browser loads its device), then a send transport that never connects.
    expect((await s.api(host, "GET", rooms("u-1", "/rtp-capabilities"))).status).toBe(200);
    expect((await s.api(host, "POST", rooms("u-2", "/transports"), { direction: "send" })).status).toBe(200);
    expect(routers(await inventory())).toBe(before + 2);
    // Open is not live: viewers still get 409 there.
    expect(codeOf(await s.api(viewer, "GET", rooms("u-1", "/rtp-capabilities")))).toEqual([
      409,
      "MEDIA_ROOM_NOT_LIVE",
    ]);
    expect(codeOf(await ingest(host, "u-3"))).toEqual([429, "MEDIA_ROOM_LIMIT"]);

    await waitFor("unused rooms released", inventory, (inv) => routers(inv) === before, 15_000);
    expect(s.tier.rooms.get("u-1")).toBeUndefined();
    expect(s.tier.rooms.get("u-2")).toBeUndefined();
    expect((await ingest(host, "u-3")).status).toBe(200);
    const metrics = await (await fetch(`${s.tier.url}/metrics`)).text();
    expect(metrics).not.toMatch(/livedrop_media_http_requests_total\{[^}]*status="500"/);
  });

  it("a user holds at most MEDIA_MAX_EVENT_STREAMS_PER_USER open event streams (429 MEDIA_EVENT_STREAM_LIMIT); another user still watches; a closed stream gives its slot back", async () => {
    const mine = await Promise.all(
      Array.from({ length: STREAMS_PER_USER }, (_, i) => events(`watched-${i}`, viewer)),
    );
    expect(mine.map((r) => r.status)).toEqual(Array(STREAMS_PER_USER).fill(200));
    const over = await events("watched-x", viewer);
    expect([over.status, ((await over.json()) as { error: { code: string } }).error.code]).toEqual([
      429,
      "MEDIA_EVENT_STREAM_LIMIT",
    ]);
    const other = await events("watched-x", await s.token("another-watcher"));
    expect(other.status).toBe(200);
    await mine[0]?.body?.cancel();
    const again = await waitFor(
      "the stream slot to come back",
      async () => {
        const r = await events("watched-x", viewer);
        if (r.status !== 200) await r.body?.cancel();
        return r;
      },
      (r) => r.status === 200,
      10_000,
    );
    for (const r of [...mine.slice(1), other, again]) await r.body?.cancel();
    await waitFor(
      "every stream closed",
      () => s.tier.events.count,
      (n) => n === 0,
      10_000,
    );
    expect(s.tier.rooms.get("watched-x")).toBeUndefined();
  });
});
