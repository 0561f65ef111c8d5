/**
 * The live page in real Chromium against the real stack: submit 10 URLs from
 * the home page, watch every row, the compression bar and the server clock
 * move without a reload, get the zip through the link; a reload mid-job and
 * a late visitor both end with the full state.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { newId } from "../../servers/shared/ids.ts";
import { SECURITY_HEADERS } from "../../servers/web/security.ts";
import { useStack } from "../stack.ts";
import { photos, trickle } from "../support/fixtures.ts";
import { until } from "../support/wait.ts";
import { allEntries } from "../support/jobs.ts";
import { useChromium } from "./helpers.ts";

const browser = useChromium();

/** What the page shows right now, read from the DOM. */
function snapshot(page: Page) {
  return page.evaluate(() => {
    const bar = (sel: string) => {
      const p = document.querySelector<HTMLProgressElement>(`${sel} progress`);
      return p ? { value: p.hasAttribute("value") ? p.value : null, max: p.max } : null;
    };
    return {
      files: Array.from(document.querySelectorAll<HTMLElement>("li.file")).map((li) => ({
        id: li.id,
        state: li.querySelector(".badge")?.textContent ?? "",
        bar: bar(`#${li.id}`),
        text: li.textContent ?? "",
      })),
      compress: bar("#compress"),
      clock: document.querySelector("#clock time")?.getAttribute("data-now") ?? null,
      link: document.querySelector<HTMLInputElement>("#link-url")?.value ?? null,
      marker: (window as unknown as { __marker?: string }).__marker ?? null,
    };
  });
}

describe("the job page in Chromium", () => {
  test("submit 10 URLs → live rows, compression, clock → the link's zip; reload mid-job; late visitor", async () => {
    const { web, fixtures } = await useStack();
    const prefix = `/page-${newId().slice(0, 8)}`;
    const urls = photos().map((p, i) => fixtures.route(`${prefix}/${p.name}`, trickle(p.bytes, 2000 + 300 * i, 20, p.type), p.type));

    const ctx = await browser().newContext({ acceptDownloads: true });
    const page = await ctx.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    // Chromium logs every CSP violation to the console; the page's own listener reports it there too.
    const cspViolations: string[] = [];
    page.on("console", (m) => /content.security.policy|csp violation/i.test(m.text()) && cspViolations.push(m.text()));
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
      // The event source htmx closes on the stream's `done` (the sse-close attribute).
      document.addEventListener("htmx:sseClose", (e) => ((window as unknown as { __closed: unknown }).__closed = (e as CustomEvent).detail));
    });
    const streams: string[] = [];
    page.on("request", (req) => req.url().includes("/events") && streams.push(req.url()));
    const home = await page.goto(`${web}/`);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(home!.headers()[name.toLowerCase()]).toBe(value);
    await page.fill("#urls", urls.join("\n"));
    await Promise.all([page.waitForURL(/\/jobs\/[0-9a-f]{32}$/), page.click("button[type=submit]")]);
    const jobUrl = page.url();
    await page.evaluate(() => ((window as unknown as { __marker: string }).__marker = "same page"));

    // Watch until the link shows, recording what the page displayed on the way.
    const clocks = new Set<string>();
    const midway = new Map<string, Set<string>>(); // row → the texts it showed while downloading
    let sawPartial = false;
    let reloaded = null as Page | null;
    let secondTab: Promise<void> | null = null;
    let s = await snapshot(page);
    await until(() => `the link on the page; rows: ${JSON.stringify(s.files.map((f) => f.state))}`, async () => {
      s = await snapshot(page);
      if (s.clock) clocks.add(s.clock);
      for (const f of s.files) if (f.state === "downloading") midway.set(f.id, (midway.get(f.id) ?? new Set()).add(f.text));
      const partial = s.files.some((f) => f.state === "downloading") && s.files.some((f) => f.state !== "done");
      if (partial && !sawPartial) {
        sawPartial = true;
        // A second tab opens the job mid-way and reloads it mid-way, while this loop goes on watching the first.
        secondTab = (async () => {
          reloaded = await ctx.newPage();
          await reloaded.goto(jobUrl);
          await reloaded.waitForSelector("li.file .badge-downloading, li.file .badge-done");
          await reloaded.reload();
        })();
      }
      return s.link;
    }, 90_000);
    expect(sawPartial).toBe(true);
    await secondTab;
    // The rows moved in front of us (the fixture server sends no Content-Length, so the byte counts grow).
    expect(midway.size).toBeGreaterThanOrEqual(8);
    expect([...midway.values()].filter((texts) => texts.size >= 3).length).toBeGreaterThanOrEqual(8);
    expect(s.marker).toBe("same page"); // every update came over SSE, no navigation
    expect(clocks.size).toBeGreaterThanOrEqual(3); // the server clock changed at least twice
    expect(s.files.length).toBe(10);
    for (const f of s.files) {
      expect(f.state).toBe("done");
      expect(f.bar).toEqual({ value: 1, max: 1 });
    }
    expect(s.compress).toEqual({ value: 100, max: 100 });
    expect(await page.textContent("#compress")).toContain("100%");
    expect(await page.textContent("#overall")).toContain("10 of 10 files");
    expect(await page.textContent("#link")).toMatch(/Expires in \d+:\d\d/);
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
    // `done` closed the page's one event source (a closed EventSource never reconnects).
    await page.waitForFunction(() => {
      const closed = (window as unknown as { __closed?: { type: string; source: EventSource } }).__closed;
      return closed?.type === "message" && closed.source.readyState === EventSource.CLOSED;
    }, null, { timeout: 30_000 });
    expect(streams.length).toBe(1);

    // The reloaded tab ends with the same full state and link.
    await reloaded!.waitForSelector("#link-url", { timeout: 30_000 });
    const r = await snapshot(reloaded!);
    expect(r.link).toBe(s.link);
    expect(r.files.every((f) => f.state === "done")).toBe(true);
    expect(r.compress).toEqual({ value: 100, max: 100 });

    // A late visitor (new context) sees the link in the first HTML, without connecting.
    const late = await browser().newContext();
    const latePage = await late.newPage();
    const sse: string[] = [];
    latePage.on("request", (req) => req.url().includes("/events") && sse.push(req.url()));
    await latePage.goto(jobUrl);
    expect(await latePage.inputValue("#link-url")).toBe(s.link!);
    expect(await latePage.getAttribute("main", "sse-connect")).toBeNull();
    // An open event stream would keep the network busy: idle, the page opened none.
    await latePage.waitForLoadState("networkidle");
    expect(sse).toEqual([]);
    await late.close();

    // Copy button, then the download through the link: a zip of the 10 photos.
    await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: web });
    await page.click("[data-copy]");
    await page.waitForFunction(() => document.querySelector("[data-copy]")?.textContent === "Copied", null, { timeout: 5000 });
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(s.link!);
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("a.button.primary")]);
    const zip = allEntries(new Uint8Array(readFileSync((await download.path())!)));
    expect(Object.keys(zip).sort()).toEqual([...photos().map((p) => p.name), "MANIFEST.sha256"].sort());
    for (const p of photos()) expect(Buffer.from(zip[p.name]!).equals(Buffer.from(p.bytes))).toBe(true);
    await ctx.close();
  }, 180_000);

  test("without JavaScript the form posts, follows the 303 and shows the job", async () => {
    const { web, fixtures } = await useStack();
    const url = fixtures.route(`/nojs-${newId().slice(0, 8)}/a.jpg`, photos()[0]!.bytes, "image/jpeg");
    const ctx = await browser().newContext({ javaScriptEnabled: false });
    const page = await ctx.newPage();
    await page.goto(`${web}/`);
    await page.fill("#urls", url);
    await Promise.all([page.waitForURL(/\/jobs\/[0-9a-f]{32}$/), page.click("button[type=submit]")]);
    expect(await page.textContent("li.file")).toContain("a.jpg");
    await ctx.close();
  }, 60_000);

  test("invalid lines come back next to their line numbers, the text kept (htmx and plain)", async () => {
    const { web } = await useStack();
    for (const js of [true, false]) {
      const ctx = await browser().newContext({ javaScriptEnabled: js });
      const page = await ctx.newPage();
      await page.goto(`${web}/`);
      await page.fill("#urls", "# my list\n\nhttps://ok.example/a.jpg\nftp://files.example/b.jpg\nnot a url");
      await page.click("button[type=submit]");
      await page.waitForSelector(".form-error");
      expect(page.url()).toMatch(js ? /\/$/ : /\/jobs$/);
      const lines = await page.$$eval(".bad-lines li", (els) => els.map((e) => e.textContent));
      // numbered as in the textarea the page shows again
      const shown = (await page.inputValue("#urls")).split("\n");
      expect(lines.length).toBe(2);
      expect(lines[0]).toContain(`line ${shown.indexOf("ftp://files.example/b.jpg") + 1}`);
      expect(lines[0]).toContain("ftp:");
      expect(lines[1]).toContain(`line ${shown.indexOf("not a url") + 1}`);
      expect(await page.getAttribute("#urls", "aria-invalid")).toBe("true");
      await ctx.close();
    }
  }, 60_000);
});
