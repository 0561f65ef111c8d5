import { afterAll, expect, test } from "bun:test";
import { newId } from "../shared/ids.ts";
import { SECURITY_HEADERS } from "./security.ts";
import { mountStatic } from "./static.ts";
import { testApp } from "./testapp.ts";

const t = await testApp({}, { extend: mountStatic });
afterAll(() => t.close());
const host = { host: "127.0.0.1:3000" };

test("every answer carries the security headers: pages, JSON, static files, errors, refusals", async () => {
  const answers = [
    await t.app.request("/", { headers: host }),
    await t.app.request("/static/app.css", { headers: host }),
    await t.app.request(`/jobs/${newId()}`, { headers: { ...host, accept: "application/json" } }),
    await t.app.request("/nope", { headers: host }),
    await t.app.request("/jobs", { method: "POST", body: "ftp://x", headers: { ...host, "content-type": "text/plain" } }),
    await t.app.request("/healthz", { headers: { host: "evil.example" } }),
  ];
  expect(answers.map((r) => r.status)).toEqual([200, 200, 404, 404, 400, 421]);
  for (const r of answers) for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(r.headers.get(name)).toBe(value);
});

test("the policy allows nothing inline and no framing; no Referer leaves the job page", async () => {
  const r = await t.app.request("/", { headers: host });
  const csp = r.headers.get("content-security-policy")!;
  expect(csp).not.toContain("unsafe");
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(r.headers.get("referrer-policy")).toBe("no-referrer");
  expect(r.headers.get("x-frame-options")).toBe("DENY");
});
