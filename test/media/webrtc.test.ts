import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childLogger } from "../../core/index.ts";
import { type Broadcast, ingestOverHttp, startBroadcast } from "../../media/index.ts";
import { artifactPath, launchChromium, newContext } from "../harness/browser.ts";
import {
  framesDecodedAbove,
  type MediaStack,
  type PageArgs,
  type PageGlobal,
  startMediaStack,
  startPageServer,
  waitFor,
} from "./harness.ts";

/**
 * Real media end to end: the Debian mediasoup worker, ffmpeg, and Debian's chromium running
 * mediasoup-client (bundled by vite) and hls.js on a page served from another origin.
 */
describe("media tier with a browser", () => {
  let s: MediaStack;
  let browser: Browser;
  let context: BrowserContext;
  let pages: { url: string; close(): Promise<void> };
  let broadcast: Broadcast | undefined;
  const log = childLogger("test-broadcast").child({}, { level: "warn" });

  beforeAll(async () => {
    // Two workers and two consumers per router: the second viewer of a room needs an edge router.
    [s, pages, browser] = await Promise.all([
      startMediaStack({
        MEDIA_WORKERS: "2",
        MEDIA_MAX_CONSUMERS_PER_ROUTER: "2",
        MEDIA_PEER_TIMEOUT_MS: "3000",
        // Short, so a connected transport wrongly taken for a never-connected one dies mid-test.
        MEDIA_CONNECT_TIMEOUT_MS: "2000",
      }),
      startPageServer(),
      launchChromium(),
    ]);
    context = await newContext(browser, "desktop");
  }, 120_000);
  afterAll(async () => {
    await broadcast?.stop();
    await context?.close();
    await browser?.close();
    await pages?.close();
    await s?.stop();
  });

  const open = async (): Promise<Page> => {
    const page = await context.newPage();
    page.on("pageerror", (err) => log.warn({ err: err.message }, "page error"));
    await page.goto(pages.url);
    return page;
  };
  const watch = (page: Page, o: PageArgs) =>
    page.evaluate((a) => (globalThis as unknown as PageGlobal).ld.watch(a), o);

  it("an ffmpeg test pattern sent as RTP into a PlainTransport plays in a browser over WebRTC (framesDecoded rises)", async () => {
    const room = "pattern";
    const host = await s.token("encoder", "host", [room]);
    broadcast = await startBroadcast({
      source: "testsrc",
      size: "320x240",
      fps: 15,
      videoKbps: 300,
      open: ingestOverHttp(s.tier.url, room, host),
      log,
    });
    expect(broadcast.pid).toBeGreaterThan(0);
    const page = await open();
    const viewer = { base: s.tier.url, room, token: await s.token("pattern-viewer") };
    const watched = await watch(page, viewer);
    expect(watched.consumers.map((c) => c.kind).sort()).toEqual(["audio", "video"]);
    const first = await framesDecodedAbove(page, 10, 45_000);
    const later = await framesDecodedAbove(page, first + 25, 45_000);
    expect(later).toBeGreaterThan(first);
    // Three more seconds of frames: past the connect timeout, the connected transport lives on.
    await framesDecodedAbove(page, later + 45, 45_000);
    const mine = s.tier.rooms.get(room)?.transportsOf((e) => e.id === watched.transportId) ?? [];
    expect(mine).toHaveLength(1);
    await page.screenshot({ path: artifactPath("media-pattern-webrtc.png") });
    await page.close();
  }, 150_000);

  it("the same live room writes HLS segments that hls.js plays in Chromium (currentTime advances)", async () => {
    const room = "pattern";
    const viewer = await s.token("hls-viewer");
    let page: Page | undefined;
    try {
      const state = await waitFor(
        "the HLS playlist",
        async () => (await s.api(viewer, "GET", `/media/v1/rooms/${room}`)).json,
        (j) => j.hls !== null,
        90_000,
      );
      const playlistUrl = (state.hls as { playlistUrl: string }).playlistUrl;
      const playlist = await fetch(playlistUrl);
      expect(playlist.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
      expect(playlist.headers.get("cache-control")).toMatch(/no-cache/);
      const text = await playlist.text();
      expect(text).toMatch(/#EXT-X-PROGRAM-DATE-TIME:/);
      // 1 s segments; a starved encoder's late keyframe can stretch one, and ffmpeg rounds it up.
      const target = Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(text)?.[1]);
      expect(target).toBeGreaterThanOrEqual(1);
      expect(target).toBeLessThanOrEqual(3);
      const segment = /^(\w+\.ts)$/m.exec(text)?.[1];
      const seg = await fetch(new URL(segment as string, playlistUrl));
      expect(seg.headers.get("content-type")).toBe("video/mp2t");
      expect((await seg.arrayBuffer()).byteLength).toBeGreaterThan(1_000);

      page = await open();
      await page.evaluate((url) => (globalThis as unknown as PageGlobal).ld.playHls(url), playlistUrl);
      const playing = page;
      const hlsStats = () => playing.evaluate(() => (globalThis as unknown as PageGlobal).ld.hlsStats());
      const started = await waitFor("hls.js playback", hlsStats, (st) => (st?.currentTime ?? 0) > 1, 60_000);
      const later = await waitFor(
        "currentTime to advance",
        hlsStats,
        (st) => (st?.currentTime ?? 0) > (started?.currentTime ?? 0) + 2,
        60_000,
      );
      // program-date-time maps playback to wall time: a live viewer is seconds, not minutes, behind.
      expect(later?.playingDateMs).not.toBeNull();
      const behindMs = (later?.nowMs ?? 0) - (later?.playingDateMs ?? 0);
      expect(behindMs).toBeGreaterThan(0);
      expect(behindMs).toBeLessThan(20_000);
      await page.screenshot({ path: artifactPath("media-pattern-hls.png") });
    } finally {
      // The pattern room's encoder and HLS stop here even on failure: the next test needs the CPU.
      await page?.close();
      await broadcast?.stop();
      broadcast = undefined;
      await s.api(await s.token("encoder", "host", [room]), "POST", `/media/v1/rooms/${room}/stop`);
    }
  }, 240_000);

  it("a page publishing its fake camera is watched by two other pages; the second viewer is served through a pipeToRouter edge on the other worker", async () => {
    const room = "camera";
    const hostPage = await open();
    const host = { base: s.tier.url, room, token: await s.token("camera-host", "host", [room]) };
    const published = await hostPage.evaluate(
      (a) => (globalThis as unknown as PageGlobal).ld.publish(a),
      host,
    );
    expect(published.producerIds).toHaveLength(2);

    const first = await open();
    await watch(first, { base: s.tier.url, room, token: await s.token("cam-viewer-1") });
    expect(await framesDecodedAbove(first, 20, 60_000)).toBeGreaterThan(20);

    const second = await open();
    const w2 = await watch(second, { base: s.tier.url, room, token: await s.token("cam-viewer-2") });
    expect(await framesDecodedAbove(second, 20, 60_000)).toBeGreaterThan(20);

    const r = s.tier.rooms.get(room);
    const slots = r?.fanout.slots ?? [];
    expect(slots).toHaveLength(2);
    const [origin, edge] = slots;
    expect(origin?.origin).toBe(true);
    expect(edge?.viewers.has(w2.transportId)).toBe(true);
    expect(edge?.worker.pid).not.toBe(origin?.worker.pid);
    await second.screenshot({ path: artifactPath("media-camera-edge-viewer.png") });

    // The host leaves (its send transport closes): viewers are told, the room releases everything.
    await hostPage.close();
    await waitFor(
      "the room to end",
      () => s.tier.rooms.get(room),
      (x) => x === undefined,
      30_000,
    );
    const left = await s.tier.inventory();
    expect(left.workers.reduce((n, w) => n + w.routers, 0)).toBe(0);
    await first.close();
    await second.close();
  }, 240_000);
});
