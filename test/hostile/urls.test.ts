/**
 * Per-URL hostile input through a real stack with small limits: every bad
 * URL fails with a reason a person understands, the good ones still arrive,
 * nothing private is ever fetched, and hostile file names stay inside the
 * job and yield safe zip entry names.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import type { Socket, TCPSocketListener } from "bun";
import { createStack } from "../stack.ts";
import { entries, fetchLink, submit, waitFinal } from "../support/jobs.ts";

let s: Awaited<ReturnType<typeof createStack>>;
let raw: TCPSocketListener<undefined> | null = null;
const MiB = 1024 * 1024;

beforeAll(async () => {
  s = await createStack({
    MAX_FILE_BYTES: String(1 * MiB),
    MAX_JOB_BYTES: String(3 * MiB),
    IDLE_TIMEOUT_MS: "1500",
    DOWNLOAD_DEADLINE_MS: "5000",
    CONNECT_TIMEOUT_MS: "3000",
    MAX_REDIRECTS: "3",
  });
  // A raw HTTP server whose Content-Length lies (Bun.serve would correct it).
  raw = Bun.listen({
    hostname: "127.0.0.1",
    port: s.sparePort,
    socket: {
      data(sock: Socket<undefined>, data) {
        const path = /^GET (\S+)/.exec(data.toString())?.[1] ?? "";
        const [declared, sent] = path === "/short" ? [100, 50] : [50, 100];
        sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${declared}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${"x".repeat(sent)}`);
        sock.end();
      },
    },
  });
}, 120_000);
afterAll(async () => {
  raw?.stop(true);
  await s?.stop();
}, 60_000);

const stream = (gen: (ctrl: ReadableStreamDefaultController<Uint8Array>) => Promise<void>) =>
  new Response(new ReadableStream<Uint8Array>({ start: (c) => void gen(c).catch(() => {}) }), { headers: { "content-type": "application/octet-stream" } });

describe("per-URL failures", () => {
  test("each failing URL fails with its reason; the good one arrives", async () => {
    const f = s.fixtures;
    const good = f.route("/h/good.txt", "good\n", "text/plain");
    f.route("/h/500", () => new Response("boom", { status: 500 }));
    f.route("/h/loop", () => Response.redirect(`${f.origin}/h/loop`, 302));
    for (let i = 0; i < 6; i++) f.route(`/h/r${i}`, () => Response.redirect(`${f.origin}/h/r${i + 1}`, 302));
    f.route("/h/big-declared", () => new Response(new Uint8Array(2 * MiB)));
    f.route("/h/big-streamed", () =>
      stream(async (c) => {
        for (let i = 0; i < 40; i++) c.enqueue(new Uint8Array(64 * 1024));
        c.close();
      }),
    );
    f.route("/h/stall", () =>
      stream(async (c) => {
        c.enqueue(new Uint8Array(1024));
        await Bun.sleep(60_000);
      }),
    );
    f.route("/h/trickle", () =>
      stream(async (c) => {
        for (let i = 0; i < 100; i++) {
          c.enqueue(new Uint8Array(1));
          await Bun.sleep(200);
        }
      }),
    );
    const cases: [string, RegExp][] = [
      [good, /^$/],
      ["http://no-such-host.invalid/a.jpg", /could not resolve host/],
      [`http://127.0.0.1:${s.closedPort}/a.jpg`, /connection refused/],
      [`${f.origin}/h/missing`, /HTTP 404/],
      [`${f.origin}/h/500`, /HTTP 500/],
      [`https://127.0.0.1:${f.port}/h/good.txt`, /TLS|SSL|could not download|connection/i],
      [`${f.origin}/h/loop`, /redirect loop/],
      [`${f.origin}/h/r0`, /too many redirects/],
      [`${f.origin}/h/big-declared`, /larger than the limit/],
      [`${f.origin}/h/big-streamed`, /larger than the limit/],
      [`${f.origin}/h/stall`, /no data received/],
      [`${f.origin}/h/trickle`, /took longer than/],
      [`http://127.0.0.1:${s.sparePort}/short`, /connection closed after \d+ of 100 bytes/],
    ];
    const id = await submit(s.web, cases.map((c) => c[0]));
    const job = await waitFinal(s.web, id, 60_000);
    expect(job.state).toBe("ready");
    for (const [i, [url, why]] of cases.entries()) {
      const file = job.files[i]!;
      if (i === 0) expect(file.state).toBe("done");
      else {
        expect(file.state, url).toBe("failed");
        expect(file.error ?? "", url).toMatch(why);
      }
    }
    expect(Object.keys(entries((await fetchLink(job.link!)).body))).toEqual(["good.txt"]);
  }, 90_000);

  test("a Content-Length longer than the body's first bytes: no more than declared is kept", async () => {
    const id = await submit(s.web, [`http://127.0.0.1:${s.sparePort}/long`]);
    const job = await waitFinal(s.web, id, 30_000);
    const f = job.files[0]!;
    expect(f.bytes).toBeLessThanOrEqual(50);
    if (f.state === "done") expect(f.bytes).toBe(50);
    else expect(f.error).toBeTruthy();
  }, 60_000);

  test("a job past MAX_JOB_BYTES: further files fail, the rest arrive", async () => {
    const urls = Array.from({ length: 5 }, (_, i) => s.fixtures.route(`/jb/f${i}.bin`, new Uint8Array(900 * 1024).fill(i)));
    const job = await waitFinal(s.web, await submit(s.web, urls), 60_000);
    const done = job.files.filter((f) => f.state === "done");
    const failed = job.files.filter((f) => f.state === "failed");
    // Downloads run at once, so which ones fail depends on timing; at most 3 fit.
    expect(done.length).toBeGreaterThanOrEqual(2);
    expect(done.length).toBeLessThanOrEqual(3);
    expect(failed.length).toBe(5 - done.length);
    for (const f of failed) expect(f.error).toContain("the job would exceed its limit");
    expect(done.reduce((n, f) => n + f.bytes, 0)).toBeLessThanOrEqual(3 * MiB);
  }, 60_000);
});

describe("SSRF", () => {
  test("loopback, private, link-local, internal services and private redirects are refused, nothing fetched", async () => {
    const c = s.config;
    const f = s.fixtures;
    f.route("/ssrf/redirect", () => Response.redirect(`http://127.0.0.1:${c.PORT}/healthz`, 302));
    const urls = [
      `http://localhost:${c.PORT}/healthz`,
      `http://127.1:${c.PORT}/`,
      `http://0x7f000001:${c.PORT}/`,
      `http://2130706433:${c.PORT}/`,
      `http://[::1]:${c.PORT}/`,
      `http://[::ffff:127.0.0.1]:${c.PORT}/`,
      "http://169.254.169.254/latest/meta-data/",
      "http://10.0.0.1/",
      "http://172.16.0.1/",
      "http://192.168.1.1/",
      "http://100.64.0.1/",
      "http://0.0.0.0/",
      "http://[fc00::1]/",
      "http://[fe80::1]/",
      "http://224.0.0.1/",
      "http://[64:ff9b::7f00:1]/",
      `http://127.0.0.1:${c.NGINX_PORT}/`,
      `http://127.0.0.1:${c.BROKER_PORT}/`,
      `http://127.0.0.1:${c.BROKER_STOMP_PORT}/ws`,
      `http://127.0.0.1:${c.COMPRESSOR_PORT}/healthz`,
      `http://127.0.0.1:${c.GUARD_PORT}/healthz`,
      `${f.origin}/ssrf/redirect`,
    ];
    const job = await waitFinal(s.web, await submit(s.web, urls), 60_000);
    expect(job.state).toBe("failed");
    for (const file of job.files) {
      expect(file.state, file.url).toBe("failed");
      expect(file.error ?? "", file.url).toMatch(/^refused: /);
      expect(file.bytes).toBe(0);
    }
  }, 60_000);
});

describe("hostile file names", () => {
  test("names from Content-Disposition and paths stay in the job folder and become safe, unique entries", async () => {
    const f = s.fixtures;
    const names = [
      'attachment; filename="../../etc/passwd"',
      'attachment; filename="/etc/shadow"',
      'attachment; filename="a\\\\..\\\\b.txt"',
      "attachment; filename*=UTF-8''%2e%2e%2f%2e%2e%2fevil.txt",
      "attachment; filename*=UTF-8''nul%00byte.txt",
      `attachment; filename="${"long".repeat(100)}.txt"`,
      'attachment; filename="CON.txt"',
      "attachment; filename*=UTF-8''%E2%80%AEtxt.exe",
      'attachment; filename=".hidden"',
      'attachment; filename="same.txt"',
      'attachment; filename="same.txt"',
    ];
    const urls = names.map((cd, i) => f.route(`/names/${i}`, () => new Response(`file ${i}\n`, { headers: { "content-disposition": cd } })));
    urls.push(`${f.origin}/names/%2e%2e%2f%2e%2e%2fpath-evil.txt`);
    f.route("/names/%2e%2e%2f%2e%2e%2fpath-evil.txt", "path\n");
    const job = await waitFinal(s.web, await submit(s.web, urls), 60_000);
    expect(job.state).toBe("ready");
    const zipNames = Object.keys(entries((await fetchLink(job.link!)).body));
    expect(zipNames.length).toBe(job.files.filter((x) => x.state === "done").length);
    expect(zipNames.length).toBeGreaterThanOrEqual(names.length);
    expect(new Set(zipNames.map((n) => n.toLowerCase())).size).toBe(zipNames.length);
    for (const n of zipNames) {
      expect(n).not.toMatch(/[/\\\u0000-\u001f\u007f\u202e]/);
      expect(n).not.toMatch(/^\.|^\.\.$|\.\./);
      expect(Buffer.byteLength(n)).toBeLessThanOrEqual(255);
      expect(n.toUpperCase()).not.toMatch(/^(CON|PRN|AUX|NUL|COM\d|LPT\d)(\.|$)/);
    }
    // nothing escaped the job folder: RUN_DIR holds only what the stack makes
    expect(readdirSync(s.runDir).sort()).toEqual(["archives", "downloads", "logs", "nginx", "pids", "rabbitmq", "secret", "state"]);
    expect(existsSync(`${s.config.DOWNLOADS_DIR}/../evil.txt`)).toBe(false);
  }, 60_000);
});
