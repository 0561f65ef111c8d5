import { describe, expect, test } from "bun:test";
import { checkUrls, InvalidRequest, linesOf, linkTtl, MAX_REPORTED, readJobRequest, urlProblem, type Candidate } from "./urls.ts";

const readCandidates = async (req: Request, max: number, timeout: number) => (await readJobRequest(req, max, timeout)).candidates;

const req = (body: BodyInit, type: string) => new Request("http://x/jobs", { method: "POST", body, headers: { "content-type": type } });

describe("URL list", () => {
  test("text: blank lines and # comments are skipped; line numbers are the user's", () => {
    expect(linesOf("# hi\n\nhttps://a/x\r\n  https://b/y  \n")).toEqual([
      { line: 3, text: "https://a/x" },
      { line: 4, text: "https://b/y" },
    ]);
  });

  test("only absolute http(s) URLs pass", () => {
    expect(urlProblem("https://example.com/a.jpg")).toBeNull();
    expect(urlProblem("http://127.0.0.1:8000/x")).toBeNull();
    for (const bad of ["file:///etc/passwd", "ftp://x/y", "gopher://x", "javascript:alert(1)", "data:text/plain,hi", "example.com/a", "/a/b", "http:/x", "https://exa mple.com/", "https://a/\u0001", "http://"]) {
      expect(urlProblem(bad), bad).not.toBeNull();
    }
    expect(urlProblem("https://a/" + "x".repeat(2001))).toContain("2000");
    expect(urlProblem("ftp://x/y")).toContain('"ftp:"');
  });

  test("empty, too many and invalid lists are refused with per-line reasons", () => {
    expect(() => checkUrls([], 50)).toThrow(/no URL/);
    const many = Array.from({ length: 51 }, (_, i) => ({ line: i + 1, text: `https://a/${i}` }));
    expect(() => checkUrls(many, 50)).toThrow(/too many URLs: 51, at most 50/);
    try {
      checkUrls([{ line: 1, text: "https://a/x" }, { line: 4, text: "nope" }], 50);
      throw new Error("unreachable");
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidRequest);
      expect((err as InvalidRequest).invalid).toEqual([{ line: 4, url: "nope", reason: expect.stringContaining("absolute") }]);
    }
  });

  test("checking is linear: a list over the limit examines no line; a long one each line once; at most 50 are reported", () => {
    const examined = { n: 0 };
    const counting = (text: string) => (examined.n++, urlProblem(text));
    const lines = (n: number): Candidate[] => Array.from({ length: n }, (_, i) => ({ line: i + 1, text: "x" }));
    for (const n of [3_000, 30_000]) {
      examined.n = 0;
      expect(() => checkUrls(lines(n), 50, counting)).toThrow(`too many URLs: ${n}, at most 50 per job`);
      expect(examined.n).toBe(0);
      examined.n = 0;
      let err!: InvalidRequest;
      expect(() => checkUrls(lines(n), 100_000, counting)).toThrow(InvalidRequest);
      expect(examined.n).toBe(n);
      try {
        checkUrls(lines(n), 100_000);
      } catch (e) {
        err = e as InvalidRequest;
      }
      expect(err.invalid.length).toBe(MAX_REPORTED);
      expect(err.invalid.at(-1)!.line).toBe(MAX_REPORTED);
      expect(err.message).toBe(`${n} of ${n} lines are not valid http(s) URLs (the first 50 are listed, and ${n - 50} more)`);
    }
  });

  test("a body that does not arrive in time is a 408", async () => {
    const stalled = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new TextEncoder().encode("https://a/1\n")) });
    const err = await readCandidates(new Request("http://x/jobs", { method: "POST", body: stalled, headers: { "content-type": "text/plain" } }), 1000, 50).catch((e) => e);
    expect(err).toBeInstanceOf(InvalidRequest);
    expect((err as InvalidRequest).status).toBe(408);
    expect((err as InvalidRequest).message).toContain("did not arrive within 0.05 s");
  });

  test("JSON of the wrong shape is a clear 400", async () => {
    for (const body of ["[1]", "{}", '{"urls": "x"}', '{"urls": [1]}', "not json", "null"]) {
      const err = await readCandidates(req(body, "application/json"), 1000, 5000).catch((e) => e);
      expect(err, body).toBeInstanceOf(InvalidRequest);
      expect((err as InvalidRequest).status).toBe(400);
    }
    expect(await readCandidates(req('{"urls": ["https://a/x", ""]}', "application/json"), 1000, 5000)).toEqual([{ line: 1, text: "https://a/x" }]);
  });

  test("forms: the urls textarea and repeated url fields", async () => {
    const f = new FormData();
    f.set("urls", "https://a/1\n\nhttps://a/2");
    f.append("url", "https://a/3");
    const cands = await readCandidates(new Request("http://x/jobs", { method: "POST", body: f }), 10_000, 5000);
    expect(cands.map((c) => c.text)).toEqual(["https://a/1", "https://a/2", "https://a/3"]);
    const u = await readCandidates(req("urls=https%3A%2F%2Fa%2F1&url=https%3A%2F%2Fa%2F2", "application/x-www-form-urlencoded"), 1000, 5000);
    expect(u.map((c) => c.text)).toEqual(["https://a/1", "https://a/2"]);
  });

  test("a wrong content type is 415 and an oversized body 413", async () => {
    const t = await readCandidates(req("x", "application/xml"), 1000, 5000).catch((e) => e);
    expect((t as InvalidRequest).status).toBe(415);
    const big = await readCandidates(req("x".repeat(2000), "text/plain"), 1000, 5000).catch((e) => e);
    expect((big as InvalidRequest).status).toBe(413);
  });
});

describe("the link's lifetime", () => {
  test("from JSON, a form field or the query; capped by the longest allowed; absent: the default", async () => {
    const req = (body: string, type: string, url = "http://x/jobs") => new Request(url, { method: "POST", body, headers: { "content-type": type } });
    expect((await readJobRequest(req('{"urls": ["https://a/x"], "ttl_seconds": 600}', "application/json"), 1000, 5000)).ttl).toBe(600);
    expect((await readJobRequest(req("urls=https%3A%2F%2Fa%2F1&ttl_seconds=86400", "application/x-www-form-urlencoded"), 1000, 5000)).ttl).toBe("86400");
    expect((await readJobRequest(req("https://a/1", "text/plain", "http://x/jobs?ttl_seconds=120"), 1000, 5000)).ttl).toBe("120");
    expect((await readJobRequest(req("https://a/1", "text/plain"), 1000, 5000)).ttl).toBeNull();
    expect([linkTtl(600, 3600, 86400), linkTtl("86400", 3600, 604800), linkTtl(10 ** 9, 3600, 604800), linkTtl(null, 3600, 604800), linkTtl(null, 3600, 1800)]).toEqual([600, 86400, 604800, 3600, 1800]);
    for (const bad of [59, -1, 1.5, "ten", "60s", true, {}]) expect(() => linkTtl(bad, 3600, 604800)).toThrow(InvalidRequest);
  });
});
