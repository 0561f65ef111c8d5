/** POST /jobs in-process: per-client limits (429), a full queue and a broker that is down (503), a stalled body (408). */
import { afterAll, describe, expect, test } from "bun:test";
import { from, testApp } from "./testapp.ts";

type TestApp = Awaited<ReturnType<typeof testApp>>;
const apps: TestApp[] = [];
const make = async (...args: Parameters<typeof testApp>) => {
  const t = await testApp(...args);
  apps.push(t);
  return t;
};
afterAll(async () => {
  for (const t of apps) await t.close();
});

const api = { "content-type": "text/plain", accept: "application/json" };
const form = { "content-type": "application/x-www-form-urlencoded", accept: "text/html" };
const body = (h: Record<string, string>) => (h === form ? "urls=https%3A%2F%2Ff.example%2Fa" : "https://f.example/a");
const post = (t: TestApp, ip: string, h: Record<string, string> = api) =>
  t.app.request("/jobs", { method: "POST", body: body(h), headers: h }, from(ip));

describe("per-client limits", () => {
  test("new jobs per minute: 429 with Retry-After and a message; another client is not affected", async () => {
    const t = await make({ MAX_JOBS_PER_MINUTE: "2", MAX_ACTIVE_JOBS: "100" });
    for (let i = 0; i < 2; i++) expect((await post(t, "198.51.100.1")).status).toBe(202);
    const r = await post(t, "198.51.100.1");
    expect(r.status).toBe(429);
    const retry = Number(r.headers.get("retry-after"));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    expect(((await r.json()) as { error: string }).error).toMatch(/at most 2 per minute .* try again in \d+ s/);
    expect((await post(t, "198.51.100.2")).status).toBe(202);
    expect(t.published.length).toBe(3);
  });

  test("unfinished jobs: 429 with Retry-After; a browser gets the form again saying so", async () => {
    const t = await make({ MAX_JOBS_PER_MINUTE: "100", MAX_ACTIVE_JOBS: "1" });
    expect((await post(t, "198.51.100.3")).status).toBe(202);
    const r = await post(t, "198.51.100.3", form);
    expect(r.status).toBe(429);
    expect(r.headers.get("retry-after")).toBe("10");
    const html = await r.text();
    expect(html).toContain('id="pack-form"');
    expect(html).toContain("too many unfinished jobs: at most 1 at a time");
    expect(html).toContain("https://f.example/a"); // the user's text is kept
  });
});

describe("the work queue and the broker", () => {
  test("a full download queue: 503, Retry-After 30, the contract's message; nothing published", async () => {
    const t = await make({}, { queue: { fits: async (n) => n <= 0 } });
    const r = await post(t, "198.51.100.4");
    expect(r.status).toBe(503);
    expect(r.headers.get("retry-after")).toBe("30");
    expect(await r.json()).toEqual({ error: "linkpack is busy: too many files are waiting; try again in a little while" });
    const page = await post(t, "198.51.100.4", form);
    expect(page.status).toBe(503);
    expect(await page.text()).toContain("linkpack is busy");
    expect(t.published).toEqual([]);
  });

  test("a broker that is down, or cannot say how full the queue is: 503", async () => {
    const down = await make({}, { brokerUp: () => false });
    expect((await post(down, "198.51.100.5")).status).toBe(503);
    const mute = await make({}, { queue: { fits: async () => Promise.reject(new Error("channel closed")) } });
    const r = await post(mute, "198.51.100.5");
    expect(r.status).toBe(503);
    expect(((await r.json()) as { error: string }).error).toContain("broker is unreachable");
  });
});

test("a body that does not arrive within BODY_TIMEOUT_MS: 408", async () => {
  const t = await make({ BODY_TIMEOUT_MS: "50" });
  const stalled = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new TextEncoder().encode("https://f.example/a\n")) });
  const r = await t.app.request("/jobs", { method: "POST", body: stalled, headers: api }, from("198.51.100.6"));
  expect(r.status).toBe(408);
  expect(((await r.json()) as { error: string }).error).toContain("did not arrive");
});
