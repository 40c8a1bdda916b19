import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OrderDetailsResponse } from "../../protocol/index.ts";
import { launchChromium } from "../harness/browser.ts";
import { dropDefinition } from "../sale-engine/fixtures.ts";
import { auditA11y } from "./a11y.ts";
import { buildClientForTests } from "./build-client.ts";
import { type FullStack, startFullStack } from "./full-stack.ts";
import { Pages, until } from "./pages.ts";

const ROOM = "coupon-room";
const DROP = "coupon-drop";
const CODE = "SAVE5";
/** $129.00 list price less $5.00 off. */
const PRICE_MINOR = 12_900;
const DISCOUNT_MINOR = 500;
const PAID_MINOR = PRICE_MINOR - DISCOUNT_MINOR;

/**
 * Coupons through the screens, in order: the host pins one in the console, a viewer claims it,
 * buys the drop and pays with it; the order carries the discount and the paid amount; the host's
 * reports panel and the ops screen show the coupon cost and the net GMV beside the gross, and
 * the room's CSV download counts the same money.
 */
describe("coupons in Chromium against the full stack", () => {
  let full: FullStack;
  let browser: Browser;
  let pages: Pages;
  let host: Page;
  let viewer: Page;
  let hostToken: string;
  let ops: Page;
  const dist = mkdtempSync(path.join(os.tmpdir(), "livedrop-client-coupon-"));
  const text = async (page: Page, testid: string) =>
    (await page.getByTestId(testid).first().textContent()) ?? "";

  beforeAll(async () => {
    [, full] = await Promise.all([buildClientForTests(dist), startFullStack(dist)]);
    browser = await launchChromium();
    pages = new Pages(browser);
    const drop = dropDefinition({ dropId: DROP, roomId: ROOM, initialStock: 5, perUserLimit: 1 });
    // A drop on sale: the room is on air, so its coupons can be claimed.
    await full.stack.stack.engine.createDrop({
      ...drop,
      product: { ...drop.product, priceMinor: PRICE_MINOR, imageUrl: `${full.gateway.url}/demo/product.svg` },
    });
    hostToken = await full.stack.token("host-coupon", "host", [ROOM]);
    host = await pages.open("coupon-host", `${full.gateway.url}/host/${ROOM}#token=${hostToken}`, "desktop");
    viewer = await pages.open("coupon-viewer", `${full.gateway.url}/live/${ROOM}`, "phone");
  }, 180_000);

  afterAll(async () => {
    await pages?.close();
    await browser?.close();
    await full?.stop();
    rmSync(dist, { recursive: true, force: true });
  });

  it("the host pins a coupon in the console; the viewer sees it pinned", async () => {
    const form = host.getByTestId("coupon-form");
    await form.getByLabel("Coupon code").fill(CODE);
    await form.getByLabel("Amount off", { exact: true }).fill("5.00");
    await form.getByLabel("Coupons in all").fill("10");
    await form.getByLabel("Coupons per buyer").fill("1");
    await form.getByTestId("coupon-pin").click();
    const row = host.locator(`[data-testid="host-coupon"][data-code="${CODE}"]`);
    await until("the pinned coupon in the console", async () => (await row.count()) === 1);
    expect(await row.textContent()).toContain("$5.00 off");
    const card = viewer.locator(`[data-testid="coupon"][data-code="${CODE}"]`);
    await until("the coupon on the viewer page", async () => (await card.count()) === 1);
    expect(await card.textContent()).toContain("$5.00 off");
    expect(await card.getByTestId("coupon-left").textContent()).toBe("10 left");
    expect(pages.errors).toEqual([]);
  });

  it("the viewer claims it; the console counts the claim", async () => {
    const card = viewer.locator(`[data-testid="coupon"][data-code="${CODE}"]`);
    await card.getByTestId("coupon-claim").click();
    await until("the claim", async () => (await card.getAttribute("data-claimed")) === "true");
    const counts = host.locator(
      `[data-testid="host-coupon"][data-code="${CODE}"] [data-testid="host-coupon-counts"]`,
    );
    await until("one claim in the console", async () => (await counts.getAttribute("data-claimed")) === "1");
    expect(pages.errors).toEqual([]);
  });

  it("the viewer buys and pays with the coupon: the order has the discount and the paid amount", async () => {
    await viewer.getByTestId("buy").click();
    const hold = viewer.getByTestId("hold");
    await until("the hold panel", async () => (await hold.getByTestId("pay").count()) === 1);
    await hold.getByLabel(`Apply coupon ${CODE}`).check();
    // The hold panel with its coupon choice is audited as the buyer sees it, before paying.
    expect(await auditA11y(viewer)).toEqual([]);
    await hold.getByTestId("pay").click();
    await until("paid", async () => (await hold.getAttribute("data-status")) === "paid");
    const paid = hold.getByTestId("paid-amount");
    await until("the paid amount", async () => (await paid.count()) === 1);
    expect(await paid.getAttribute("data-paid")).toBe(String(PAID_MINOR));
    expect(await paid.getAttribute("data-discount")).toBe(String(DISCOUNT_MINOR));
    expect(await paid.textContent()).toBe("Paid $124.00 ($5.00 off $129.00)");

    // The order as the API answers it (the host of the room may read it).
    const page = (await (
      await fetch(`${full.gateway.url}/api/v1/drops/${DROP}/orders`, {
        headers: { authorization: `Bearer ${hostToken}` },
      })
    ).json()) as { orders: { reservationId: string }[] };
    expect(page.orders).toHaveLength(1);
    const res = await fetch(`${full.gateway.url}/api/v1/orders/${page.orders[0]?.reservationId}`, {
      headers: { authorization: `Bearer ${hostToken}` },
    });
    const { order } = (await res.json()) as OrderDetailsResponse;
    expect(order).toMatchObject({
      status: "paid",
      format: "drop",
      couponId: `${ROOM}.${CODE}`,
      totalMinor: PRICE_MINOR,
      discountMinor: DISCOUNT_MINOR,
      paidMinor: PAID_MINOR,
    });
    const counts = host.locator(
      `[data-testid="host-coupon"][data-code="${CODE}"] [data-testid="host-coupon-counts"]`,
    );
    await until(
      "the redemption in the console",
      async () => (await counts.getAttribute("data-redeemed")) === "1",
    );
    expect(pages.errors).toEqual([]);
  });

  it("the host's reports panel shows gross, coupon cost and net GMV, per room and per drop, and downloads the CSV", async () => {
    await until("the room's net GMV", async () => (await text(host, "host-net-gmv")) === "$124.00");
    expect(await text(host, "host-gross")).toBe("$129.00");
    expect(await text(host, "host-coupon-cost")).toBe("$5.00");
    const row = host.locator(`[data-testid="reports-drop"][data-report-drop="${DROP}"]`);
    await until(
      "the drop's net GMV",
      async () => (await row.getByTestId("reports-drop-net").textContent()) === "$124.00",
    );
    expect(await row.getByTestId("reports-drop-coupon-cost").textContent()).toBe("$5.00");
    expect(await row.getByTestId("reports-drop-format").textContent()).toBe("Drop");

    const [download] = await Promise.all([
      host.waitForEvent("download"),
      host.getByTestId("report-drops").click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^drops-coupon-room-.*\.csv$/);
    const file = await download.path();
    const [header, ...rows] = readFileSync(file, "utf8").trim().split("\n");
    const columns = (header ?? "").split(",");
    const line = rows.map((r) => r.split(",")).find((r) => r[columns.indexOf("dropId")] === DROP);
    expect(line, rows.join("\n")).toBeDefined();
    expect(Number(line?.[columns.indexOf("grossMinor")])).toBe(PRICE_MINOR);
    expect(Number(line?.[columns.indexOf("discountMinor")])).toBe(DISCOUNT_MINOR);
    expect(Number(line?.[columns.indexOf("netMinor")])).toBe(PAID_MINOR);
    expect(pages.errors).toEqual([]);
  });

  it("the ops screen shows the room's coupon cost and net GMV and the drop's format", async () => {
    const adminToken = await full.stack.token("admin-coupon", "admin");
    ops = await pages.open("coupon-ops", `${full.gateway.url}/ops#token=${adminToken}`, "desktop");
    const card = ops.locator(`[data-testid="ops-room"][data-room="${ROOM}"]`);
    await until(
      "the room's net GMV on the wall",
      async () => (await card.getByTestId("ops-net-gmv").textContent()) === "$124.00",
    );
    expect(await card.getByTestId("ops-gmv").textContent()).toBe("$129.00");
    expect(await card.getByTestId("ops-coupon-cost").textContent()).toBe("$5.00");
    const drop = card.locator(`[data-testid="ops-drop"][data-ops-drop="${DROP}"]`);
    await until(
      "the drop's format",
      async () => (await drop.getByTestId("ops-drop-format").textContent()) === "Drop",
    );
    expect(await drop.getByTestId("ops-drop-net").textContent()).toBe("$124.00 (coupons $5.00)");

    const [download] = await Promise.all([
      ops.waitForEvent("download"),
      ops.getByTestId("report-hourly").click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^hourly-all-.*\.csv$/);
    expect(pages.errors).toEqual([]);
  });

  it("the coupon, reports and ops screens pass the accessibility audit", async () => {
    const found: Record<string, unknown> = {};
    for (const [name, page] of [
      ["host", host],
      ["viewer", viewer],
      ["ops", ops],
    ] as const) {
      const violations = await auditA11y(page);
      if (violations.length > 0) found[name] = violations;
    }
    expect(found).toEqual({});
  });
});
