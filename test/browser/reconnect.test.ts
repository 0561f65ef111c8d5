/**
 * The live view survives restarts: the broker restarting under an open event
 * stream (the web process reconnects STOMP and subscribes again: clock ticks
 * flow again, the stream ends with the link), and the web server restarting
 * under an open page (the browser reconnects and is sent the full state).
 */
import { expect, test } from "bun:test";
import { newId } from "../../servers/shared/ids.ts";
import { useStack } from "../stack.ts";
import { sseClient } from "../support/events.ts";
import { photos, trickle } from "../support/fixtures.ts";
import { gracefulRestart, restartBroker } from "../support/parts.ts";
import { until } from "../support/wait.ts";
import { useChromium } from "./helpers.ts";

const browser = useChromium();

async function slowJob(ms: number): Promise<{ id: string; web: string }> {
  const { web, fixtures } = await useStack();
  const p = `/reconnect-${newId().slice(0, 8)}`;
  const urls = photos().slice(0, 4).map((ph) => fixtures.route(`${p}/${ph.name}`, trickle(ph.bytes, ms, 20, ph.type), ph.type));
  const r = await fetch(`${web}/jobs`, { method: "POST", body: urls.join("\n"), headers: { "content-type": "text/plain", accept: "application/json" } });
  return { id: ((await r.json()) as { id: string }).id, web };
}

test("broker restart under an open stream: STOMP resubscribes (clock ticks again), the stream ends with the link", async () => {
  const { config } = await useStack();
  const { id, web } = await slowJob(12_000);
  const c = await sseClient(`${web}/jobs/${id}/events`);
  await c.next((e) => e.event === "clock");
  await restartBroker(config);
  const restarted = Date.now();
  const mark = c.seen.length;
  // The clock only reaches the web server over STOMP: a tick from after the restart means the subscription is back.
  const tickTime = (data: string) => Number(/data-now="(\d+)"/.exec(data)?.[1] ?? 0);
  await c.next((e) => e.event === "clock" && tickTime(e.data) > restarted);
  const done = await c.next((e) => e.event === "done");
  expect(done.data).toBe("ready");
  expect(c.seen.slice(mark).findLast((e) => e.event === "link")?.data).toContain("Download zip");
}, 180_000);

test("web server restart under an open page: the page reconnects, gets the full state and the link", async () => {
  const { config } = await useStack();
  const { id, web } = await slowJob(6000);
  const ctx = await browser().newContext();
  const page = await ctx.newPage();
  await page.goto(`${web}/jobs/${id}`);
  await page.waitForSelector("li.file .badge-downloading", { timeout: 30_000 });
  await gracefulRestart(config, "web");
  await page.waitForSelector("#link-url", { timeout: 90_000 });
  const states = await page.$$eval("li.file .badge", (els) => els.map((e) => e.textContent));
  expect(states).toEqual(["done", "done", "done", "done"]);
  await until("web healthy", async () => (await fetch(`${web}/healthz`)).status === 200);
  await ctx.close();
}, 180_000);
