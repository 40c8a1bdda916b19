import { mkdirSync } from "node:fs";
import path from "node:path";
import { type Browser, type BrowserContext, chromium } from "playwright-core";

/** Debian's chromium (installed by the bootstrap): never a downloaded browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Git-ignored folder for screenshots and other test artifacts. */
export const ARTIFACTS_DIR = path.resolve("artifacts");

// Flags proven on these machines (DESIGN.md): root needs --no-sandbox; fake camera and
// microphone, no permission prompts, autoplay without a gesture.
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
  "--autoplay-policy=no-user-gesture-required",
];

/** Launches Debian's chromium headless; close() the browser in afterAll. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS });
}

/** A context at a phone size (Pixel-7-like) or a desktop size, with camera and microphone allowed. */
export async function newContext(
  browser: Browser,
  size: "phone" | "desktop" = "desktop",
): Promise<BrowserContext> {
  const viewport = size === "phone" ? { width: 412, height: 915 } : { width: 1440, height: 900 };
  return browser.newContext({
    viewport,
    deviceScaleFactor: size === "phone" ? 2 : 1,
    isMobile: size === "phone",
    hasTouch: size === "phone",
    permissions: ["camera", "microphone"],
  });
}

/** Path for an artifact file; creates the folder. */
export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return path.join(ARTIFACTS_DIR, name);
}
