/**
 * The disk and the numbers: POST /jobs answers 507 while a volume is short of
 * MIN_FREE_DISK_BYTES (a stack of its own asks for more than any disk has); a
 * compressor that runs out of space mid-way (a 1 MB tmpfs over ARCHIVES_DIR)
 * fails the job with the reason, without retrying; and the metrics (for this
 * machine, or with the internal token through a proxy) count jobs and files.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { internalToken } from "../../servers/shared/secrets.ts";
import { newId } from "../../servers/shared/ids.ts";
import { createStack, useStack } from "../stack.ts";
import { followLog } from "../support/events.ts";
import { submit, waitFinal } from "../support/jobs.ts";

let mounted: string | null = null;
afterAll(() => {
  if (mounted) Bun.spawnSync(["umount", "-l", mounted]);
});

describe("disk", () => {
  test("less free space than MIN_FREE_DISK_BYTES: 507 with Retry-After and a reason, for JSON and for the form", async () => {
    const s = await createStack({ MIN_FREE_DISK_BYTES: String(2 ** 52) });
    try {
      const r = await fetch(`${s.web}/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ urls: ["https://example.com/a.jpg"] }) });
      expect([r.status, Number(r.headers.get("retry-after")) > 0]).toEqual([507, true]);
      expect(((await r.json()) as { error: string }).error).toContain("disk space");
      const form = await fetch(`${s.web}/jobs`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html" }, body: "urls=https%3A%2F%2Fexample.com%2Fa.jpg", redirect: "manual" });
      expect(form.status).toBe(507);
      expect(await form.text()).toContain("disk space");
    } finally {
      await s.stop();
    }
  }, 120_000);

  test("the archive does not fit: the job fails at once with the reason, not retried", async () => {
    const { web, fixtures, config } = await useStack();
    expect(process.getuid?.(), "this test mounts a tmpfs and must run as root (CI does)").toBe(0);
    const log = followLog(config, "compressor");
    const m = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", config.ARCHIVES_DIR]);
    expect(m.exitCode, m.stderr.toString()).toBe(0);
    mounted = config.ARCHIVES_DIR;
    try {
      const noise = crypto.getRandomValues(new Uint8Array(65536));
      const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => noise[i % 65536]! ^ (i >> 16));
      const job = await waitFinal(web, await submit(web, [fixtures.route(`/full-${newId()}/big.bin`, big)]));
      expect([job.state, job.error]).toEqual(["failed", "there was not enough disk space on the server to build the archive"]);
      await log.next(["job done", job.id, "result=failed"]);
      expect((await log.lines()).filter((l) => l.includes(job.id) && l.includes("will retry"))).toEqual([]);
    } finally {
      expect(Bun.spawnSync(["umount", config.ARCHIVES_DIR]).exitCode).toBe(0);
      mounted = null;
    }
  }, 60_000);
});

describe("metrics", () => {
  test("GET /metrics answers this machine, and through a proxy only the internal token; jobs and files are counted", async () => {
    const { web, fixtures, config } = await useStack();
    const metrics = (url: string, token?: string, headers: Record<string, string> = {}) =>
      fetch(url, { headers: token ? { ...headers, authorization: `Bearer ${token}` } : headers });
    const viaProxy = { "x-forwarded-for": "203.0.113.7" };
    const local = await metrics(`${web}/metrics`);
    expect([local.status, local.headers.get("content-type")]).toEqual([200, expect.stringMatching(/^text\/plain; version=0\.0\.4/)]);
    expect((await metrics(`${web}/metrics`, undefined, viaProxy)).status).toBe(403);
    expect((await metrics(`${web}/metrics`, undefined, { forwarded: "for=203.0.113.7" })).status).toBe(403);
    expect((await metrics(`${web}/metrics`, "not-the-token", viaProxy)).status).toBe(403);
    expect((await metrics(`${web}/metrics`, internalToken(config), viaProxy)).status).toBe(200);
    const count = (text: string, name: string) => Number(new RegExp(`^${name.replace(/[{}"]/g, "\\$&")} (\\d+)`, "m").exec(text)?.[1] ?? 0);
    const webBefore = await (await metrics(`${web}/metrics`, internalToken(config))).text();
    const dlUrl = `http://${config.HOST}:${config.DOWNLOADER_PORT}/metrics`;
    const dlBefore = await (await metrics(dlUrl)).text();
    await waitFinal(web, await submit(web, [fixtures.route(`/metrics-${newId()}/a.txt`, "counted\n", "text/plain")]));
    const webAfter = await (await metrics(`${web}/metrics`, internalToken(config))).text();
    const ready = 'linkpack_jobs_finished_total{state="ready",process="web"}';
    expect(count(webAfter, ready)).toBe(count(webBefore, ready) + 1);
    expect(webAfter).toContain("linkpack_time_to_link_seconds_count");
    expect(webAfter).toMatch(/linkpack_disk_free_bytes\{volume="downloads",process="web"\} \d+/);
    const done = 'linkpack_files_total{state="done",process="downloader"}';
    expect(count(await (await metrics(dlUrl)).text(), done)).toBeGreaterThan(count(dlBefore, done));
  }, 60_000);
});
