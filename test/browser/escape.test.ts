/**
 * User text is shown, never run: URLs with markup and quotes, a file name
 * from a hostile Content-Disposition, and an invalid line echoed by the form
 * appear as text on the page (first load and SSE updates), and no script runs.
 */
import { expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { newId } from "../../servers/shared/ids.ts";
import { useStack } from "../stack.ts";
import { useChromium } from "./helpers.ts";

const browser = useChromium();

const pwned = (page: Page) => page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned ?? null);
/** Elements that should not exist if markup from the user had been parsed. */
const injected = (page: Page) =>
  page.evaluate(() => ({
    scripts: Array.from(document.scripts).filter((s) => !s.src.includes("/static/")).length,
    imgs: document.images.length,
  }));

test("URLs and file names with markup or quotes are text on the job page, live and reloaded", async () => {
  const { web, fixtures } = await useStack();
  const p = `/esc-${newId().slice(0, 8)}`;
  const hostile = `${fixtures.origin}${p}/"quote'<script>window.__pwned=1</script>.jpg`;
  const named = fixtures.route(`${p}/named.bin`, () =>
    new Response("hello", { headers: { "content-type": "application/octet-stream", "content-disposition": `attachment; filename="<img src=x onerror=window.__pwned=2>.txt"` } }),
  );
  const ctx = await browser().newContext();
  const page = await ctx.newPage();
  await page.goto(`${web}/`);
  await page.fill("#urls", `${hostile}\n${named}`);
  await Promise.all([page.waitForURL(/\/jobs\/[0-9a-f]{32}$/), page.click("button[type=submit]")]);
  await page.waitForSelector("#link-url, .result-failed", { timeout: 60_000 });

  // Shown as text, in the row updated over SSE.
  expect(await page.textContent("#file-0")).toContain(`"quote'<script>window.__pwned=1</script>.jpg`);
  expect(await page.textContent("#file-1 .file-name")).toContain("onerror");
  expect(await pwned(page)).toBeNull();
  expect(await injected(page)).toEqual({ scripts: 0, imgs: 0 });

  // The server's HTML escapes it too (first load of the finished page).
  const html = await (await fetch(page.url())).text();
  expect(html).not.toContain("<script>window.__pwned");
  expect(html).toContain("&lt;script&gt;window.__pwned=1&lt;/script&gt;");
  expect(html).not.toContain("<img");
  await page.reload();
  expect(await pwned(page)).toBeNull();
  expect(await injected(page)).toEqual({ scripts: 0, imgs: 0 });
  await ctx.close();
}, 90_000);

test("an invalid line with markup is echoed as text by the form (htmx swap and plain post)", async () => {
  const { web } = await useStack();
  for (const js of [true, false]) {
    const ctx = await browser().newContext({ javaScriptEnabled: js });
    const page = await ctx.newPage();
    await page.goto(`${web}/`);
    await page.fill("#urls", `ftp://x/"><script>window.__pwned=3</script><img src=x onerror=window.__pwned=4>`);
    await page.click("button[type=submit]");
    await page.waitForSelector(".bad-lines li");
    expect(await page.textContent(".bad-lines li")).toContain(`"><script>window.__pwned=3</script>`);
    if (js) expect(await pwned(page)).toBeNull();
    expect(await injected(page)).toEqual({ scripts: 0, imgs: 0 });
    await ctx.close();
  }
}, 60_000);
