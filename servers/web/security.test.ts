import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { loadConfig } from "../shared/config.ts";
import { createApp } from "./app.tsx";
import { SECURITY_HEADERS } from "./security.ts";
import { mountStatic } from "./static.ts";
import { JobStore } from "./store.ts";

const dir = mkdtempSync(`${tmpdir()}/linkpack-security-`);
const store = new JobStore(dir);
const app = createApp({ config: loadConfig({}), store, createJob: async () => Promise.reject(new Error("unused")), brokerUp: () => true, extend: mountStatic });
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

test("every answer carries the security headers: pages, JSON, static files, errors", async () => {
  const answers = [
    await app.request("/"),
    await app.request("/static/app.css"),
    await app.request(`/jobs/${"0".repeat(32)}`, { headers: { accept: "application/json" } }),
    await app.request("/nope"),
    await app.request("/jobs", { method: "POST", body: "ftp://x", headers: { "content-type": "text/plain" } }),
  ];
  expect(answers.map((r) => r.status)).toEqual([200, 200, 404, 404, 400]);
  for (const r of answers) for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(r.headers.get(name)).toBe(value);
});

test("the policy allows nothing inline and no framing; no Referer leaves the job page", async () => {
  const r = await app.request("/");
  const csp = r.headers.get("content-security-policy")!;
  expect(csp).not.toContain("unsafe");
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(r.headers.get("referrer-policy")).toBe("no-referrer");
  expect(r.headers.get("x-frame-options")).toBe("DENY");
});
