/**
 * Where requests come from, through the real web server: a Host the server
 * does not go by gets 421 (DNS rebinding), a cross-site post gets 403 and
 * makes no job, while same-origin and curl-style posts work.
 */
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { newId } from "../../servers/shared/ids.ts";
import { useStack } from "../stack.ts";

/** How many jobs the web server's store holds that mention `marker` (read-only, beside the running server). */
async function jobsWith(marker: string): Promise<number> {
  const { config } = await useStack();
  const db = new Database(`${config.STATE_DIR}/web/jobs.sqlite`, { readonly: true });
  try {
    return db.query<{ n: number }, [string]>("SELECT COUNT(*) AS n FROM web_jobs WHERE view LIKE ?").get(`%${marker}%`)!.n;
  } finally {
    db.close();
  }
}

describe("Host check", () => {
  test("a name the server does not go by gets 421, /healthz included; its own names pass", async () => {
    const { web, config } = await useStack();
    for (const host of ["evil.example", `evil.example:${config.PORT}`, `127.0.0.2:${config.PORT}`]) {
      const r = await fetch(`${web}/healthz`, { headers: { host, accept: "application/json" } });
      expect(r.status, host).toBe(421);
      expect(((await r.json()) as { error: string }).error).toContain("misdirected");
    }
    for (const host of [`localhost:${config.PORT}`, `127.0.0.1:${config.PORT}`, `[::1]:${config.PORT}`]) expect((await fetch(`${web}/healthz`, { headers: { host } })).status, host).toBe(200);
  }, 60_000);
});

describe("cross-site posts", () => {
  const post = async (headers: Record<string, string>, marker: string) => {
    const { web, closedPort } = await useStack();
    const body = new URLSearchParams({ urls: `http://127.0.0.1:${closedPort}/${marker}.jpg` });
    return fetch(`${web}/jobs`, { method: "POST", body, headers: { accept: "text/html", ...headers }, redirect: "manual" });
  };

  test("Origin of another site, or Sec-Fetch-Site: cross-site: 403 and no job", async () => {
    const crossSite: Record<string, string>[] = [{ origin: "https://evil.example" }, { "sec-fetch-site": "cross-site" }];
    for (const headers of crossSite) {
      const marker = `xsite-${newId()}`;
      const r = await post(headers, marker);
      expect(r.status, JSON.stringify(headers)).toBe(403);
      expect(await r.text()).toContain("cross-site request refused");
      expect(await jobsWith(marker)).toBe(0);
    }
  }, 60_000);

  test("the page's own origin and a client without those headers (curl) get their job", async () => {
    const { web, closedPort } = await useStack();
    const sameSite: Record<string, string>[] = [{ origin: web, "sec-fetch-site": "same-origin" }, {}];
    for (const headers of sameSite) {
      const marker = `same-${newId()}`;
      const r = await post(headers, marker);
      expect(r.status, JSON.stringify(headers)).toBe(303);
      expect(await jobsWith(marker)).toBe(1);
    }
    const api = await fetch(`${web}/jobs`, { method: "POST", body: `http://127.0.0.1:${closedPort}/a.jpg`, headers: { "content-type": "text/plain" } });
    expect(api.status).toBe(202);
  }, 60_000);
});
