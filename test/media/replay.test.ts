import { execFile } from "node:child_process";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childLogger } from "../../core/index.ts";
import { ReplayStore } from "../../media/hls/replay-store.ts";
import { type Broadcast, ingestOverHttp, startBroadcast } from "../../media/index.ts";
import { type Replay, replayListSchema } from "../../protocol/index.ts";
import { type MediaStack, startMediaStack, waitFor } from "./harness.ts";

const run = promisify(execFile);
const log = childLogger("test-replay").child({}, { level: "warn" });

/**
 * A broadcast (ffmpeg test pattern over RTP) is kept as a replay when its host stops: the list
 * names it, its playlist is VOD and plays as a file (ffprobe), segments are served whole and in
 * ranges, and odd paths are 404. The retention and disk-cap sweep runs on copies of that replay.
 */
describe("replays of ended broadcasts", () => {
  let s: MediaStack;
  let broadcast: Broadcast | undefined;
  let replay: Replay;
  const room = "replayroom";

  beforeAll(async () => {
    s = await startMediaStack({ MEDIA_WORKERS: "1" });
  });
  afterAll(async () => {
    await broadcast?.stop();
    await s?.stop();
  });

  const list = async (r: string) => replayListSchema.parse((await s.api("", "GET", `/replays/${r}`)).json);

  it("the host's stop keeps the stream, across an ffmpeg restart, as a VOD playlist with its segments", async () => {
    const host = await s.token("replay-host", "host", [room]);
    broadcast = await startBroadcast({
      source: "testsrc",
      size: "320x240",
      fps: 15,
      videoKbps: 300,
      open: ingestOverHttp(s.tier.url, room, host),
      log,
    });
    await waitFor(
      "HLS egress",
      () => s.tier.hls.get(room),
      (e) => e?.ready === true,
      30_000,
    );
    // Recording while live: segments are linked in as they appear; nothing is listed yet.
    await waitFor(
      "3 recorded segments",
      () => s.tier.replays?.recording(room)?.segmentCount ?? 0,
      (n) => n >= 3,
      30_000,
    );
    expect((await list(room)).replays).toEqual([]);
    // An ffmpeg restart mid-broadcast starts a new run of segments: kept, after a discontinuity.
    const beforeCrash = s.tier.replays?.recording(room)?.segmentCount ?? 0;
    s.tier.hls.get(room)?.crashFfmpeg();
    await waitFor(
      "2 segments of the restarted ffmpeg",
      () => s.tier.replays?.recording(room)?.segmentCount ?? 0,
      (n) => n >= beforeCrash + 2,
      30_000,
    );

    const stop = await s.api(host, "POST", `/media/v1/rooms/${room}/stop`);
    expect(stop.status).toBe(200);
    const listed = await waitFor(
      "the replay listed",
      () => list(room),
      (l) => l.replays.length === 1,
    );
    replay = listed.replays[0] as Replay;
    expect(replay.segments).toBeGreaterThanOrEqual(3);
    expect(replay.durationS).toBeGreaterThan(2);
    expect(replay.endedAt).toBeGreaterThanOrEqual(replay.startedAt);
    // The restart starts a new span: play time runs on where the first one ended, program time
    // jumps over the break, and chapters map through them.
    expect(replay.spans.length).toBeGreaterThanOrEqual(2);
    expect(replay.spans[0]).toMatchObject({ at: replay.startedAt, offsetS: 0 });
    for (const [i, span] of replay.spans.entries()) {
      const prev = replay.spans[i - 1];
      if (!prev) continue;
      expect(span.offsetS).toBeCloseTo(prev.offsetS + prev.durationS, 2);
      expect(span.at).toBeGreaterThanOrEqual(prev.at + prev.durationS * 1000 - 1_000);
    }
    expect(replay.spans.reduce((n, x) => n + x.durationS, 0)).toBeCloseTo(replay.durationS, 2);
    expect(replay.playlistUrl).toBe(`${s.tier.publicUrl}/replays/${room}/${replay.id}/index.m3u8`);
    // The live folder is gone (the egress stopped); the replay outlives it.
    await waitFor(
      "live egress gone",
      () => s.tier.hls.get(room),
      (e) => e === undefined,
    );

    const res = await fetch(replay.playlistUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
    expect(res.headers.get("cache-control")).toContain("max-age");
    const text = await res.text();
    expect(text).toContain("#EXT-X-PLAYLIST-TYPE:VOD");
    expect(text.trim().endsWith("#EXT-X-ENDLIST")).toBe(true);
    expect(text).toContain("#EXT-X-PROGRAM-DATE-TIME:");
    expect(text).toContain("#EXT-X-DISCONTINUITY");
    const segments = text.split("\n").filter((l) => l.endsWith(".ts"));
    expect(segments).toHaveLength(replay.segments);

    // The recording is a playable file set: ffprobe reads the whole VOD from disk.
    const dir = path.join(s.dir, "replays", room, replay.id);
    const probe = await run("ffprobe", [
      ...["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0"],
      path.join(dir, "index.m3u8"),
    ]);
    expect(Number(probe.stdout.trim())).toBeGreaterThan(2);

    const first = `${s.tier.url}/replays/${room}/${replay.id}/${segments[0]}`;
    const whole = await fetch(first);
    expect([whole.status, whole.headers.get("content-type")]).toEqual([200, "video/mp2t"]);
    expect(whole.headers.get("cache-control")).toContain("immutable");
    const bytes = Buffer.from(await whole.arrayBuffer());
    expect(bytes[0]).toBe(0x47); // MPEG-TS sync byte
    const part = await fetch(first, { headers: { range: "bytes=188-375" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 188-375/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(188, 376))).toBe(true);
    const tail = await fetch(first, { headers: { range: "bytes=-188" } });
    expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(bytes.length - 188))).toBe(true);
    const outside = await fetch(first, { headers: { range: `bytes=${bytes.length}-` } });
    expect([outside.status, outside.headers.get("content-range")]).toEqual([416, `bytes */${bytes.length}`]);
  }, 90_000);

  it("refuses paths outside a replay and unknown rooms or recordings with 404", async () => {
    const base = `${s.tier.url}/replays/${room}/${replay.id}`;
    for (const p of [
      `${base}/../../hls/${room}/index.m3u8`,
      `${base}/%2e%2e/meta.json`,
      `${base}/meta.json`,
      `${s.tier.url}/replays/${room}/r0-0000/index.m3u8`,
      `${s.tier.url}/replays/${room}/..%2f..%2fetc/passwd`,
    ]) {
      const res = await fetch(p);
      expect([p, res.status]).toEqual([p, 404]);
    }
    expect((await list("nosuchroom")).replays).toEqual([]);
    const bad = await s.api("", "GET", "/replays/bad.room");
    expect(bad.status).toBe(404);
  });

  it("the sweep deletes replays past retention, then the oldest while over the disk cap", async () => {
    const source = path.join(s.dir, "replays", room, replay.id);
    const root = await mkdtemp(path.join(os.tmpdir(), "livedrop-replay-sweep-"));
    try {
      const now = Date.now();
      const copies = [
        { id: "r1-0001", endedAt: now - 3 * 3_600_000 }, // past the 2 h retention
        { id: "r2-0002", endedAt: now - 60_000 * 30 }, // oldest kept one
        { id: "r3-0003", endedAt: now - 60_000 },
      ];
      for (const c of copies) {
        const dir = path.join(root, room, c.id);
        await cp(source, dir, { recursive: true });
        const meta = JSON.parse(await readFile(path.join(dir, "meta.json"), "utf8"));
        await writeFile(
          path.join(dir, "meta.json"),
          JSON.stringify({ ...meta, id: c.id, endedAt: c.endedAt }),
        );
      }
      // A folder left by a crash mid-recording (no closed meta) is unplayable: removed too.
      await cp(source, path.join(root, room, "r4-0004"), { recursive: true });
      await rm(path.join(root, room, "r4-0004", "meta.json"));

      const store = await ReplayStore.create({
        root,
        retentionMs: 2 * 3_600_000,
        // Room for two copies, not three: retention alone leaves two, so the cap removes none.
        maxBytes: replay.bytes * 2,
        sweepMs: 3_600_000,
        pollMs: 3_600_000,
        sources: () => [],
        log,
      });
      expect((await readdir(path.join(root, room))).sort()).toEqual(["r2-0002", "r3-0003"]);
      expect((await store.list(room)).map((m) => m.id).sort()).toEqual(["r2-0002", "r3-0003"]);
      await store.close();

      // Now a cap of one replay: the older of the two goes.
      const tight = await ReplayStore.create({
        root,
        retentionMs: 2 * 3_600_000,
        maxBytes: replay.bytes,
        sweepMs: 3_600_000,
        pollMs: 3_600_000,
        sources: () => [],
        log,
      });
      expect(await readdir(path.join(root, room))).toEqual(["r3-0003"]);
      expect((await tight.list(room)).map((m) => m.id)).toEqual(["r3-0003"]);
      await tight.close();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
