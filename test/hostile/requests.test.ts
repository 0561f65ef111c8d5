/** Request-level bad input through the real web server: a clear 4xx with per-line reasons, and nothing stalls. */
import { describe, expect, test } from "bun:test";
import { useStack } from "../stack.ts";

type ErrorBody = { error: string; invalid: { line: number; url: string; reason: string }[] };
const post = async (body: BodyInit, type: string) => {
  const { web } = await useStack();
  const r = await fetch(`${web}/jobs`, { method: "POST", body, headers: { "content-type": type, accept: "application/json" } });
  return { status: r.status, body: (await r.json()) as ErrorBody };
};

describe("POST /jobs refuses bad requests clearly", () => {
  test("empty body, only comments, too many lines", async () => {
    for (const body of ["", "\n\n", "# a\n# b\n"]) {
      const r = await post(body, "text/plain");
      expect(r.status).toBe(400);
      expect(r.body.error).toContain("no URL");
    }
    const { config } = await useStack();
    const many = Array.from({ length: config.MAX_URLS + 1 }, (_, i) => `https://example.com/${i}.jpg`).join("\n");
    const r = await post(many, "text/plain");
    expect(r.status).toBe(400);
    expect(r.body.error).toContain(`at most ${config.MAX_URLS}`);
  }, 60_000);

  test("each bad line gets its line number and reason", async () => {
    const lines = [
      "https://example.com/ok.jpg",
      "file:///etc/passwd",
      "ftp://example.com/a",
      "gopher://example.com/",
      "javascript:alert(1)",
      "data:text/plain,hello",
      "example.com/no-scheme.jpg",
      "https://example.com/with space.jpg",
      "https://example.com/\u0007bell",
      `https://example.com/${"a".repeat(2001)}`,
    ];
    const r = await post(lines.join("\n"), "text/plain");
    expect(r.status).toBe(400);
    expect(r.body.invalid.map((i) => i.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const reasons = r.body.invalid.map((i) => i.reason);
    expect(reasons[0]).toContain('"file:"');
    expect(reasons[3]).toContain('"javascript:"');
    expect(reasons[5]).toContain("absolute");
    expect(reasons[6]).toContain("spaces");
    expect(reasons[7]).toContain("control");
    expect(reasons[8]).toContain("2000");
  }, 60_000);

  test("wrong JSON shape, wrong content type, oversized body", async () => {
    for (const body of ['{"url": "https://a/b"}', '["https://a/b"]', '{"urls": [42]}', "{nope"]) {
      const r = await post(body, "application/json");
      expect(r.status, body).toBe(400);
      expect(r.body.error.length).toBeGreaterThan(10);
    }
    expect((await post("https://a/b", "application/xml")).status).toBe(415);
    const { config } = await useStack();
    const r = await post("https://example.com/x\n".repeat(Math.ceil(config.MAX_BODY_BYTES / 20) + 10), "text/plain");
    expect(r.status).toBe(413);
    const { web } = await useStack();
    expect((await fetch(`${web}/healthz`)).status).toBe(200);
  }, 60_000);
});

/** `bytes` of deterministic garbage: any byte value, so random "lines" of any length. */
function garbage(bytes: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes);
  let x = 2463534242;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe("a body full of invalid lines costs time linear in its size", () => {
  // Before the fix a 9 KB form of invalid lines blocked the server for seconds (cubic), 256 KiB for hours.
  test("a 256 KiB form of `x` lines and a 256 KiB text of garbage: 400, at most 50 lines listed, /healthz answers meanwhile", async () => {
    const { web, config } = await useStack();
    const form = `urls=${"x%0A".repeat(Math.floor((config.MAX_BODY_BYTES - 5) / 4))}`;
    const bodies: { body: BodyInit; type: string; accept: string }[] = [
      { body: form, type: "application/x-www-form-urlencoded", accept: "text/html" },
      { body: garbage(config.MAX_BODY_BYTES), type: "text/plain", accept: "application/json" },
    ];
    for (const b of bodies) {
      const big = fetch(`${web}/jobs`, { method: "POST", body: b.body, headers: { "content-type": b.type, accept: b.accept } });
      const health = await fetch(`${web}/healthz`);
      expect(health.status).toBe(200);
      const r = await big;
      expect(r.status).toBe(400);
      if (b.accept === "text/html") {
        const html = await r.text();
        expect(html).toContain("too many URLs");
        expect((html.match(/<span class="line-no">/g) ?? []).length).toBeLessThanOrEqual(50);
      } else {
        const body = (await r.json()) as ErrorBody;
        expect(body.error.length).toBeGreaterThan(10);
        expect(body.invalid.length).toBeLessThanOrEqual(50);
      }
    }
  }, 60_000);
});
