/**
 * Per-client limits and the bounded work queue through a real stack with
 * small limits. The stack trusts 127.0.0.1 as a proxy, so each test is its
 * own client by the X-Forwarded-For it sends (which also shows that entry
 * is what counts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newId } from "../../servers/shared/ids.ts";
import { createStack } from "../stack.ts";
import { held } from "../support/fixtures.ts";
import { waitFinal } from "../support/jobs.ts";
import { restart, stop } from "../support/parts.ts";
import { until } from "../support/wait.ts";

let s: Awaited<ReturnType<typeof createStack>>;
beforeAll(async () => {
  s = await createStack({ TRUSTED_PROXIES: "127.0.0.1", MAX_JOBS_PER_MINUTE: "3", MAX_ACTIVE_JOBS: "2", MAX_QUEUED_FILES: "4" });
}, 120_000);
afterAll(async () => {
  await s?.stop();
}, 120_000);

let clients = 0;
/** A new client address (TEST-NET-2), as a proxy in front of the web server would report it. */
const newClient = () => `198.51.100.${++clients}`;
const refused = () => `http://127.0.0.1:${s.closedPort}/${newId()}.jpg`; // fails at once: the job ends quickly

async function post(client: string, urls: string[], form = false) {
  const headers = { "x-forwarded-for": `203.0.113.66, ${client}`, accept: form ? "text/html" : "application/json" };
  const body = form ? new URLSearchParams({ urls: urls.join("\n") }) : urls.join("\n");
  const r = await fetch(`${s.web}/jobs`, { method: "POST", body, headers: form ? headers : { ...headers, "content-type": "text/plain" }, redirect: "manual" });
  const text = await r.text();
  return { status: r.status, retryAfter: r.headers.get("retry-after"), text, id: r.status === 202 ? (JSON.parse(text) as { id: string }).id : null };
}

/** A URL that keeps its job unfinished until `release()`. */
function heldUrl() {
  const g = held(new Uint8Array(100), new Uint8Array(100));
  return { url: s.fixtures.route(`/held-${newId()}/f.bin`, g.handler), release: g.release };
}

describe("per client", () => {
  test("new jobs per minute: the next one gets 429 with Retry-After and words; another client still gets its job", async () => {
    const a = newClient();
    for (let i = 0; i < 3; i++) {
      const r = await post(a, [refused()]);
      expect(r.status).toBe(202);
      await waitFinal(s.web, r.id!); // finished, so only the rate counts
    }
    const over = await post(a, [refused()]);
    expect(over.status).toBe(429);
    expect(Number(over.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(over.retryAfter)).toBeLessThanOrEqual(60);
    expect((JSON.parse(over.text) as { error: string }).error).toMatch(/at most 3 per minute from one address; try again in \d+ s/);
    const b = await post(newClient(), [refused()]);
    expect(b.status).toBe(202);
    await waitFinal(s.web, b.id!);
  }, 120_000);

  test("unfinished jobs: the third gets 429 (the form again for a browser); once one finishes a new one is accepted", async () => {
    const c = newClient();
    const held = [heldUrl(), heldUrl()];
    const ids = [];
    for (const h of held) ids.push((await post(c, [h.url])).id!);
    expect(ids.every(Boolean)).toBe(true);
    const api = await post(c, [refused()]);
    expect(api.status).toBe(429);
    expect(api.retryAfter).toBe("10");
    const page = await post(c, [refused()], true);
    expect(page.status).toBe(429);
    expect(page.text).toContain('id="pack-form"');
    expect(page.text).toContain("too many unfinished jobs: at most 2 at a time");
    held[0]!.release();
    await waitFinal(s.web, ids[0]!);
    const next = await post(c, [refused()]);
    expect(next.status).toBe(202);
    held[1]!.release();
    await Promise.all([waitFinal(s.web, ids[1]!), waitFinal(s.web, next.id!)]);
  }, 120_000);

  test("concurrent posts cannot squeeze past the limit together", async () => {
    const d = newClient();
    const held = heldUrl();
    const answers = await Promise.all(Array.from({ length: 6 }, () => post(d, [held.url])));
    expect(answers.map((a) => a.status).sort()).toEqual([202, 202, 429, 429, 429, 429]);
    held.release();
    await Promise.all(answers.filter((a) => a.id).map((a) => waitFinal(s.web, a.id!)));
  }, 120_000);
});

test("with the downloaders stopped the queue fills up, and then a new job gets 503 with Retry-After 30", async () => {
  await stop(s.config, "downloader");
  try {
    // The depth the server knows may be up to a second old: post (each time as a new client) until it answers busy.
    let busy: Awaited<ReturnType<typeof post>> | null = null;
    await until("the queue to fill", async () => {
      const r = await post(newClient(), [refused(), refused(), refused()]);
      if (r.status !== 202) busy = r;
      return busy !== null;
    });
    expect(busy!.status).toBe(503);
    expect(busy!.retryAfter).toBe("30");
    expect(JSON.parse(busy!.text)).toEqual({ error: "linkpack is busy: too many files are waiting; try again in a little while" });
  } finally {
    await restart(s.config, "downloader");
  }
}, 120_000);
