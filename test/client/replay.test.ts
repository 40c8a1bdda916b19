import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childLogger } from "../../core/index.ts";
import { type Broadcast, ingestOverHttp, startBroadcast } from "../../media/index.ts";
import { replayListSchema } from "../../protocol/index.ts";
import { launchChromium } from "../harness/browser.ts";
import { dropDefinition } from "../sale-engine/fixtures.ts";
import { buildClientForTests } from "./build-client.ts";
import { type FullStack, startFullStack } from "./full-stack.ts";
import { Pages, until } from "./pages.ts";

const ROOM = "replay-page-room";
const log = childLogger("test-replay-page").child({}, { level: "warn" });

/** What the replay page shows at one instant: program time on screen, the card, the chapters. */
interface Seen {
  phase: string | null;
  programMs: number | null;
  card: string | null;
  buyable: string | null;
  chapters: string[];
}

/**
 * A broadcast with a drop opened in its middle is recorded; the replay page (Chromium, the real
 * build, served by the gateway) plays it with hls.js, lists the drop as a chapter, shows no card
 * before the drop's moment and its card from that moment on, and sells the drop's remaining
 * stock through the live buy path.
 */
describe("replay page in Chromium", () => {
  let full: FullStack;
  let browser: Browser;
  let pages: Pages;
  let broadcast: Broadcast | undefined;
  const dist = mkdtempSync(path.join(os.tmpdir(), "livedrop-replay-dist-"));

  beforeAll(async () => {
    [, full] = await Promise.all([buildClientForTests(dist), startFullStack(dist)]);
    browser = await launchChromium();
    pages = new Pages(browser);
  }, 180_000);
  afterAll(async () => {
    await broadcast?.stop();
    await pages?.close();
    await browser?.close();
    await full?.stop();
    rmSync(dist, { recursive: true, force: true });
  });

  it("shows a drop's card at its moment in the recording, and its stock can still be bought", async () => {
    const { engine } = full.stack.stack;
    const host = await full.stack.token("replay-host", "host", [ROOM]);
    broadcast = await startBroadcast({
      source: "testsrc",
      size: "320x240",
      fps: 15,
      videoKbps: 300,
      open: ingestOverHttp(full.media.url, ROOM, host),
      log,
    });
    const segments = () => full.media.replays?.recording(ROOM)?.segmentCount ?? 0;
    // Seconds of video before the drop: the page has that long to be seen without a card.
    await until("5 s recorded before the drop", async () => segments() >= 5, 60_000);
    const startsAt = (await engine.serverTime()) + 500;
    const dropId = `replay-drop-${Date.now().toString(36)}`;
    const drop = dropDefinition({ dropId, roomId: ROOM, initialStock: 5, perUserLimit: 2, startsAt });
    await engine.createDrop({
      ...drop,
      product: { ...drop.product, imageUrl: `${full.gateway.url}/demo/product.svg` },
    });
    const atDrop = segments();
    await until("3 s recorded after the drop", async () => segments() >= atDrop + 3, 60_000);
    full.media.stopRoom(ROOM);
    await broadcast.stop();
    broadcast = undefined;
    const replays = await until(
      "the replay listed",
      async () => {
        const res = await fetch(`${full.media.url}/replays/${ROOM}`);
        const list = replayListSchema.parse(await res.json());
        return list.replays.length === 1 ? list.replays : undefined;
      },
      30_000,
    );
    expect(replays[0]?.startedAt).toBeLessThan(startsAt);

    // Off air, the live page's player offers the replay; its link opens the replay page.
    const page = await pages.open("replay", `${full.gateway.url}/live/${ROOM}`, "desktop");
    await until(
      "the live page off air",
      async () => (await page.getByTestId("player").getAttribute("data-phase")) === "offline",
      30_000,
    );
    await page.getByTestId("replay-link").click();
    await page.waitForURL(`**/replay/${ROOM}`);
    const seen = (): Promise<Seen> =>
      page.evaluate(() => {
        type El = { getAttribute(n: string): string | null };
        type Doc = { querySelector(s: string): El | null; querySelectorAll(s: string): ArrayLike<El> };
        const d = (globalThis as unknown as { document: Doc }).document;
        const player = d.querySelector('[data-testid="replay-player"]');
        const card = d.querySelector('[data-testid="replay-card"]');
        const t = player?.getAttribute("data-program-time");
        return {
          phase: player?.getAttribute("data-phase") ?? null,
          programMs: t ? Number(t) : null,
          card: card?.getAttribute("data-drop-id") ?? null,
          buyable: card?.getAttribute("data-buyable") ?? null,
          chapters: Array.from(d.querySelectorAll('[data-testid="chapter"]')).map(
            (c) => c.getAttribute("data-drop-id") ?? "",
          ),
        };
      });

    // Before the drop's moment: the video plays, the chapter is listed, no card.
    const before = await until(
      "playback before the drop",
      async () => {
        const s = await seen();
        return s.phase === "playing" && s.programMs !== null && s.programMs < startsAt - 500 ? s : undefined;
      },
      30_000,
      async () => JSON.stringify(await seen()),
    );
    expect(before.card).toBeNull();
    expect(before.chapters).toEqual([dropId]);

    // At its moment the card appears, and only from then on.
    const at = await until(
      "the drop's card",
      async () => {
        const s = await seen();
        return s.card ? s : undefined;
      },
      30_000,
      async () => JSON.stringify(await seen()),
    );
    expect(at.card).toBe(dropId);
    expect(at.programMs).toBeGreaterThanOrEqual(startsAt);

    // The drop still sells: the live card's buy button places a hold, as on the live page.
    await until("a buyable card", async () => (await seen()).buyable === "true", 20_000);
    await page.getByTestId("replay-card").getByTestId("buy").click();
    await until("the hold panel", async () => (await page.getByTestId("hold").count()) === 1, 20_000);
    const status = await engine.status(dropId);
    expect([status.held, status.available]).toEqual([1, 4]);
    expect(pages.errors).toEqual([]);
  }, 240_000);

  it("the host console of a room fed by an encoder plays the program viewers see, muted", async () => {
    const room = "program-room";
    const host = await full.stack.token("program-host", "host", [room]);
    broadcast = await startBroadcast({
      source: "testsrc",
      size: "320x240",
      fps: 15,
      videoKbps: 300,
      open: ingestOverHttp(full.media.url, room, host),
      log,
    });
    const page = await pages.open("program", `${full.gateway.url}/host/${room}#token=${host}`, "desktop");
    const preview = page.getByTestId("program-preview");
    const frames = () =>
      preview.getByTestId("video").evaluate((el) => {
        const v = el as unknown as {
          getVideoPlaybackQuality(): { totalVideoFrames: number };
          muted: boolean;
        };
        return { frames: v.getVideoPlaybackQuality().totalVideoFrames, muted: v.muted };
      });
    await until(
      "the program playing",
      async () => (await preview.getByTestId("player").getAttribute("data-phase")) === "playing",
      60_000,
      async () => `${await preview.getByTestId("player").getAttribute("data-phase")}`,
    );
    const first = await frames();
    expect(first.muted).toBe(true);
    await until("program frames decoded", async () => (await frames()).frames > first.frames + 5, 30_000);
    expect(await preview.getByTestId("program-delay").textContent()).not.toBe("");
    await broadcast.stop();
    broadcast = undefined;
    expect(pages.errors).toEqual([]);
  }, 120_000);
});
