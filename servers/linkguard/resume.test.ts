/**
 * Every byte of an archive leaves nginx at most once per link (up to
 * LINK_RESUME_OVERLAP_BYTES): a download cut off early can be continued with
 * Range — by `curl -C -` and by a browser's resume with If-Range — but never
 * restarted from zero, so a link cannot be milked by cutting GETs short.
 * Through the real nginx and link guard of the shared test stack.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { useStack } from "../../test/stack.ts";
import { getSettled, place, random, raw, settled } from "../../test/support/links.ts";
import { until } from "../../test/support/wait.ts";

const MiB = 1024 * 1024;
const tmp = mkdtempSync(`${tmpdir()}/linkpack-resume-`);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("resume, never restart", () => {
  test("a GET cut 32 MiB before the end cannot be followed by another from byte 0 (no milking); the rest comes with Range", async () => {
    const { config } = await useStack();
    const size = 64 * MiB;
    const data = random(size);
    const p = place(config, data);
    const first = await raw(config, p.target, { cutAfter: size - 32 * MiB });
    expect(first.status).toBe(200);
    // A second GET from the start, cut the same way, and a full GET: both refused, neither sends a byte of the archive.
    for (const o of [{ cutAfter: size - 32 * MiB }, {}, { headers: { range: "bytes=0-" } }]) {
      const again = await settled(() => raw(config, p.target, o));
      expect(again.status).toBe(416);
      const text = again.body.toString();
      expect(text).toContain("cannot start again at byte 0");
      expect(text).toContain("curl -C -");
    }
    // Continuing from what arrived gets exactly the rest.
    const have = first.body.length;
    const rest = await settled(() => raw(config, p.target, { headers: { range: `bytes=${have}-` } }));
    expect(rest.status).toBe(206);
    expect(rest.headers["content-range"]).toBe(`bytes ${have}-${size - 1}/${size}`);
    expect(Buffer.concat([first.body.subarray(0, have), rest.body]).equals(Buffer.from(data))).toBe(true);
    // Whole now: burned.
    expect((await getSettled(p.link)).status).toBe(410);
    await until("the archive to be deleted", () => !existsSync(p.file));
  }, 120_000);

  test("curl -C - continues a cut-off download to the whole archive (206), then the link is used up", async () => {
    const { config } = await useStack();
    const size = 40 * MiB;
    const data = random(size);
    const p = place(config, data);
    const cut = await raw(config, p.target, { cutAfter: 24 * MiB });
    const out = `${tmp}/curl-${p.id}.zip`;
    writeFileSync(out, cut.body);
    // curl retries nothing by itself: it is asked again until the guard has read how the first GET ended.
    const curl = async () => {
      const proc = Bun.spawn(["curl", "-sS", "-f", "-C", "-", "-o", out, "-w", "%{http_code}", p.link], { stdout: "pipe", stderr: "pipe" });
      const [status, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      return { status: Number(status), stderr, code };
    };
    const { status, stderr, code } = await settled(curl);
    expect(status).toBe(206);
    expect([code, stderr]).toEqual([0, ""]);
    expect(readFileSync(out).equals(Buffer.from(data))).toBe(true);
    expect((await getSettled(p.link)).status).toBe(410);
  }, 120_000);

  test("a browser's resume (Range with If-Range: the ETag) gets 206; a stale If-Range would restart from 0, so it is refused", async () => {
    const { config } = await useStack();
    const size = 48 * MiB;
    const data = random(size);
    const p = place(config, data);
    const first = await raw(config, p.target, { cutAfter: 30 * MiB });
    const etag = first.headers.etag!;
    const lastModified = first.headers["last-modified"]!;
    expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    const have = first.body.length;
    const stale = await settled(() => raw(config, p.target, { headers: { range: `bytes=${have}-`, "if-range": '"0-0"' } }));
    expect(stale.status).toBe(416);
    const head = await fetch(p.link, { method: "HEAD" });
    expect(head.status).toBe(200); // a HEAD mid-way takes nothing
    const byDate = await settled(() => raw(config, p.target, { headers: { range: `bytes=${have}-`, "if-range": lastModified }, cutAfter: MiB }));
    expect(byDate.status).toBe(206);
    const rest = await settled(() => raw(config, p.target, { headers: { range: `bytes=${have + byDate.body.length}-`, "if-range": etag } }));
    expect(rest.status).toBe(206);
    expect(Buffer.concat([first.body.subarray(0, have), byDate.body, rest.body]).equals(Buffer.from(data))).toBe(true);
    expect((await getSettled(p.link)).status).toBe(410);
  }, 120_000);

  test("a GET cut off early, within the overlap, may start again from byte 0", async () => {
    const { config } = await useStack();
    const data = random(32 * MiB); // more than the socket buffers hold, so nginx sees the cut
    const p = place(config, data);
    expect((await raw(config, p.target, { cutAfter: 1024 })).status).toBe(200);
    const full = await getSettled(p.link);
    expect(full.status).toBe(200);
    expect(Buffer.from(full.body).equals(Buffer.from(data))).toBe(true);
    expect((await getSettled(p.link)).status).toBe(410);
  }, 60_000);
});
