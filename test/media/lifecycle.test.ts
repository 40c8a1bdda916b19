import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childLogger } from "../../core/index.ts";
import { isPortFree } from "../../deploy/index.ts";
import {
  type Broadcast,
  type IngestResponse,
  ingestOverHttp,
  isUdpPortFree,
  startBroadcast,
} from "../../media/index.ts";
import { type MediaStack, startMediaStack, waitFor } from "./harness.ts";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Lifecycle without a browser: a live room with an RTP ingest, HLS egress and viewers on two
 * routers (origin + pipeToRouter edge); the host stops and every mediasoup object, ffmpeg process
 * and port is released (checked against the workers' own dumps, the process table and the ports).
 */
describe("media room lifecycle", () => {
  let s: MediaStack;
  const log = childLogger("test-broadcast").child({}, { level: "warn" });
  const broadcasts: Broadcast[] = [];

  beforeAll(async () => {
    s = await startMediaStack({
      MEDIA_WORKERS: "2",
      MEDIA_MAX_CONSUMERS_PER_ROUTER: "1",
      // Short, for the dead-encoder test; long enough that a starved encoder on a busy machine is not "dead".
      MEDIA_INGEST_TIMEOUT_MS: "4000",
    });
  });
  afterAll(async () => {
    for (const b of broadcasts) await b.stop();
    await s?.stop();
  });

  const goLive = async (room: string, hostToken: string) => {
    const b = await startBroadcast({
      source: "testsrc",
      size: "320x240",
      fps: 15,
      videoKbps: 300,
      open: ingestOverHttp(s.tier.url, room, hostToken),
      log,
    });
    broadcasts.push(b);
    return b;
  };

  /** A host live in `room` through the RTP ingest, once the room's HLS playlist exists. */
  const goLiveWithHls = async (room: string) => {
    const host = await s.token(`${room}-host`, "host", [room]);
    const b = await goLive(room, host);
    const egress = await waitFor(
      "HLS egress",
      () => s.tier.hls.get(room),
      (e) => e?.ready === true,
      30_000,
    );
    return { host, b, egress };
  };
  const playlistOf = (room: string) => () =>
    fetch(`${s.tier.url}/hls/${room}/index.m3u8`).then((r) => r.text());
  const lastSegment = (text: string) => text.trim().split("\n").at(-1) ?? "";

  /** A viewer: a receive transport consuming every producer (server side; nobody connects). */
  const viewer = async (room: string, name: string) => {
    const token = await s.token(name);
    const caps = (await s.api(token, "GET", `/media/v1/rooms/${room}/rtp-capabilities`)).json;
    const t = await s.api(token, "POST", `/media/v1/rooms/${room}/transports`, { direction: "recv" });
    const producers = (await s.api(token, "GET", `/media/v1/rooms/${room}`)).json.producers as {
      id: string;
    }[];
    for (const p of producers) {
      const c = await s.api(token, "POST", `/media/v1/rooms/${room}/transports/${t.json.id}/consume`, {
        producerId: p.id,
        rtpCapabilities: caps,
      });
      expect(c.status).toBe(200);
    }
    return t.json as { id: string; iceCandidates: { port: number; protocol: "udp" | "tcp" }[] };
  };

  it("the host's stop releases every transport, consumer, router, ffmpeg process and port", async () => {
    const room = "life";
    const host = await s.token("life-host", "host", [room]);
    const b = await goLive(room, host);
    const ingest = b.ingest as IngestResponse;
    const egress = await waitFor(
      "HLS egress",
      () => s.tier.hls.get(room),
      (e) => e?.ready === true,
      30_000,
    );
    const hlsPid = egress?.ffmpegPid as number;
    expect(alive(hlsPid)).toBe(true);

    const v1 = await viewer(room, "life-v1");
    const v2 = await viewer(room, "life-v2");
    const r = s.tier.rooms.get(room);
    expect(r?.fanout.slots).toHaveLength(2); // v2 went to an edge router (pipeToRouter)
    const before = await s.tier.inventory();
    expect(before.workers.reduce((n, w) => n + w.routers, 0)).toBe(2);
    expect(before.workers.every((w) => w.routers === 1)).toBe(true); // one router per worker
    expect(before.consumers).toBeGreaterThanOrEqual(6); // 2 viewers x 2 + HLS 2 (+ pipe consumers)
    expect(before.ffmpegPids).toEqual([hlsPid]);

    const udp = [
      ...[ingest.video, ingest.audio].flatMap((x) => (x ? [x.port, x.rtcpPort] : [])),
      ...(egress?.ports ?? []).flatMap((p) => [p, p + 1]),
      ...[v1, v2].flatMap((t) => t.iceCandidates.filter((c) => c.protocol === "udp").map((c) => c.port)),
    ];
    const tcp = [v1, v2].flatMap((t) =>
      t.iceCandidates.filter((c) => c.protocol === "tcp").map((c) => c.port),
    );
    for (const port of udp) expect([port, await isUdpPortFree(port)]).toEqual([port, false]);

    const events = await fetch(`${s.tier.url}/media/v1/rooms/${room}/events?token=${host}`);
    const reader = (events.body as ReadableStream<Uint8Array>).getReader();
    const stop = await s.api(host, "POST", `/media/v1/rooms/${room}/stop`);
    expect([stop.status, stop.json]).toEqual([200, {}]);

    // Viewers are told: the stream's last state says not live.
    let seen = "";
    while (!seen.includes('"live":false')) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    expect(seen).toContain('"live":false');
    await reader.cancel();

    const after = await waitFor(
      "everything released",
      () => s.tier.inventory(),
      (inv) => inv.rooms === 0 && inv.hlsEgresses === 0 && inv.workers.every((w) => w.routers === 0),
      20_000,
    );
    expect(after).toMatchObject({ transports: 0, producers: 0, consumers: 0, ffmpegPids: [] });
    await waitFor(
      "HLS ffmpeg to exit",
      () => alive(hlsPid),
      (a) => !a,
      5_000,
    );
    for (const port of udp) expect([port, await isUdpPortFree(port)]).toEqual([port, true]);
    for (const port of tcp) expect([port, await isPortFree(port)]).toEqual([port, true]);
    expect(existsSync(path.join(s.dir, "hls", room))).toBe(false);
    expect((await s.api(host, "GET", `/media/v1/rooms/${room}`)).json).toMatchObject({
      live: false,
      hls: null,
    });

    // The encoder still sends into closed ports; the host can go live again with a new ingest.
    await b.stop();
    const again = await s.api(host, "POST", `/media/v1/rooms/${room}/ingest`, { video: {} });
    expect(again.status).toBe(200);
    expect((await s.api(host, "GET", `/media/v1/rooms/${room}`)).json.live).toBe(true);
    await s.api(host, "POST", `/media/v1/rooms/${room}/stop`);
  }, 200_000);

  it("an encoder that stops sending ends the room (a crashed encoder does not stay live)", async () => {
    const room = "silent";
    const host = await s.token("silent-host", "host", [room]);
    const b = await goLive(room, host);
    const videoId = b.ingest.video?.producerId as string;
    const bytes = async () =>
      (await s.tier.rooms.get(room)?.producer(videoId)?.getStats())?.reduce((n, x) => n + x.byteCount, 0) ??
      0;
    await waitFor("media from the encoder", bytes, (n) => n > 0, 30_000);
    expect((await s.api(host, "GET", `/media/v1/rooms/${room}`)).json.live).toBe(true);
    // The encoder dies: after MEDIA_INGEST_TIMEOUT_MS (4 s here) both streams close, the room ends.
    await b.stop();
    await waitFor(
      "the silent room to end",
      () => s.tier.rooms.get(room),
      (x) => x === undefined,
      15_000,
    );
    expect((await s.api(host, "GET", `/media/v1/rooms/${room}`)).json.live).toBe(false);
  }, 60_000);

  it("closing the host's ingest transport ends the room; HLS ffmpeg that dies is restarted meanwhile", async () => {
    const room = "restart";
    const { host, b, egress } = await goLiveWithHls(room);
    const firstPid = egress?.ffmpegPid as number;
    const playlist = playlistOf(room);
    const sequence = (text: string) => Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? -1);
    // Crash a steady run: three segments listed first.
    const beforeCrash = await waitFor(
      "three segments",
      playlist,
      (t) => (t.match(/\.ts$/gm) ?? []).length >= 3,
      30_000,
    );

    egress?.crashFfmpeg();
    await waitFor(
      "a new ffmpeg",
      () => egress?.ffmpegPid,
      (pid) => pid !== undefined && pid !== firstPid,
      10_000,
    );
    expect(alive(firstPid)).toBe(false);
    expect(egress?.ffmpegRestarts).toBe(1);
    // The restarted ffmpeg appends to the same playlist (no numbering restart) with new segments.
    const after = await waitFor(
      "new segments after the restart",
      playlist,
      (t) => lastSegment(t) !== lastSegment(beforeCrash) && t.includes("#EXT-X-DISCONTINUITY"),
      60_000,
    );
    expect(sequence(after)).toBeGreaterThanOrEqual(sequence(beforeCrash));

    const video = b.ingest.video?.transportId as string;
    const audio = b.ingest.audio?.transportId as string;
    expect((await s.api(host, "DELETE", `/media/v1/rooms/${room}/transports/${video}`)).status).toBe(200);
    expect((await s.api(host, "GET", `/media/v1/rooms/${room}`)).json.live).toBe(true); // audio left
    expect((await s.api(host, "DELETE", `/media/v1/rooms/${room}/transports/${audio}`)).status).toBe(200);
    await waitFor(
      "the room to end",
      () => s.tier.rooms.get(room),
      (x) => x === undefined,
      5_000,
    );
    await waitFor(
      "no ffmpeg left",
      () => s.tier.inventory(),
      (inv) => inv.ffmpegPids.length === 0,
      10_000,
    );
    await b.stop();
  }, 200_000);

  it("a hung HLS ffmpeg (SIGSTOP: alive, writing nothing) is killed and replaced; the playlist moves on", async () => {
    const room = "hung";
    const { host, b, egress } = await goLiveWithHls(room);
    const hungPid = egress?.ffmpegPid as number;
    const playlist = playlistOf(room);
    const before = await playlist();
    process.kill(hungPid, "SIGSTOP");
    // No exit to notice: the watchdog sees media reach ffmpeg and no playlist for 10 s.
    await waitFor(
      "a fresh ffmpeg",
      () => egress?.ffmpegPid,
      (pid) => pid !== undefined && pid !== hungPid,
      40_000,
    );
    expect(egress?.stallRestarts).toBe(1);
    await waitFor(
      "the hung ffmpeg gone",
      () => alive(hungPid),
      (a) => !a,
      5_000,
    );
    await waitFor(
      "new segments from the fresh ffmpeg",
      playlist,
      (t) => lastSegment(t) !== lastSegment(before) && t.includes("#EXT-X-DISCONTINUITY"),
      60_000,
    );
    expect(egress?.stallRestarts).toBe(1); // a healthy run is left alone
    await s.api(host, "POST", `/media/v1/rooms/${room}/stop`);
    await b.stop();
  }, 120_000);

  it("a mediasoup worker that dies ends its rooms, is replaced, and the host can go live again", async () => {
    const room = "phoenix";
    const host = await s.token("phoenix-host", "host", [room]);
    const b = await goLive(room, host);
    await waitFor(
      "the room live",
      async () => (await s.api(host, "GET", `/media/v1/rooms/${room}`)).json.live,
      (live) => live === true,
      30_000,
    );
    const pidsBefore = s.tier.pool.pids;
    const victim = s.tier.rooms.get(room)?.fanout.origin.worker.pid as number;
    expect(pidsBefore).toContain(victim);
    process.kill(victim, "SIGKILL");

    await waitFor(
      "the room to end",
      () => s.tier.rooms.get(room),
      (r) => r === undefined,
      15_000,
    );
    const pidsAfter = await waitFor(
      "a replacement worker",
      () => s.tier.pool.pids,
      (pids) => pids.length === pidsBefore.length && !pids.includes(victim),
      15_000,
    );
    expect(pidsAfter.filter((p) => pidsBefore.includes(p))).toHaveLength(pidsBefore.length - 1);
    expect((await fetch(`${s.tier.url}/healthz`)).status).toBe(200);
    await b.stop();

    // The host goes live again; the room gets routers on the live workers, HLS included.
    const again = await goLive(room, host);
    await waitFor(
      "HLS on the new workers",
      () => s.tier.hls.get(room),
      (e) => e?.ready === true,
      30_000,
    );
    expect(pidsAfter).toContain(s.tier.rooms.get(room)?.fanout.origin.worker.pid);
    await s.api(host, "POST", `/media/v1/rooms/${room}/stop`);
    await again.stop();
  }, 120_000);
});
