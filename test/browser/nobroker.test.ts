/**
 * The browser never talks to RabbitMQ: no page, static file or event stream
 * the web server serves mentions the broker (WebSocket URLs, STOMP, its port,
 * its credentials).
 */
import { expect, test } from "bun:test";
import { newId } from "../../servers/shared/ids.ts";
import { STATIC_FILES } from "../../servers/web/static.ts";
import { useStack } from "../stack.ts";
import { sseClient } from "../support/events.ts";
import { held } from "../support/fixtures.ts";
import { waitFinal } from "../support/jobs.ts";

test("pages, static files and event streams hold no broker URL, port or credential", async () => {
  const { web, fixtures, config } = await useStack();
  const p = `/nobroker-${newId().slice(0, 8)}`;
  const gate = held(); // the live job stays live until the end of the test
  try {
    const slow = fixtures.route(`${p}/slow.bin`, gate.handler);
    const quick = fixtures.route(`${p}/quick.bin`, "quick");
    const post = (urls: string) => fetch(`${web}/jobs`, { method: "POST", body: urls, headers: { "content-type": "text/plain", accept: "application/json" } });
    const liveId = ((await (await post(slow)).json()) as { id: string }).id;
    const doneId = ((await (await post(quick)).json()) as { id: string }).id;
    expect((await waitFinal(web, doneId)).state).toBe("ready");

    const bodies: Record<string, string> = {};
    const get = async (path: string, init?: RequestInit) => (bodies[path + (init?.method ?? "")] = await (await fetch(web + path, init)).text());
    await get("/");
    await get("/jobs", { method: "POST", body: new URLSearchParams({ urls: "ftp://x/y" }) });
    await get(`/jobs/${liveId}`);
    await get(`/jobs/${doneId}`);
    await get(`/jobs/${doneId}/events`);
    await get(`/jobs/${doneId}/events?format=json`);
    // Every asset a page refers to, and every static file the server knows.
    const refs = new Set(Object.keys(STATIC_FILES));
    for (const html of Object.values(bodies)) for (const m of html.matchAll(/(?:src|href)="(\/[^"]*)"/g)) if (!m[1]!.startsWith("/jobs")) refs.add(m[1]!);
    for (const path of refs) await get(path);
    // A live stream: its first state, then a progress update of the file and a clock tick (which come over STOMP).
    const live = await sseClient(`${web}/jobs/${liveId}/events`);
    await live.next((e) => e.event === "file-0");
    const first = live.seen.length;
    await live.next((e) => e.event === "clock" && live.seen.slice(first).some((s) => s.event === "file-0"));
    live.close();
    bodies["live events"] = live.seen.map((e) => `event: ${e.event}\nid: ${e.id}\ndata: ${e.data}`).join("\n\n");

    expect(Object.keys(bodies).length).toBeGreaterThanOrEqual(11);
    expect(bodies["live events"]).toContain("event: file-0");
    const forbidden = [/wss?:\/\//i, /stomp/i, /guest/i, /amqp/i, new RegExp(`:${config.BROKER_STOMP_PORT}\\b`), new RegExp(`:${config.BROKER_PORT}\\b`)];
    for (const [what, body] of Object.entries(bodies)) {
      expect(body.length).toBeGreaterThan(0);
      for (const re of forbidden) if (re.test(body)) throw new Error(`${what} matches ${re}`);
      expect(body).not.toContain(config.STOMP_URL[0]);
    }
  } finally {
    gate.release();
  }
}, 60_000);
