import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childLogger } from "../../core/index.ts";
import { type ExpirySweeper, startExpirySweeper } from "../../sale-engine/index.ts";
import { launchChromium } from "../harness/browser.ts";
import { dropDefinition } from "../sale-engine/fixtures.ts";
import { type A11yViolation, auditA11y } from "./a11y.ts";
import { buildClientForTests } from "./build-client.ts";
import { type FullStack, startFullStack } from "./full-stack.ts";
import { Pages, until, untilPlaying } from "./pages.ts";

const ROOM = "fair-room";

/** What the page's commerce column shows, for a failure message. */
const commerce = async (page: Page) =>
  (await page
    .locator(".commerce")
    .textContent({ timeout: 2_000 })
    .catch(() => "(none)")) ?? "";

/** A state the entry line showed, and when (the page's clock). */
interface Seen {
  readonly s: string;
  readonly at: number;
}

/**
 * A fair drop in Chromium against the full stack: the host on air, one viewer over WebRTC and
 * one over HLS (seconds behind). The host schedules a drop of one unit with a fair window from
 * the console; both viewers press at T0, both are told they are in the draw with a countdown,
 * then one is drawn (a hold to pay, like a normal buy's) and one is not; the card's "verify
 * this draw" link opens a page that recomputes the draw in the browser and says it matches.
 * The worker's sweeper allocates the window, as in production (fair pass every 100 ms).
 */
describe("a fair window in Chromium: an HLS and a WebRTC viewer enter one draw", () => {
  let full: FullStack;
  let sweeper: ExpirySweeper;
  let browser: Browser;
  let pages: Pages;
  let host: Page;
  let webrtc: Page;
  let hls: Page;
  let verify: Page | undefined;
  let ops: Page | undefined;
  let opensInS = 0;
  /** The drops of the steps before: each ends before the next one, which is then the pinned one. */
  let fairDropId = "";
  let waitlistDropId = "";
  let hlsLatencyS = 0;
  const dist = mkdtempSync(path.join(os.tmpdir(), "livedrop-client-dist-"));

  beforeAll(async () => {
    [, full] = await Promise.all([buildClientForTests(dist), startFullStack(dist)]);
    sweeper = startExpirySweeper(full.stack.stack.engine, 1_000, childLogger("fair-e2e-sweeper"));
    browser = await launchChromium();
    pages = new Pages(browser);
    const base = full.gateway.url;
    const hostToken = await full.stack.token("host-fair", "host", [ROOM]);
    // 360p: the media tier, its ffmpeg and three pages share this machine's two cores.
    host = await pages.open("host", `${base}/host/${ROOM}?quality=360#token=${hostToken}`, "desktop");
    await host.getByTestId("start-live").click();
    await until(
      "the host on air",
      async () => (await host.getByTestId("go-live").getAttribute("data-phase")) === "live",
    );
    webrtc = await pages.open("viewer-webrtc", `${base}/live/${ROOM}`, "phone");
    hls = await pages.open("viewer-hls", `${base}/live/${ROOM}?mode=hls`, "desktop");
  }, 180_000);

  afterAll(async () => {
    await pages?.close();
    await browser?.close();
    await sweeper?.stop();
    await full?.stop();
    rmSync(dist, { recursive: true, force: true });
  });

  it("both viewers play: one over WebRTC, one over HLS", async () => {
    for (const [page, mode] of [
      [webrtc, "webrtc"],
      [hls, "hls"],
    ] as const) {
      await untilPlaying(page, mode, 60_000);
    }
    expect(pages.errors).toEqual([]);
  }, 130_000);

  it("the host schedules a drop with a fair window; the console shows its mode and window", async () => {
    const form = host.getByTestId("drop-form");
    await form.getByLabel("Product").fill("Fair sneaker");
    await form.getByLabel("Stock").fill("1");
    await form.getByLabel("Per buyer").fill("1");
    await form.getByTestId("drop-mode").selectOption("window");
    await form.getByLabel("Window from the room's video delay").uncheck();
    await form.getByLabel("Fair window (seconds)").fill("6");
    // T0 after the HLS viewer's video delay plus a margin: both see the card before it opens.
    hlsLatencyS = await until("the HLS latency", async () => {
      const m = /([\d.]+) s behind/.exec((await hls.getByTestId("latency").textContent()) ?? "");
      return m ? Number(m[1]) : undefined;
    });
    opensInS = Math.min(40, Math.ceil(hlsLatencyS) + 10);
    await form.getByLabel("Opens in (seconds)").fill(String(opensInS));
    await form.getByTestId("schedule").click();
    const row = host.locator("tr[data-drop]");
    await until("the drop in the host's table", async () => (await row.count()) === 1);
    const mode = row.getByTestId("drop-mode-cell");
    expect(await mode.getAttribute("data-mode")).toBe("window");
    expect(await mode.textContent()).toContain("Fair window 6 s");
    for (const page of [webrtc, hls])
      await until(
        "the fair note on the card",
        async () => /Fair start/.test((await page.getByTestId("draw-note").textContent()) ?? ""),
        opensInS * 1000,
      );
    expect(pages.errors).toEqual([]);
  }, 90_000);

  it("both press at T0 and are in the draw with a countdown, then one is drawn and one is not", async () => {
    expect(opensInS, "the drop scheduled by the step before").toBeGreaterThan(0);
    const viewers = [webrtc, hls];
    // Each page records every state its entry line shows (a slow page may render two in one poll).
    for (const page of viewers)
      await page.evaluate(`window.entrySeen = [];
        new MutationObserver(() => {
          const el = document.querySelector('[data-testid="entry-status"]');
          const s = el && el.getAttribute("data-status") + ":" + el.textContent;
          const last = window.entrySeen[window.entrySeen.length - 1];
          if (s && last?.s !== s) window.entrySeen.push({ s, at: Date.now() });
        }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });`);
    await Promise.all(
      viewers.map((page) => page.getByTestId("buy").click({ timeout: (opensInS + 15) * 1000 })),
    );
    // Entered at once, with the countdown to the draw (a 6 s window: it shows for seconds).
    for (const page of viewers)
      await until(
        "entered",
        async () => {
          const seen = (await page.evaluate("window.entrySeen")) as Seen[];
          return seen.some((e) => /^entered:You're in the draw: result in 0:0\d$/.test(e.s));
        },
        10_000,
        async () => JSON.stringify(await page.evaluate("window.entrySeen")),
      );
    const results = await Promise.all(
      viewers.map((page) =>
        until(
          "the draw's result",
          async () => {
            const s = await page.getByTestId("entry-status").getAttribute("data-status");
            return s === "won" || s === "lost" ? s : undefined;
          },
          20_000,
        ),
      ),
    );
    expect([...results].sort()).toEqual(["lost", "won"]);
    // How long after the window closed each page showed its result (this machine's one clock).
    fairDropId = (await host.locator("tr[data-drop]").getAttribute("data-drop")) ?? "";
    const closesAt = (await full.stack.stack.engine.status(fairDropId)).fair?.closesAt ?? 0;
    const shownAfterMs = await Promise.all(
      viewers.map(async (page) => {
        const seen = (await page.evaluate("window.entrySeen")) as Seen[];
        return (seen.find((e) => /^(won|lost):/.test(e.s))?.at ?? 0) - closesAt;
      }),
    );
    process.stdout.write(
      `${JSON.stringify({ fairE2e: "result shown after the window closed", webrtcMs: shownAfterMs[0], hlsMs: shownAfterMs[1], hlsLatencyS })}\n`,
    );
    const winner = viewers[results.indexOf("won")] as Page;
    const loser = viewers[results.indexOf("lost")] as Page;
    expect(await loser.getByTestId("entry-status").textContent()).toBe("Not drawn this time.");
    // The win is a hold like a normal buy's: the pay flow with its deadline.
    await until("the winner's hold", async () => (await winner.getByTestId("hold").count()) === 1);
    expect(await winner.getByTestId("hold-via").getAttribute("data-via")).toBe("draw");
    expect(await winner.getByTestId("pay-by").textContent()).toMatch(/Pay within \d:\d\d/);
    expect(await loser.getByTestId("hold").count()).toBe(0);
    await pages.screenshot(winner, "live-fair-won");
    await pages.screenshot(loser, "live-fair-lost");
    for (const page of viewers)
      await until("the draw's outcome on the card", async () =>
        /Drawn: 1 winners of 2 entries/.test((await page.getByTestId("drawn").textContent()) ?? ""),
      );
    expect(pages.errors).toEqual([]);
  }, 90_000);

  it("the verify link's page recomputes the draw in the browser and says it matches", async () => {
    const href = await hls.getByTestId("verify-link").getAttribute("href");
    expect(href).toMatch(new RegExp(`^/live/${ROOM}\\?verify=`));
    // In the HLS viewer's browser (its storage, its guest id): the page marks that buyer's entry.
    const page = await hls.context().newPage();
    page.on("pageerror", (err) => pages.errors.push(`verify: ${err.message}`));
    await page.goto(`${full.gateway.url}${href}`);
    verify = page;
    const result = page.getByTestId("verify-result");
    await until("the verification", async () => (await result.count()) === 1);
    expect(await result.getAttribute("data-ok")).toBe("true");
    expect(await result.textContent()).toContain("The draw matches");
    expect(await page.getByTestId("verify-hash").getAttribute("data-ok")).toBe("true");
    expect(await page.getByTestId("verify-entries").locator("tbody tr").count()).toBe(2);
    expect(await page.getByTestId("verify-seed").textContent()).toMatch(/^[0-9a-f]{64}$/);
    expect(await page.getByTestId("verify-mine").count()).toBe(1);
    await pages.screenshot(page, "verify-desktop");
    expect(pages.errors).toEqual([]);
  }, 60_000);

  it("after a reload both viewers see their result again, from the server (GET …/me)", async () => {
    for (const page of [webrtc, hls]) {
      const before = await page.getByTestId("entry-status").getAttribute("data-status");
      await page.reload();
      await until(
        "the result restored",
        async () => {
          // Not there yet is a value, not an error: the diagnosis then says what the page shows.
          const status = page.getByTestId("entry-status");
          return (await status.count()) === 1 && (await status.getAttribute("data-status")) === before;
        },
        20_000,
        async () => `${await commerce(page)}; errors ${pages.errors.join(" | ")}`,
      );
      if (before === "won") expect(await page.getByTestId("hold").count()).toBe(1);
    }
    expect(pages.errors).toEqual([]);
  }, 60_000);

  it("a sold-out first-come drop: the other viewer joins the waitlist, is #1 in line, and gets the released unit", async () => {
    const def = dropDefinition({ roomId: ROOM, initialStock: 1, perUserLimit: 1 });
    const dropId = def.dropId;
    waitlistDropId = dropId;
    // The fair drop ends, so a unit its unpaid hold frees later never makes it the pinned one again.
    await full.stack.stack.engine.end(fairDropId);
    await full.stack.stack.engine.createDrop({
      ...def,
      product: {
        ...def.product,
        title: "Waitlist sneaker",
        imageUrl: `${full.gateway.url}/demo/product.svg`,
      },
    });
    const card = (page: Page) =>
      page.locator(`[data-testid="drop-card"]`).filter({ hasText: "Waitlist sneaker" });
    for (const page of [webrtc, hls])
      await until("the first-come drop pinned", async () => (await card(page).count()) === 1, 30_000);
    await card(webrtc).getByTestId("buy").click();
    await until("the buyer's hold", async () =>
      ((await webrtc.evaluate(`localStorage.getItem("livedrop.holds.${ROOM}")`)) as string | null)?.includes(
        dropId,
      ),
    );
    await until(
      "sold out for the other viewer",
      async () => (await card(hls).getAttribute("data-state", { timeout: 2_000 })) === "sold_out",
      20_000,
      async () => `${await commerce(hls)}; errors ${pages.errors.join(" | ")}`,
    );
    await card(hls).getByTestId("join-waitlist").click();
    const status = card(hls).getByTestId("waitlist-status");
    await until("a place in line", async () => (await status.getAttribute("data-status")) === "waiting");
    expect(await status.textContent()).toBe("You're #1 in line");
    await pages.screenshot(hls, "live-waitlist");

    // The buyer's hold is released: the unit goes to the waitlist before it goes back on sale.
    const holds = JSON.parse(
      (await webrtc.evaluate(`localStorage.getItem("livedrop.holds.${ROOM}")`)) as string,
    ) as { reservationId: string; dropId: string }[];
    const held = holds.find((h) => h.dropId === dropId);
    expect(held).toBeDefined();
    await full.stack.stack.engine.release(held?.reservationId ?? "");
    await until(
      "the offered hold",
      async () => (await hls.locator(`[data-testid="hold-via"][data-via="waitlist"]`).count()) === 1,
      20_000,
    );
    expect(await hls.getByTestId("pay-by").last().textContent()).toMatch(/Claim within \d:\d\d/);
    await until("the ticket offered", async () => (await status.getAttribute("data-status")) === "offered");
    expect(pages.errors).toEqual([]);
  }, 90_000);

  it("a raffle: both enter, one is drawn; the winner's released hold goes to the other, who is offered it with a claim deadline", async () => {
    const def = dropDefinition({ roomId: ROOM, initialStock: 1, perUserLimit: 1 });
    const { engine } = full.stack.stack;
    await engine.end(waitlistDropId);
    // The shortest raffle the protocol allows: entries for one minute from now.
    await engine.createDrop({
      ...def,
      product: { ...def.product, title: "Raffle sneaker", imageUrl: `${full.gateway.url}/demo/product.svg` },
      raffleWindowMs: 60_000,
    });
    const card = (page: Page) =>
      page.locator(`[data-testid="drop-card"]`).filter({ hasText: "Raffle sneaker" });
    const viewers = [webrtc, hls];
    // The ops screen watches the room: its entries per second rise while the two enter.
    const adminToken = await full.stack.token("admin-fair", "admin");
    ops = await pages.open("ops", `${full.gateway.url}/ops#token=${adminToken}`, "desktop");
    const opsRoom = ops.getByTestId("ops-room").filter({ hasText: ROOM });
    await until("the room on the ops screen", async () => (await opsRoom.count()) === 1);
    await ops.evaluate(`window.entriesRate = 0;
      new MutationObserver(() => {
        for (const el of document.querySelectorAll('[data-testid="ops-entries-rate"]'))
          window.entriesRate = Math.max(window.entriesRate, Number(el.textContent));
      }).observe(document.body, { subtree: true, childList: true, characterData: true });`);
    for (const page of viewers) {
      await until("the raffle pinned", async () => (await card(page).count()) === 1, 30_000);
      expect(await card(page).getByTestId("draw-note").textContent()).toMatch(/^Raffle: one entry per buyer/);
      expect(await card(page).getByTestId("buy").textContent()).toBe("Enter the draw");
      await card(page).getByTestId("buy").click();
      await until(
        "entered",
        async () => (await card(page).getByTestId("entry-status").getAttribute("data-status")) === "entered",
      );
      expect(await card(page).getByTestId("entry-status").textContent()).toMatch(
        /^You're in the draw: result in [01]:\d\d$/,
      );
    }
    await until(
      "entries per second on the ops screen",
      async () => Number(await ops?.evaluate("window.entriesRate")) > 0,
      15_000,
    );
    // The draw at the close, one minute after the drop opened.
    const results = await Promise.all(
      viewers.map((page) =>
        until(
          "the raffle's result",
          async () => {
            const s = await card(page)
              .getByTestId("entry-status")
              .getAttribute("data-status", { timeout: 2_000 });
            return s === "won" || s === "lost" ? s : undefined;
          },
          90_000,
        ),
      ),
    );
    expect([...results].sort()).toEqual(["lost", "won"]);
    const winner = viewers[results.indexOf("won")] as Page;
    const other = viewers[results.indexOf("lost")] as Page;
    // The winner does not pay: released, the unit goes to the next entrant in the drawn order.
    const holds = JSON.parse(
      (await winner.evaluate(`localStorage.getItem("livedrop.holds.${ROOM}")`)) as string,
    ) as { reservationId: string; dropId: string }[];
    const won = holds.find((h) => h.dropId === def.dropId);
    expect(won, "the winner's hold in the page").toBeDefined();
    await engine.release(won?.reservationId ?? "");
    const offered = other.locator(`[data-testid="hold"]`).filter({ hasText: "Raffle sneaker" });
    await until("the hand-off offer", async () => (await offered.count()) === 1, 20_000);
    expect(await offered.getByTestId("hold-via").getAttribute("data-via")).toBe("handoff");
    expect(await offered.getByTestId("pay-by").textContent()).toMatch(/^Claim within \d:\d\d$/);
    await until(
      "the card tells the hand-off",
      async () => (await card(other).getByTestId("entry-status").getAttribute("data-status")) === "won",
    );
    await pages.screenshot(other, "live-raffle-handoff");
    expect(pages.errors).toEqual([]);
  }, 150_000);

  it("the console's default fair window is the room's video delay: the form sends auto, the drop opens with the implied window", async () => {
    const form = host.getByTestId("drop-form");
    await form.getByLabel("Product").fill("Auto sneaker");
    await form.getByTestId("drop-mode").selectOption("window");
    await form.getByLabel("Window from the room's video delay").check();
    expect(await form.getByLabel("Fair window (seconds)").isDisabled()).toBe(true);
    // Held back for the Launch button: it never opens during this test.
    await form.getByLabel("Wait for my Launch button").check();
    await form.getByTestId("schedule").click();
    const row = host.locator("tr[data-drop]").filter({ hasText: "Auto sneaker" });
    await until("the drop in the host's table", async () => (await row.count()) === 1);
    const dropId = (await row.getAttribute("data-drop")) ?? "";
    const windowMs = (await full.stack.stack.engine.status(dropId)).fair?.windowMs ?? 0;
    // Two viewers report their delay, so the window is their p95 plus the margin (over 0.5 s).
    expect(windowMs).toBeGreaterThan(500);
    expect(windowMs).toBeLessThanOrEqual(60_000);
    expect(await row.getByTestId("drop-mode-cell").textContent()).toContain(
      `Fair window ${Math.round(windowMs / 100) / 10} s`,
    );
    await form.getByLabel("Wait for my Launch button").uncheck();
    expect(pages.errors).toEqual([]);
  }, 60_000);

  it("axe-core finds no violation on the pages in their fair-drop states (entry results, waitlist, verify, the console's mode fields)", async () => {
    expect(verify, "the verify page from the step before").toBeDefined();
    expect(ops, "the ops screen from the raffle step").toBeDefined();
    await host.getByTestId("drop-mode").selectOption("window");
    const found: Record<string, A11yViolation[]> = {};
    for (const [name, page] of [
      ["live webrtc", webrtc],
      ["live hls", hls],
      ["verify", verify as Page],
      ["host", host],
      ["ops", ops as Page],
    ] as const) {
      const violations = await auditA11y(page);
      if (violations.length > 0) found[name] = violations;
    }
    expect(found).toEqual({});
    expect(pages.errors).toEqual([]);
  }, 90_000);
});
