/** The Host check (421) and the cross-site check (403), in-process. */
import { afterAll, describe, expect, test } from "bun:test";
import { hostName } from "./origin.ts";
import { testApp } from "./testapp.ts";

const t = await testApp({ PORT: "3000", WEB_PUBLIC_URL: "https://linkpack.example" });
afterAll(() => t.close());

test("host names from Host headers: port dropped, IPv6 unbracketed, case folded; junk is none", () => {
  expect(hostName("LocalHost:3000")).toBe("localhost");
  expect(hostName("[::1]:3000")).toBe("::1");
  expect(hostName("127.0.0.1")).toBe("127.0.0.1");
  expect(hostName("linkpack.example.")).toBe("linkpack.example");
  for (const junk of ["", "a b:1:2", "[::1", "x/y@z:1", "evil.example:1@127.0.0.1"]) expect(hostName(junk), junk).toBeNull();
});

describe("Host", () => {
  const health = (host: string) => t.app.request("/healthz", { headers: { host, accept: "application/json" } });

  test("the server's own names pass, with any port", async () => {
    for (const host of ["localhost:3000", "127.0.0.1:3000", "[::1]:3000", "linkpack.example", "127.0.0.1:8080", "LOCALHOST"]) expect((await health(host)).status, host).toBe(200);
  });

  test("any other name gets 421 with a JSON error, /healthz included", async () => {
    for (const host of ["evil.example", "evil.example:3000", "127.0.0.2:3000", "localhost.evil.example", "0x7f.1:3000"]) {
      const r = await health(host);
      expect(r.status, host).toBe(421);
      expect(((await r.json()) as { error: string }).error).toContain("misdirected request");
    }
  });
});

describe("cross-site unsafe requests", () => {
  const post = (headers: Record<string, string>, method = "POST") =>
    t.app.request("/jobs", { method, body: "https://files.example/a.jpg", headers: { host: "localhost:3000", "content-type": "text/plain", accept: "application/json", ...headers } });

  test("another origin, an opaque origin the browser does not vouch for, or a browser saying cross-site/same-site: 403, no job", async () => {
    const sent = t.published.length;
    const crossSite: Record<string, string>[] = [
      { origin: "https://evil.example" },
      { origin: "https://evil.example", "sec-fetch-site": "same-origin" },
      { origin: "null" },
      { origin: "null", "sec-fetch-site": "cross-site" },
      { origin: "http://127.0.0.1:3000" },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
    ];
    for (const h of crossSite) {
      const r = await post(h);
      expect(r.status, JSON.stringify(h)).toBe(403);
      expect(((await r.json()) as { error: string }).error).toContain("cross-site");
    }
    for (const method of ["PUT", "PATCH", "DELETE"]) expect((await post({ origin: "https://evil.example" }, method)).status).toBe(403);
    expect(t.published.length).toBe(sent);
  });

  test("the public origin, the origin of the Host the page was opened at, and clients without those headers pass", async () => {
    const sameSite: Record<string, string>[] = [
      { origin: "https://linkpack.example" },
      { origin: "https://localhost:3000", "sec-fetch-site": "same-origin" },
      { origin: "null", "sec-fetch-site": "same-origin" }, // the page's own plain form under Referrer-Policy: no-referrer
      { "sec-fetch-site": "none" },
      {},
    ];
    for (const h of sameSite) {
      expect((await post(h)).status, JSON.stringify(h)).toBe(202);
    }
  });

  test("a browser's cross-site form post gets a readable page", async () => {
    const r = await t.app.request("/jobs", {
      method: "POST",
      body: "urls=https%3A%2F%2Ff.example%2Fa",
      headers: { host: "localhost:3000", origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded", accept: "text/html" },
    });
    expect(r.status).toBe(403);
    expect(await r.text()).toContain("only linkpack&#39;s own page may send this");
  });

  test("safe methods are not judged", async () => {
    expect((await t.app.request("/", { headers: { host: "localhost:3000", origin: "https://evil.example", "sec-fetch-site": "cross-site" } })).status).toBe(200);
  });
});
