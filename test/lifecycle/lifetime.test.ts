/**
 * A link's lifetime chosen per job, through the shared stack: JSON
 * `ttl_seconds`, the form's choice, capped by MAX_LINK_TTL_SECONDS; a
 * nonsense lifetime is a 400; without one, LINK_TTL_SECONDS.
 */
import { expect, test } from "bun:test";
import { newId } from "../../servers/shared/ids.ts";
import { useStack } from "../stack.ts";
import { waitFinal } from "../support/jobs.ts";

/** Seconds from now until the job's link expires. */
const lifetime = (job: { expires_at: string | null }) => (Date.parse(job.expires_at!) - Date.now()) / 1000;

test("ttl_seconds by JSON or form, capped at the longest allowed; a bad one is refused; the form offers the choice", async () => {
  const { web, fixtures, config } = await useStack();
  const url = () => fixtures.route(`/ttl-${newId()}/a.txt`, "a\n", "text/plain");
  const post = (body: string, type: string) => fetch(`${web}/jobs`, { method: "POST", headers: { "content-type": type, accept: "application/json" }, body });
  const id = async (r: Response) => ((await r.json()) as { id: string }).id;

  const short = await waitFinal(web, await id(await post(JSON.stringify({ urls: [url()], ttl_seconds: 600 }), "application/json")));
  expect(lifetime(short)).toBeGreaterThan(500);
  expect(lifetime(short)).toBeLessThanOrEqual(600);
  const capped = await waitFinal(web, await id(await post(JSON.stringify({ urls: [url()], ttl_seconds: 10 ** 9 }), "application/json")));
  expect(lifetime(capped)).toBeLessThanOrEqual(config.MAX_LINK_TTL_SECONDS);
  expect(lifetime(capped)).toBeGreaterThan(config.MAX_LINK_TTL_SECONDS - 120);
  const form = await waitFinal(web, await id(await post(`urls=${encodeURIComponent(url())}&ttl_seconds=86400`, "application/x-www-form-urlencoded")));
  expect(lifetime(form)).toBeGreaterThan(86_400 - 120);
  const plain = await waitFinal(web, await id(await post(url(), "text/plain")));
  expect(lifetime(plain)).toBeGreaterThan(config.LINK_TTL_SECONDS - 120);
  expect(lifetime(plain)).toBeLessThanOrEqual(config.LINK_TTL_SECONDS);

  const bad = await post(JSON.stringify({ urls: [url()], ttl_seconds: "soon" }), "application/json");
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { error: string }).error).toContain("ttl_seconds");
  const home = await (await fetch(`${web}/`, { headers: { accept: "text/html" } })).text();
  expect(home).toContain('<select id="ttl" name="ttl_seconds">');
  expect(home).toContain(`<option value="${config.LINK_TTL_SECONDS}" selected="">`);
}, 60_000);
