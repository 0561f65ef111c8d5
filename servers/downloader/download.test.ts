/**
 * The fetcher, transfer and naming together (`downloadFile`) against local
 * servers, with small timeouts: redirects, timeouts, lying lengths, limits,
 * refused connections, TLS, and the resolver hook proving that the request
 * goes to the address that was checked.
 */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { crc32, gzipSync } from "node:zlib";
import type { Server, TCPSocketListener } from "bun";
import { ensureJobDir, writeOutcome } from "../shared/jobfiles.ts";
import { newId } from "../shared/ids.ts";
import type { DownloadRequest, FileEvent } from "../shared/messages.ts";
import { downloadFile, type DownloadConfig, type DownloadDeps } from "./download.ts";
import type { Resolver } from "./ssrf.ts";

const CERT = readFileSync(`${import.meta.dir}/testdata/tls-cert.pem`, "utf8");
const KEY = readFileSync(`${import.meta.dir}/testdata/tls-key.pem`, "utf8");
const BODY = new Uint8Array(100_000).map((_, i) => (i * 31) & 255);

type Route = (req: Request) => Response | Promise<Response>;
const routes = new Map<string, Route>();
const hits = new Map<string, number>();
const seenHost = new Map<string, string | null>();
const handle = async (req: Request) => {
  const path = new URL(req.url).pathname;
  hits.set(path, (hits.get(path) ?? 0) + 1);
  seenHost.set(path, req.headers.get("host"));
  const r = routes.get(path);
  return r ? r(req) : new Response("nope", { status: 404 });
};
const http: Server<undefined> = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 0, fetch: handle });
const https: Server<undefined> = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 0, tls: { cert: CERT, key: KEY }, fetch: handle });
const H = `127.0.0.1:${http.port}`;
const base = `http://${H}`;

/** A raw HTTP/1.1 server for responses Bun.serve will not produce (lying Content-Length). */
const raw: TCPSocketListener<undefined> = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    data(s, d) {
      const path = d.toString().split(" ")[1] ?? "";
      const head = (len: number) => `HTTP/1.1 200 OK\r\nContent-Length: ${len}\r\nConnection: close\r\n\r\n`;
      if (path === "/short") s.write(head(100) + "a".repeat(50));
      else if (path === "/long") s.write(head(100) + "b".repeat(150));
      setTimeout(() => s.end(), 30);
    },
  },
});

const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
const closedPort = closed.port;
closed.stop(true);

const dirs: string[] = [];
afterAll(() => {
  http.stop(true);
  https.stop(true);
  raw.stop(true);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
beforeEach(() => {
  routes.clear();
  hits.clear();
});

const config: DownloadConfig = {
  ALLOW_PRIVATE_URLS: [H, `127.0.0.1:${raw.port}`, `127.0.0.1:${closedPort}`],
  MAX_REDIRECTS: 3,
  CONNECT_TIMEOUT_MS: 1000,
  IDLE_TIMEOUT_MS: 300,
  DOWNLOAD_DEADLINE_MS: 3000,
  PROGRESS_INTERVAL_MS: 50,
  MAX_FILE_BYTES: 1_000_000,
  MAX_JOB_BYTES: 2_000_000,
  // one attempt unless a test asks for retries (the retry tests below)
  DOWNLOAD_RETRIES: 0,
  DOWNLOAD_RETRY_BASE_MS: 10,
  RETRY_AFTER_MAX_SECONDS: 1,
};

async function get(url: string, opts: { config?: Partial<DownloadConfig>; resolver?: Resolver; ca?: string; dir?: string; index?: number; prepare?: (dir: string) => void; onEvent?: (e: FileEvent) => void } = {}) {
  const dir = opts.dir ?? mkdtempSync(`${tmpdir()}/dl-test-`);
  if (!opts.dir) dirs.push(dir);
  await ensureJobDir(dir);
  opts.prepare?.(dir);
  const events: FileEvent[] = [];
  const deps: DownloadDeps = {
    config: { ...config, ...opts.config },
    resolver: opts.resolver ?? (async () => []),
    publish: async (ev) => void (events.push(ev), opts.onEvent?.(ev)),
    ca: opts.ca,
  };
  const req: DownloadRequest = { v: 1, jobId: newId(), index: opts.index ?? 0, total: 5, url };
  const outcome = await downloadFile(req, dir, deps);
  return { outcome, events, dir };
}

const slowStream = (chunks: number, everyMs: number, size = 10) =>
  new ReadableStream<Uint8Array>({
    async pull(c) {
      if (chunks-- <= 0) return c.close();
      await Bun.sleep(everyMs);
      c.enqueue(new Uint8Array(size).fill(65));
    },
  });

describe("downloading", () => {
  test("streams to NNN-<name>, with byte count, CRC-32 and throttled progress", async () => {
    routes.set("/data/photo.jpg", () => new Response(BODY, { headers: { "content-type": "image/jpeg" } }));
    const { outcome, events, dir } = await get(`${base}/data/photo.jpg`, { index: 7 });
    expect(outcome).toMatchObject({ state: "done", name: "photo.jpg", bytes: BODY.length, error: null });
    expect(outcome.file).toMatch(/^007-\d+x[0-9a-f]{10}-photo\.jpg$/); // named after this download: no other download writes it
    expect(outcome.crc32).toBe(crc32(BODY));
    expect(new Uint8Array(readFileSync(`${dir}/${outcome.file}`))).toEqual(BODY);
    expect(events).toEqual([]); // done within one interval: its final event (the worker's) is all it says
  });

  test("the name comes from Content-Disposition, sanitised", async () => {
    routes.set("/dl", () => new Response("x", { headers: { "content-disposition": "attachment; filename*=UTF-8''..%2F..%2Fr%C3%A9sum%C3%A9.pdf" } }));
    const { outcome } = await get(`${base}/dl?id=1`);
    expect(outcome).toMatchObject({ state: "done", name: "résumé.pdf" });
    expect(outcome.file).toEndWith("-résumé.pdf");
  });

  test("a body sent gzip-encoded anyway is stored decoded (its Content-Length is of the encoded bytes)", async () => {
    const plain = Buffer.from("id,name\n".repeat(5000));
    routes.set("/data.csv", () => new Response(gzipSync(plain), { headers: { "content-encoding": "gzip", "content-type": "text/csv" } }));
    const { outcome, dir } = await get(`${base}/data.csv`);
    expect(outcome).toMatchObject({ state: "done", bytes: plain.length });
    expect(readFileSync(`${dir}/${outcome.file}`)).toEqual(plain);
  });

  test("an empty body and a 204 are fine (0 bytes)", async () => {
    routes.set("/empty", () => new Response(null, { status: 204 }));
    const { outcome } = await get(`${base}/empty`);
    expect(outcome).toMatchObject({ state: "done", bytes: 0, crc32: 0 });
  });

  test("a download that outlasts one interval says so then, with its name, and at most once per interval after", async () => {
    // 20 chunks 10 ms apart: about 200 ms, so about 3 events at one per 50 ms
    routes.set("/slow.jpg", () => new Response(slowStream(20, 10), { headers: { "content-length": "200", "content-type": "image/jpeg" } }));
    const { outcome, events } = await get(`${base}/slow.jpg`, { index: 3 });
    expect(outcome).toMatchObject({ state: "done", bytes: 200 });
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events.length).toBeLessThanOrEqual(6);
    expect(events.every((e) => e.state === "downloading" && e.name === "slow.jpg" && e.index === 3 && e.bytes < 200)).toBe(true);
    expect([...events].map((e) => e.bytes).sort((a, b) => a - b)).toEqual(events.map((e) => e.bytes));
  });

  test("a stalled answer says so after one interval, though no more bytes came", async () => {
    let go!: () => void;
    const held = new Promise<void>((r) => (go = r));
    let sent = 0;
    routes.set("/stall.bin", () => new Response(new ReadableStream<Uint8Array>({
      async pull(c) {
        if (sent++ === 0) return c.enqueue(new Uint8Array(1)); // the headers go out with a first byte
        await held;
        c.enqueue(new Uint8Array(4));
        c.close();
      },
    }), { headers: { "content-length": "5" } }));
    const { outcome, events } = await get(`${base}/stall.bin`, { onEvent: () => go() });
    expect(outcome).toMatchObject({ state: "done", bytes: 5 });
    expect(events[0]).toMatchObject({ state: "downloading", name: "stall.bin" });
    expect(events[0]!.bytes).toBeLessThanOrEqual(1);
  });

  test("throttling: a download within one interval sends no event of its own (its final one says all); without an interval, every read has its event", async () => {
    routes.set("/slow.bin", () => new Response(slowStream(20, 10), { headers: { "content-length": "200" } }));
    const quiet = await get(`${base}/slow.bin`, { config: { PROGRESS_INTERVAL_MS: 3_600_000 } });
    expect(quiet.outcome.bytes).toBe(200);
    expect(quiet.events).toEqual([]);
    const every = (await get(`${base}/slow.bin`, { config: { PROGRESS_INTERVAL_MS: 0 } })).events.map((e) => e.bytes);
    expect(every.length).toBeGreaterThan(2); // the 20 chunks come 10 ms apart, so in more than one read
    expect([every[0], every.at(-1)]).toEqual([0, 200]);
    expect([...every].sort((a, b) => a - b)).toEqual(every);
  });
});

describe("redirects", () => {
  test("relative and absolute redirects are followed; the final URL names the file", async () => {
    routes.set("/r1", () => Response.redirect(`${base}/r2`, 302));
    routes.set("/r2", () => new Response(null, { status: 301, headers: { location: "/files/final.txt" } }));
    routes.set("/files/final.txt", () => new Response("done"));
    const { outcome } = await get(`${base}/r1`);
    expect(outcome).toMatchObject({ state: "done", name: "final.txt", bytes: 4 });
  });

  test("a loop fails with too many redirects", async () => {
    routes.set("/a", () => new Response(null, { status: 307, headers: { location: "/b" } }));
    routes.set("/b", () => new Response(null, { status: 308, headers: { location: "/a" } }));
    const { outcome } = await get(`${base}/a`);
    expect(outcome).toMatchObject({ state: "failed", error: "too many redirects (redirect loop)" });
  });

  test("more than MAX_REDIRECTS fails", async () => {
    for (let i = 0; i < 10; i++) routes.set(`/hop${i}`, () => new Response(null, { status: 302, headers: { location: `/hop${i + 1}` } }));
    routes.set("/hop10", () => new Response("x"));
    expect((await get(`${base}/hop7`)).outcome.state).toBe("done"); // 3 redirects
    const { outcome } = await get(`${base}/hop0`);
    expect(outcome).toMatchObject({ state: "failed", error: "too many redirects (more than 3)" });
    expect(hits.get("/hop4")).toBeUndefined();
  });

  test("every hop is checked: a redirect to a private address is refused before connecting", async () => {
    routes.set("/to-evil", () => Response.redirect(`http://evil.test:${http.port}/secret`, 302));
    routes.set("/to-meta", () => Response.redirect("http://169.254.169.254/latest/meta-data/", 302));
    routes.set("/to-file", () => Response.redirect("file:///etc/passwd", 302));
    routes.set("/secret", () => new Response("secret"));
    const resolver: Resolver = async () => [{ address: "127.0.0.1", family: 4 }];
    expect((await get(`${base}/to-evil`, { resolver })).outcome.error).toBe(`refused: evil.test resolves to 127.0.0.1, a loopback address`);
    expect((await get(`${base}/to-meta`, { resolver })).outcome.error).toBe("refused: 169.254.169.254 is a link-local address");
    expect((await get(`${base}/to-file`, { resolver })).outcome.error).toContain("only http and https");
    expect(hits.get("/secret")).toBeUndefined();
  });
});

describe("connecting to the checked address", () => {
  test("a name the resolver maps to 127.0.0.1 is refused, and nothing is requested", async () => {
    routes.set("/x", () => new Response("x"));
    const resolver: Resolver = async () => [{ address: "127.0.0.1", family: 4 }];
    const { outcome } = await get(`http://evil.test:${http.port}/x`, { resolver });
    expect(outcome).toMatchObject({ state: "failed", error: "refused: evil.test resolves to 127.0.0.1, a loopback address" });
    expect(hits.get("/x")).toBeUndefined();
  });

  test("an allowed name is fetched from the address the resolver gave, with its own Host header (no second lookup)", async () => {
    routes.set("/hello.txt", () => new Response("hello"));
    const asked: string[] = [];
    const resolver: Resolver = async (h) => (asked.push(h), [{ address: "127.0.0.1", family: 4 }]);
    // files.linkpack.test does not exist in any DNS: only the checked address can have been used
    const { outcome } = await get(`http://files.linkpack.test:${http.port}/hello.txt`, { resolver, config: { ALLOW_PRIVATE_URLS: [`files.linkpack.test:${http.port}`] } });
    expect(outcome).toMatchObject({ state: "done", bytes: 5 });
    expect(asked).toEqual(["files.linkpack.test"]);
    expect(seenHost.get("/hello.txt")).toBe(`files.linkpack.test:${http.port}`);
  });

  test("https: TLS is checked against the URL's name although the connection goes to the IP", async () => {
    routes.set("/secure.txt", () => new Response("secure"));
    const resolver: Resolver = async () => [{ address: "127.0.0.1", family: 4 }];
    const allow = { ALLOW_PRIVATE_URLS: [`files.linkpack.test:${https.port}`, `other.linkpack.test:${https.port}`] };
    const ok = await get(`https://files.linkpack.test:${https.port}/secure.txt`, { resolver, ca: CERT, config: allow });
    expect(ok.outcome).toMatchObject({ state: "done", bytes: 6 });
    expect(seenHost.get("/secure.txt")).toBe(`files.linkpack.test:${https.port}`);
    const wrongName = await get(`https://other.linkpack.test:${https.port}/secure.txt`, { resolver, ca: CERT, config: allow });
    expect(wrongName.outcome.error).toBe("TLS certificate error: certificate does not match the host name (other.linkpack.test)");
    const untrusted = await get(`https://files.linkpack.test:${https.port}/secure.txt`, { resolver, config: allow });
    expect(untrusted.outcome.error).toBe("TLS certificate error: self-signed certificate");
  });

  test("an http connection is kept for the next file from the same address; an https one never is (it was verified for one name)", async () => {
    const ports: number[] = [];
    const from = (server: Server<undefined>) => (req: Request) => (ports.push(server.requestIP(req)!.port), new Response("kept?"));
    routes.set("/kept-http.txt", from(http));
    for (let i = 0; i < 3; i++) expect((await get(`${base}/kept-http.txt`)).outcome).toMatchObject({ state: "done", bytes: 5 });
    expect(new Set(ports).size).toBe(1);
    ports.length = 0;
    routes.set("/kept-https.txt", from(https));
    const resolver: Resolver = async () => [{ address: "127.0.0.1", family: 4 }];
    const allow = { ALLOW_PRIVATE_URLS: [`files.linkpack.test:${https.port}`] };
    for (let i = 0; i < 3; i++) expect((await get(`https://files.linkpack.test:${https.port}/kept-https.txt`, { resolver, ca: CERT, config: allow })).outcome).toMatchObject({ state: "done", bytes: 5 });
    expect(new Set(ports).size).toBe(3);
  });

  test("when a name has several addresses and the first refuses, the next is tried", async () => {
    routes.set("/two.txt", () => new Response("two"));
    const resolver: Resolver = async () => [
      { address: "127.0.0.2", family: 4 },
      { address: "127.0.0.1", family: 4 },
    ];
    const { outcome } = await get(`http://multi.test:${http.port}/two.txt`, { resolver, config: { ALLOW_PRIVATE_URLS: [`multi.test:${http.port}`] } });
    expect(outcome).toMatchObject({ state: "done", bytes: 3 });
  });
});

describe("failures a person can read", () => {
  test("HTTP errors", async () => {
    routes.set("/gone", () => new Response("no", { status: 404 }));
    routes.set("/boom", () => new Response("no", { status: 500 }));
    expect((await get(`${base}/gone`)).outcome).toMatchObject({ state: "failed", error: "HTTP 404 Not Found", name: null, file: null });
    expect((await get(`${base}/boom`)).outcome.error).toBe("HTTP 500 Internal Server Error");
  });

  test("refused port, unknown host", async () => {
    expect((await get(`http://127.0.0.1:${closedPort}/x`)).outcome.error).toBe("connection refused");
    const nxdomain: Resolver = async () => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" });
    };
    expect((await get("http://example.invalid/x", { resolver: nxdomain })).outcome.error).toBe("could not resolve host example.invalid");
  });

  test("no response headers in time", async () => {
    routes.set("/mute", async () => (await Bun.sleep(2000), new Response("late")));
    const { outcome } = await get(`${base}/mute`, { config: { CONNECT_TIMEOUT_MS: 200 } });
    expect(outcome.error).toBe(`no response from ${H} within 0.2 s`);
  });

  test("a body that stalls mid-way hits the idle timeout", async () => {
    routes.set("/stall", () => new Response(new ReadableStream({ start: (c) => c.enqueue(new Uint8Array(1000)) }), { headers: { "content-length": "5000" } }));
    const { outcome } = await get(`${base}/stall`);
    expect(outcome).toMatchObject({ state: "failed", error: "no data received for 0.3 s", bytes: 1000 });
  });

  test("a trickling body hits the overall deadline", async () => {
    routes.set("/trickle", () => new Response(slowStream(1000, 50)));
    const { outcome } = await get(`${base}/trickle`, { config: { DOWNLOAD_DEADLINE_MS: 400 } });
    expect(outcome.error).toBe("download took longer than 0.4 s");
    expect(outcome.bytes).toBeGreaterThan(0);
  });

  test("Content-Length lies: a shorter body fails, a longer one is cut at the declared length", async () => {
    const short = await get(`http://127.0.0.1:${raw.port}/short`);
    expect(short.outcome).toMatchObject({ state: "failed", error: "connection closed after 50 of 100 bytes" });
    const long = await get(`http://127.0.0.1:${raw.port}/long`);
    expect(long.outcome).toMatchObject({ state: "done", bytes: 100 });
    expect(readFileSync(`${long.dir}/${long.outcome.file}`, "utf8")).toBe("b".repeat(100));
  });

  test("too large: early from Content-Length, and while streaming without one", async () => {
    routes.set("/big-declared", () => new Response(new Uint8Array(5000)));
    routes.set("/big-streamed", () => new Response(slowStream(10, 1, 1000)));
    const small = { config: { MAX_FILE_BYTES: 4096 } };
    const declared = await get(`${base}/big-declared`, small);
    expect(declared.outcome).toMatchObject({ state: "failed", error: "file is larger than the limit of 4 KiB (4.9 KiB)", bytes: 0 });
    const streamed = await get(`${base}/big-streamed`, small);
    expect(streamed.outcome).toMatchObject({ state: "failed", error: "file is larger than the limit of 4 KiB" });
    expect(streamed.outcome.bytes).toBeLessThanOrEqual(4096);
  });

  test("MAX_JOB_BYTES counts the job's finished files", async () => {
    routes.set("/part.bin", () => new Response(new Uint8Array(3000)));
    const dir = mkdtempSync(`${tmpdir()}/dl-test-`);
    dirs.push(dir);
    await ensureJobDir(dir);
    await writeOutcome(dir, { index: 0, url: "x", state: "done", name: "a", file: "000-a", bytes: 8000, crc32: 0, error: null });
    await writeOutcome(dir, { index: 1, url: "x", state: "failed", name: null, file: null, bytes: 99999, crc32: null, error: "x" });
    const over = await get(`${base}/part.bin`, { dir, index: 2, config: { MAX_JOB_BYTES: 10_000 } });
    expect(over.outcome.error).toBe("the job would exceed its limit of 9.8 KiB (2.9 KiB)");
    const fits = await get(`${base}/part.bin`, { dir, index: 3, config: { MAX_JOB_BYTES: 11_000 } });
    expect(fits.outcome.state).toBe("done");
  });

  test("a disk error fails the file with a clear reason", async () => {
    routes.set("/ok.bin", () => new Response("data"));
    // the temp folder is a file (as root, permissions would not stop us)
    const prepare = (dir: string) => (rmSync(`${dir}/.tmp`, { recursive: true }), writeFileSync(`${dir}/.tmp`, "in the way"));
    const { outcome } = await get(`${base}/ok.bin`, { prepare });
    expect(outcome).toMatchObject({ state: "failed", error: "could not save the file: its folder is not a folder (ENOTDIR)", file: null });
  });

  test("non-http schemes and garbage", async () => {
    expect((await get("ftp://example.com/x")).outcome.error).toBe("only http and https URLs can be downloaded, not ftp:");
    expect((await get("::not a url::")).outcome.error).toBe("not a valid URL");
  });
});

describe("flaky sources: retried and resumed", () => {
  const retrying = { DOWNLOAD_RETRIES: 3 };
  const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
  /** A body that sends `part`, then breaks off (the connection ends early). */
  const breaking = (part: Uint8Array) => {
    let sent = false;
    return new ReadableStream<Uint8Array>({
      async pull(c) {
        if (!sent) return void ((sent = true), c.enqueue(part));
        await Bun.sleep(30);
        c.error(new Error("cut"));
      },
    });
  };

  test("503 twice, then the file: done, each retry announced with its attempt and reason", async () => {
    let n = 0;
    routes.set("/flaky/a.bin", () => (++n <= 2 ? new Response("busy", { status: 503 }) : new Response(BODY)));
    const { outcome, events } = await get(`${base}/flaky/a.bin`, { config: retrying });
    expect(outcome).toMatchObject({ state: "done", bytes: BODY.length, error: null, sha256: sha256(BODY) });
    expect(hits.get("/flaky/a.bin")).toBe(3);
    const notes = events.filter((e) => e.retry).map((e) => [e.retry!.attempt, e.retry!.attempts, e.retry!.reason]);
    expect(notes).toEqual([[2, 4, "HTTP 503 Service Unavailable"], [3, 4, "HTTP 503 Service Unavailable"]]);
  });

  test("Retry-After is honoured, up to its cap", async () => {
    let n = 0;
    routes.set("/flaky/later.bin", () => (++n === 1 ? new Response("later", { status: 429, headers: { "retry-after": "3600" } }) : new Response(BODY)));
    const { outcome, events } = await get(`${base}/flaky/later.bin`, { config: retrying });
    expect(outcome.state).toBe("done");
    const ev = events.find((e) => e.retry)!;
    expect(ev.retry!.at - ev.at).toBeGreaterThanOrEqual(1000 - 20); // RETRY_AFTER_MAX_SECONDS = 1 here, not an hour
    expect(ev.retry!.at - ev.at).toBeLessThanOrEqual(1000 + 20);
  });

  test("cut off at 60 %: the retry asks for the rest with Range and If-Range, and the file is whole", async () => {
    const cut = Math.floor(BODY.length * 0.6);
    const asked: (string | null)[][] = [];
    routes.set("/flaky/cut.bin", (req) => {
      asked.push([req.headers.get("range"), req.headers.get("if-range")]);
      const range = req.headers.get("range");
      if (range) {
        const from = Number(/^bytes=(\d+)-$/.exec(range)![1]);
        return new Response(BODY.subarray(from), { status: 206, headers: { etag: '"v1"', "content-range": `bytes ${from}-${BODY.length - 1}/${BODY.length}` } });
      }
      // the whole length is declared, then the connection ends after 60 %
      return new Response(breaking(BODY.subarray(0, cut)), { headers: { etag: '"v1"', "content-length": String(BODY.length) } });
    });
    const { outcome, dir } = await get(`${base}/flaky/cut.bin`, { config: retrying });
    expect(outcome).toMatchObject({ state: "done", bytes: BODY.length, crc32: crc32(BODY), sha256: sha256(BODY) });
    expect(asked[0]).toEqual([null, null]);
    expect(asked[1]![0]).toMatch(/^bytes=\d+-$/);
    expect(Number(/^bytes=(\d+)-$/.exec(asked[1]![0]!)![1])).toBeGreaterThan(0);
    expect(asked[1]![1]).toBe('"v1"');
    expect(new Uint8Array(readFileSync(`${dir}/${outcome.file}`)).every((b, i) => b === BODY[i])).toBe(true);
  });

  test("a server that ignores Range gets a clean restart, and the file is still whole", async () => {
    let n = 0;
    routes.set("/flaky/norange.bin", () => {
      if (++n > 1) return new Response(BODY, { headers: { etag: '"v1"' } }); // 200, whatever was asked
      return new Response(breaking(BODY.subarray(0, 1000)), { headers: { etag: '"v1"', "content-length": String(BODY.length) } });
    });
    const { outcome, dir } = await get(`${base}/flaky/norange.bin`, { config: retrying });
    expect(outcome).toMatchObject({ state: "done", bytes: BODY.length, sha256: sha256(BODY) });
    expect(readFileSync(`${dir}/${outcome.file}`).equals(Buffer.from(BODY))).toBe(true);
  });

  test("permanent failures are not retried; the last of many attempts names them", async () => {
    routes.set("/flaky/gone.bin", () => new Response("no", { status: 404 }));
    const gone = await get(`${base}/flaky/gone.bin`, { config: retrying });
    expect([gone.outcome.error, hits.get("/flaky/gone.bin")]).toEqual(["HTTP 404 Not Found", 1]);
    routes.set("/flaky/down.bin", () => new Response("down", { status: 502 }));
    const down = await get(`${base}/flaky/down.bin`, { config: retrying });
    expect([down.outcome.error, hits.get("/flaky/down.bin")]).toEqual(["HTTP 502 Bad Gateway (after 4 attempts)", 4]);
    const refused = await get(`http://127.0.0.1:${closedPort}/x.bin`, { config: { DOWNLOAD_RETRIES: 1 } });
    expect(refused.outcome.error).toBe("connection refused (after 2 attempts)");
  });
});
