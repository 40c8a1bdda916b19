import type { Browser, Page } from "playwright-core";
import { artifactPath, newContext } from "../harness/browser.ts";

/** Pages of one test, with every uncaught page error collected (the test fails on any). */
export class Pages {
  readonly errors: string[] = [];
  private readonly pages: Page[] = [];

  constructor(private readonly browser: Browser) {}

  /** A page in its own context (its own storage: a separate buyer), at a phone or desktop size. */
  async open(name: string, url: string, size: "phone" | "desktop"): Promise<Page> {
    const context = await newContext(this.browser, size);
    const page = await context.newPage();
    page.on("pageerror", (err) => this.errors.push(`${name}: ${err.message}`));
    // The gateway sends a Content-Security-Policy: anything it blocks is a bug in the client.
    page.on("console", (m) => {
      if (m.type() === "error" && /Content Security Policy/i.test(m.text()))
        this.errors.push(`${name}: ${m.text()}`);
    });
    this.pages.push(page);
    await page.goto(url);
    return page;
  }

  async screenshot(page: Page, name: string): Promise<string> {
    const file = artifactPath(`client-${name}.png`);
    await page.evaluate("window.scrollTo(0, 0)");
    await page.screenshot({ path: file, fullPage: false });
    return file;
  }

  async close(): Promise<void> {
    for (const page of this.pages)
      await page
        .context()
        .close()
        .catch(() => undefined);
  }
}

/** Resolves with the value of `fn` once it is truthy, polling every 100 ms. */
export async function until<T>(
  what: string,
  fn: () => Promise<T>,
  timeoutMs = 20_000,
  /** What to report when it times out (else the last value). */
  diagnose?: () => Promise<string>,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = (await diagnose?.()) ?? v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until a viewer page's player plays in `mode` (its data-phase and data-mode). */
export function untilPlaying(
  page: Page,
  mode: "webrtc" | "hls",
  timeoutMs: number,
  diagnose?: () => Promise<string>,
): Promise<boolean> {
  return until(
    `${mode} playback`,
    async () => {
      const player = page.getByTestId("player");
      return (
        (await player.getAttribute("data-phase")) === "playing" &&
        (await player.getAttribute("data-mode")) === mode
      );
    },
    timeoutMs,
    diagnose,
  );
}
