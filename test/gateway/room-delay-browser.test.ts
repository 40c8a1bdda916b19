import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RoomDelayResponse, roomDelayResponseSchema } from "../../protocol/index.ts";
import { buildClientForTests } from "../client/build-client.ts";
import { type FullStack, startFullStack } from "../client/full-stack.ts";
import { Pages, until, untilPlaying } from "../client/pages.ts";
import { launchChromium } from "../harness/browser.ts";

const ROOM = "delay-browser-room";

/**
 * Real players measure their delay: the host on air from the console, one viewer page over
 * WebRTC and one over HLS (hls.js on the media tier's program-date-time). Their pages report to
 * the room, and the host console's delay panel shows both and the fair window they imply.
 */
describe("viewer pages report their playback delay; the host console shows the room's", () => {
  let full: FullStack;
  let browser: Browser;
  let pages: Pages;
  let host: Page;
  let hostToken = "";
  const dist = mkdtempSync(path.join(os.tmpdir(), "livedrop-delay-dist-"));

  beforeAll(async () => {
    [, full] = await Promise.all([buildClientForTests(dist), startFullStack(dist)]);
    browser = await launchChromium();
    pages = new Pages(browser);
    hostToken = await full.stack.token("delay-host", "host", [ROOM]);
    // 360p: the media tier, its ffmpeg and three pages share this machine's two cores.
    host = await pages.open(
      "delay-host",
      `${full.gateway.url}/host/${ROOM}?quality=360#token=${hostToken}`,
      "desktop",
    );
    await host.getByTestId("start-live").click();
    await until(
      "the host on air",
      async () => (await host.getByTestId("go-live").getAttribute("data-phase")) === "live",
      60_000,
    );
  }, 180_000);

  afterAll(async () => {
    await pages?.close();
    await browser?.close();
    await full?.stop();
    rmSync(dist, { recursive: true, force: true });
  });

  const roomDelay = async (): Promise<RoomDelayResponse> => {
    const res = await fetch(`${full.gateway.url}/api/v1/rooms/${ROOM}/delay`, {
      headers: { authorization: `Bearer ${hostToken}` },
    });
    return roomDelayResponseSchema.parse(await res.json());
  };

  it("an HLS and a WebRTC viewer each report; HLS is the further behind, and sets the window", async () => {
    const webrtc = await pages.open("delay-webrtc", `${full.gateway.url}/live/${ROOM}`, "phone");
    const hls = await pages.open("delay-hls", `${full.gateway.url}/live/${ROOM}?mode=hls`, "desktop");
    for (const [page, mode] of [
      [webrtc, "webrtc"],
      [hls, "hls"],
    ] as const)
      await untilPlaying(page, mode, 90_000);
    const d = await until(
      "a report from each viewer",
      async () => {
        const r = await roomDelay();
        return r.bySource.hls.count === 1 && r.bySource.webrtc.count === 1 ? r : undefined;
      },
      60_000,
      async () => JSON.stringify(await roomDelay()),
    );
    process.stderr.write(`room delay in Chromium: ${JSON.stringify(d)}\n`);
    // HLS plays whole segments behind the live edge; WebRTC is sub-second.
    expect(d.bySource.webrtc.p95Ms).toBeLessThan(1_000);
    expect(d.bySource.hls.p95Ms).toBeGreaterThan(d.bySource.webrtc.p95Ms);
    expect(d.p95Ms).toBe(d.bySource.hls.p95Ms);
    expect(d.impliedWindowMs).toBe(Math.min(60_000, Math.ceil((d.p95Ms + 500) / 250) * 250));
    // The console's panel shows both viewers and the window (polled; the figures move a little).
    const panel = host.getByTestId("delay-panel");
    await until(
      "both viewers on the host's panel",
      async () => (await panel.getByTestId("delay-reports").textContent()) === "2",
    );
    expect(await panel.getByTestId("delay-sources").textContent()).toMatch(
      /HLS: 1 viewers.*WebRTC: 1 viewers/,
    );
    expect(await panel.getByTestId("delay-window").textContent()).toMatch(/^Fair window: \d+(\.\d+)? s$/);
    // A viewer that leaves the page drops out of the room's figures.
    await hls.close();
    await until(
      "the HLS viewer gone from the figures",
      async () => (await roomDelay()).bySource.hls.count === 0,
      30_000,
    );
    expect(pages.errors).toEqual([]);
  }, 240_000);
});
