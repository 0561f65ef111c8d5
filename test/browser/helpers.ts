/**
 * Real Chromium for the page tests: Debian's Chromium through
 * playwright-core (a missing browser is installed as root, or fails with a
 * clear message).
 */
import { afterAll, beforeAll } from "bun:test";
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { ensurePackages } from "../../scripts/lib/install.ts";

export const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

/**
 * Starts headless Chromium (playwright's launch gives it a new temporary
 * user-data dir, removed on close). Like `bun run start` does for RabbitMQ and
 * nginx, a missing Chromium is installed with apt as root, or the error says how.
 */
export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) await ensurePackages(["chromium"], (s) => console.log(s));
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium is not installed at ${CHROMIUM}; the page tests need it (Debian: apt-get install chromium)`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  return { browser, close: () => browser.close().catch(() => {}) };
}

/** Launches Chromium before the file's tests and closes it after; returns a getter for the browser. */
export function useChromium(): () => Browser {
  let chrome: Awaited<ReturnType<typeof launchChromium>> | undefined;
  beforeAll(async () => {
    chrome = await launchChromium();
  }, 300_000);
  afterAll(async () => {
    await chrome?.close();
  });
  return () => chrome!.browser;
}
