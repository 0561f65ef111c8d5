/**
 * @module chromium
 * Debian's Chromium, headless, through playwright-core, for the page tests
 * and `bun scripts/screenshots.ts`: a missing browser is installed with apt
 * as root (like `bun run start` does for RabbitMQ and nginx), or the error
 * says how. playwright's launch gives it a new temporary user-data dir,
 * removed on close.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { ensurePackages } from "./install.ts";

export const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) await ensurePackages(["chromium"], (s) => console.log(s));
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}; the page tests need it (Debian: apt-get install chromium)`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  return { browser, close: () => browser.close().catch(() => {}) };
}
