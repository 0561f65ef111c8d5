/**
 * `bun scripts/screenshots.ts`: the README's screenshots, taken from the real
 * stack (own ports and RUN_DIR, stopped afterwards) in headless Chromium:
 * the home page, a job in progress, a finished job, and the form's errors.
 * Files are served by a small node:http server that sends Content-Length and
 * trickles the bytes, so a job is visibly in progress.
 */
import http from "node:http";
import { mkdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { startStack, stopStack } from "./lib/stack.ts";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { loadConfig } from "../servers/shared/config.ts";
import { launchChromium } from "./lib/chromium.ts";
import { freePortsEnv, RAISED_LIMITS } from "./lib/ports.ts";
import { photoSet } from "./lib/samples.ts";

const OUT = resolve(import.meta.dir, "../docs/screenshots");
const photos = photoSet();
const byPath = new Map(photos.map((p, i) => [`/photos/${p.name}`, { p, ms: 1500 + 1100 * i }]));

const files = http.createServer(async (req, res) => {
  const hit = byPath.get(req.url ?? "");
  if (!hit) return void res.writeHead(404, { "content-type": "text/plain" }).end("not found");
  res.writeHead(200, { "content-type": hit.p.type, "content-length": String(hit.p.bytes.length) });
  const chunks = 25;
  const step = Math.ceil(hit.p.bytes.length / chunks);
  for (let i = 0; i < hit.p.bytes.length && !res.destroyed; i += step) {
    res.write(hit.p.bytes.subarray(i, i + step));
    await Bun.sleep(hit.ms / chunks);
  }
  res.end();
});
await new Promise<void>((r) => files.listen(0, "127.0.0.1", () => r()));
const port = (files.address() as { port: number }).port;
const runDir = mkdtempSync(`${tmpdir()}/linkpack-screenshots-`);
const config = loadConfig({ ...RAISED_LIMITS, ...freePortsEnv(), RUN_DIR: runDir, ALLOW_PRIVATE_URLS: `localhost:${port}` });
const web = `http://${config.HOST}:${config.PORT}`;
const urls = [...byPath.keys()].map((p) => `http://localhost:${port}${p}`);
urls.splice(7, 0, `http://localhost:${port}/photos/old-scan.tiff`); // one that fails

const chrome = await launchChromium();
try {
  console.log("starting a stack…");
  await startStack(config);
  mkdirSync(OUT, { recursive: true });
  const ctx = await chrome.browser.newContext({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  const shot = async (name: string) => {
    await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true });
    console.log(`  docs/screenshots/${name}.png`);
  };

  await page.goto(`${web}/`);
  await shot("home");

  await page.fill("#urls", "https://example.org/report.pdf\nftp://files.example.org/data.csv\nexample.org/photo.jpg");
  await page.click("button[type=submit]");
  await page.waitForSelector(".form-error");
  await shot("home-errors");

  await page.fill("#urls", urls.join("\n"));
  await Promise.all([page.waitForURL(/\/jobs\/[0-9a-f]{32}$/), page.click("button[type=submit]")]);
  await page.waitForFunction(
    () => document.querySelectorAll(".file .badge-done").length >= 4 && document.querySelectorAll(".file .badge-downloading").length >= 2,
    null,
    { timeout: 60_000, polling: 100 },
  );
  await shot("job-progress");
  await page.waitForSelector("#link-url", { timeout: 120_000 });
  await Bun.sleep(1500); // let the countdown tick once
  await shot("job-done");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${OUT}/job-done-mobile.png` });
  console.log("  docs/screenshots/job-done-mobile.png");
  await ctx.close();
} finally {
  await chrome.close();
  await stopStack(config);
  files.close();
  rmSync(runDir, { recursive: true, force: true });
}
