/** Real Chromium for the page tests (scripts/lib/chromium.ts), launched once per test file. */
import { afterAll, beforeAll } from "bun:test";
import type { Browser } from "playwright-core";
import { launchChromium } from "../../scripts/lib/chromium.ts";

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
