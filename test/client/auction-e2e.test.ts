import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OrderDetailsResponse } from "../../protocol/index.ts";
import { launchChromium } from "../harness/browser.ts";
import { type A11yViolation, auditA11y } from "./a11y.ts";
import { buildClientForTests } from "./build-client.ts";
import { type FullStack, startFullStack } from "./full-stack.ts";
import { Pages, until } from "./pages.ts";

const ROOM = "auction-room";
/** Bidding time: long enough for both viewers to bid on a loaded machine, short for the test. */
const DURATION_S = 40;

/** What a viewer's auction card shows, for a failure message. */
const card = async (page: Page) =>
  (await page
    .getByTestId("auction-card")
    .textContent({ timeout: 2_000 })
    .catch(() => "(none)")) ?? "";

/** Places a max bid from a viewer's card and waits for the button to come back (the ack). */
async function bid(page: Page, amount: string): Promise<void> {
  const c = page.getByTestId("auction-card");
  await c.getByTestId("bid-amount").fill(amount);
  await c.getByTestId("bid").click();
  await until("the bid's ack", async () => (await c.getByTestId("bid").textContent()) === "Bid");
}

/**
 * An auction in Chromium against the full stack: the host opens it from the console (sudden
 * death, so its end is fixed), two viewers bid their maxima in their own browsers, the proxy
 * makes the higher maximum lead at the other's maximum plus one step, a bid under the minimum
 * is refused with the minimum shown, and at the end the winner's page holds the unit at the
 * winning price and pays it in the sandbox; the order, read over HTTP, is paid at that price.
 */
describe("an auction in Chromium: the host opens it, two viewers bid, the higher maximum wins and pays", () => {
  let full: FullStack;
  let browser: Browser;
  let pages: Pages;
  let host: Page;
  let ann: Page;
  let ben: Page;
  let hostToken = "";
  let dropId = "";
  const dist = mkdtempSync(path.join(os.tmpdir(), "livedrop-client-dist-"));

  beforeAll(async () => {
    [, full] = await Promise.all([buildClientForTests(dist), startFullStack(dist)]);
    browser = await launchChromium();
    pages = new Pages(browser);
    const base = full.gateway.url;
    hostToken = await full.stack.token("host-auction", "host", [ROOM]);
    host = await pages.open("host", `${base}/host/${ROOM}#token=${hostToken}`, "desktop");
    ann = await pages.open("viewer-ann", `${base}/live/${ROOM}`, "phone");
    ben = await pages.open("viewer-ben", `${base}/live/${ROOM}`, "desktop");
  }, 180_000);

  afterAll(async () => {
    await pages?.close();
    await browser?.close();
    await full?.stop();
    rmSync(dist, { recursive: true, force: true });
  });

  it("the host opens an auction from the console; both viewers see its card with the starting price", async () => {
    const form = host.getByTestId("auction-form");
    await form.getByLabel("Auction product").fill("Vintage watch");
    await form.getByLabel("Starting price").fill("10.00");
    await form.getByLabel("Bid increment").fill("1.00");
    await form.getByLabel("Duration (seconds)").fill(String(DURATION_S));
    await form.getByLabel("Sudden death (the end never moves)").check();
    await form.getByTestId("open-auction").click();
    await until("the auction opened", async () =>
      /Auction opened/.test((await form.getByRole("status").textContent()) ?? ""),
    );
    const row = host.locator('tr[data-drop]:has([data-format="auction"])');
    await until("the auction's row in the host's table", async () => (await row.count()) === 1);
    dropId = (await row.getAttribute("data-drop")) ?? "";
    expect(dropId).not.toBe("");
    await until(
      "the host's auction panel",
      async () => (await host.getByTestId("auction-standing").getAttribute("data-state")) === "live",
    );
    for (const page of [ann, ben]) {
      await until(
        "the auction card",
        async () => (await page.getByTestId("auction-card").getAttribute("data-phase")) === "live",
        20_000,
        () => card(page),
      );
      expect(await page.getByTestId("auction-price").textContent()).toBe("Starts at $10.00");
      expect(await page.getByTestId("auction-ends").textContent()).toMatch(/^Ends in 0:\d\d$/);
    }
    expect(pages.errors).toEqual([]);
  }, 60_000);

  it("two maxima: the higher leads at the lower plus one step, each page says who leads, a low bid shows the minimum", async () => {
    await bid(ann, "15.00");
    await until(
      "Ann leads",
      async () => (await ann.getByTestId("auction-card").getAttribute("data-leading")) === "yes",
      10_000,
      () => card(ann),
    );
    expect(await ann.getByTestId("auction-leader").textContent()).toBe("You lead");

    await bid(ben, "20.00");
    await until(
      "Ben leads at $16.00",
      async () =>
        (await ben.getByTestId("auction-card").getAttribute("data-leading")) === "yes" &&
        (await ben.getByTestId("auction-price").textContent()) === "Current bid $16.00",
      10_000,
      () => card(ben),
    );
    // Ann's page hears the room's frame: outbid, the leader masked, the new price.
    await until(
      "Ann outbid",
      async () =>
        (await ann.getByTestId("auction-card").getAttribute("data-leading")) === "no" &&
        (await ann.getByTestId("auction-price").textContent()) === "Current bid $16.00",
      10_000,
      () => card(ann),
    );
    const leaderLine = (await ann.getByTestId("auction-leader").textContent()) ?? "";
    expect(leaderLine).toMatch(/^Leading: .+ \(2 bids\)$/);
    expect(leaderLine).not.toContain("guest");

    // Under the minimum ($17.00 now): refused, the card names the minimum.
    await bid(ann, "16.50");
    await until(
      "the refusal",
      async () => (await ann.getByTestId("bid-error").textContent()) === "Too low: bid at least $17.00.",
      10_000,
      () => card(ann),
    );
    expect(await ann.getByTestId("auction-card").getAttribute("data-leading")).toBe("no");
    expect(pages.errors).toEqual([]);
  }, 60_000);

  it("the viewer page and the host console with an auction on pass the accessibility audit", async () => {
    const found: Record<string, A11yViolation[]> = {};
    for (const [name, page] of [
      ["viewer", ann],
      ["host", host],
    ] as const) {
      const violations = await auditA11y(page);
      if (violations.length > 0) found[name] = violations;
    }
    expect(found).toEqual({});
  }, 60_000);

  it(
    "at the end the winner's page holds the unit at the winning price, pays it, and the order is paid at that price",
    async () => {
      // Ben's page is away when the auction settles (it misses the auctionHold frame); back on the
      // page, the join's GET …/me brings the hold back at his price.
      await ben.goto("about:blank");
      await until(
        "the host's panel settled",
        async () => (await host.getByTestId("auction-standing").getAttribute("data-state")) === "settled",
        (DURATION_S + 20) * 1000,
      );
      await ben.goto(`${full.gateway.url}/live/${ROOM}`);
      await until(
        "Ben's hold",
        async () => (await ben.getByTestId("hold").count()) === 1,
        (DURATION_S + 20) * 1000,
        () => card(ben),
      );
      const hold = ben.getByTestId("hold");
      expect(await hold.locator(".hold-total").textContent()).toBe("$16.00");
      expect(await ben.getByTestId("auction-leader").textContent()).toBe("You won! Pay below.");
      await until(
        "Ann sees the end",
        async () => (await ann.getByTestId("auction-card").getAttribute("data-phase")) === "ended",
        10_000,
        () => card(ann),
      );
      expect(await ann.getByTestId("auction-leader").textContent()).toMatch(/^Won by .+$/);
      expect(await ann.getByTestId("auction-price").textContent()).toBe("Final price $16.00");
      expect(await ann.getByTestId("hold").count()).toBe(0);

      await hold.getByLabel("Test card: approved").check();
      await hold.getByTestId("pay").click();
      await until("the order paid", async () => (await hold.getAttribute("data-status")) === "paid");

      const saved = JSON.parse(
        (await ben.evaluate(`localStorage.getItem("livedrop.holds.${ROOM}")`)) as string,
      ) as { reservationId: string; dropId: string }[];
      const reservationId = saved.find((h) => h.dropId === dropId)?.reservationId ?? "";
      const benUser = JSON.parse(
        (await ben.evaluate(`localStorage.getItem("livedrop.guest")`)) as string,
      ) as {
        userId: string;
      };
      const res = await fetch(`${full.gateway.url}/api/v1/orders/${encodeURIComponent(reservationId)}`, {
        headers: { authorization: `Bearer ${hostToken}` },
      });
      expect(res.status).toBe(200);
      const { order } = (await res.json()) as OrderDetailsResponse;
      expect(order).toMatchObject({
        dropId,
        userId: benUser.userId,
        format: "auction",
        status: "paid",
        unitPriceMinor: 1_600,
        totalMinor: 1_600,
        paidMinor: 1_600,
        qty: 1,
      });
      await until(
        "the host's panel settled",
        async () => (await host.getByTestId("auction-standing").getAttribute("data-state")) === "settled",
      );
      expect(await host.getByTestId("bid-history").locator("tbody tr").count()).toBe(2);
      expect(pages.errors).toEqual([]);
    },
    (DURATION_S + 60) * 1000,
  );

  it("buy-it-now: created unpinned from the drop form; Pin shows its card to the viewers, one buys, Unpin takes it away", async () => {
    const form = host.getByTestId("drop-form");
    await form.getByLabel("Product").fill("Phone case");
    await form.getByLabel("Price").fill("5.00");
    await form.getByLabel("Stock").fill("2");
    await form.getByTestId("drop-format").selectOption("buy_now");
    await form.getByTestId("schedule").click();
    const row = host.locator('tr[data-drop]:has([data-format="buy_now"])');
    await until("the buy-it-now row", async () => (await row.count()) === 1);
    expect(await row.getByTestId("drop-mode-cell").textContent()).toBe("Buy it now");
    expect(await ann.getByTestId("pinned-card").count()).toBe(0);

    await row.getByTestId("pin").click();
    for (const page of [ann, ben])
      await until("the pinned card", async () => (await page.getByTestId("pinned-card").count()) === 1);
    const pinned = ann.getByTestId("pinned-card");
    expect(await pinned.getByTestId("countdown").count()).toBe(0);
    expect(await pinned.getByTestId("buy").textContent()).toBe("Buy now");
    await pinned.getByTestId("buy").click();
    const caseHold = ann.getByTestId("hold").filter({ hasText: "Phone case" });
    await until("Ann's hold of the phone case", async () => (await caseHold.count()) === 1);
    expect(await caseHold.locator(".hold-total").textContent()).toBe("$5.00");

    await row.getByTestId("unpin").click();
    for (const page of [ann, ben])
      await until("the pinned card gone", async () => (await page.getByTestId("pinned-card").count()) === 0);
    // Holds placed while pinned stay payable.
    expect(await caseHold.getAttribute("data-status")).toBe("pending_payment");
    expect(pages.errors).toEqual([]);
  }, 60_000);

  it("a giveaway created from the drop form is free on the viewers' card; a viewer enters it", async () => {
    const form = host.getByTestId("drop-form");
    await form.getByLabel("Product").fill("Free tote");
    await form.getByLabel("Stock").fill("1");
    await form.getByTestId("drop-format").selectOption("giveaway");
    expect(await form.getByTestId("drop-mode").inputValue()).toBe("raffle");
    await form.getByLabel("Opens in (seconds)").fill("0");
    await form.getByLabel("Entries open for (minutes)").fill("1");
    await form.getByTestId("schedule").click();
    const row = host.locator('tr[data-drop]:has([data-format="giveaway"])');
    await until("the giveaway row", async () => (await row.count()) === 1);
    expect(await row.getByTestId("drop-mode-cell").textContent()).toMatch(/^Giveaway · Raffle/);

    const card = ben.getByTestId("drop-card").filter({ hasText: "Free tote" });
    await until(
      "the giveaway's button",
      async () => (await card.getByTestId("buy").textContent()) === "Enter giveaway (free)",
      20_000,
      async () => (await card.textContent({ timeout: 1_000 }).catch(() => "(none)")) ?? "",
    );
    expect(await card.locator(".drop-price").textContent()).toBe("Free");
    expect(await card.getByTestId("giveaway-note").textContent()).toMatch(/Stay in the room/);
    await card.getByTestId("buy").click();
    await until("Ben in the draw", async () =>
      /^You're in the draw/.test((await card.getByTestId("entry-status").textContent()) ?? ""),
    );
    expect(pages.errors).toEqual([]);
  }, 60_000);

  it("after the auction, buy-it-now and giveaway steps both pages still pass the accessibility audit", async () => {
    const found: Record<string, A11yViolation[]> = {};
    for (const [name, page] of [
      ["viewer", ben],
      ["host", host],
    ] as const) {
      const violations = await auditA11y(page);
      if (violations.length > 0) found[name] = violations;
    }
    expect(found).toEqual({});
  }, 60_000);
});
