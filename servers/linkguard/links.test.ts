/**
 * Signed links through the real nginx and link guard: what a valid,
 * tampered, expired, used or contended link answers, that a used link's
 * archive is deleted, and that nothing but a link path with a valid
 * signature and a known Host is served. Archives are placed by hand (the
 * compressor's own tests cover making them); resume and lapse rules are in
 * resume.test.ts and lapse.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { useStack } from "../../test/stack.ts";
import { getSettled, place, random, raw } from "../../test/support/links.ts";
import { until } from "../../test/support/wait.ts";

describe("signed one-time links", () => {
  test("a valid link: 200 with the archive and its validators; then 410 for GET and HEAD, and the archive is gone", async () => {
    const { config } = await useStack();
    const data = random(100_000);
    const p = place(config, data);
    const head = await fetch(p.link, { method: "HEAD" });
    expect([head.status, head.headers.get("content-length"), head.headers.get("accept-ranges")]).toEqual([200, String(data.length), "bytes"]);
    const r = await fetch(p.link);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/zip");
    expect(r.headers.get("content-disposition")).toBe(`attachment; filename="${p.id}.zip"`);
    expect(r.headers.get("etag")).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(r.headers.get("referrer-policy")).toBe("no-referrer");
    expect(Buffer.from(await r.arrayBuffer()).equals(Buffer.from(data))).toBe(true);
    const again = await getSettled(p.link);
    expect(again.status).toBe(410);
    expect(new TextDecoder().decode(again.body)).toContain("used");
    expect((await fetch(p.link, { method: "HEAD" })).status).toBe(410);
    await until("the used archive to be deleted", () => !existsSync(p.file));
    expect(existsSync(`${config.ARCHIVES_DIR}/${p.folder}`)).toBe(false);
  }, 60_000);

  test("tampered signature, expiry or path: 403; expired: 410; each says why", async () => {
    const { config } = await useStack();
    const p = place(config, random(1000));
    const other = place(config, random(1000));
    const u = new URL(p.link);
    const md5 = u.searchParams.get("md5")!;
    const flipped = (md5[0] === "A" ? "B" : "A") + md5.slice(1);
    for (const bad of [p.link.replace(`md5=${md5}`, `md5=${flipped}`), p.link.replace(`expires=${p.expires}`, `expires=${p.expires + 1}`), `${config.PUBLIC_URL}${other.uri}${u.search}`, `${config.PUBLIC_URL}${p.uri}`]) {
      const r = await fetch(bad);
      expect(r.status).toBe(403);
      expect(await r.text()).toContain("not valid");
    }
    const expired = await fetch(place(config, random(1000), -10).link);
    expect([expired.status, await expired.text()]).toEqual([410, "this link has expired\n"]);
    // The untouched link still works: refusals did not use it up or lease it.
    expect((await fetch(p.link)).status).toBe(200);
  }, 60_000);

  test("HEAD does not use a link up; a range that is not one open range is refused (416) and takes nothing", async () => {
    const { config } = await useStack();
    const data = random(50_000);
    const p = place(config, data);
    expect((await fetch(p.link, { method: "HEAD" })).status).toBe(200);
    for (const range of ["bytes=0-9", "bytes=-100", "bytes=0-1,5-9", "bytes=x", `bytes=${data.length}-`]) {
      const r = await fetch(p.link, { headers: { range } });
      expect([range, r.status]).toEqual([range, 416]);
      expect(await r.text()).toContain("Refused");
    }
    const whole = await fetch(p.link);
    expect([whole.status, (await whole.arrayBuffer()).byteLength]).toEqual([200, data.length]);
  }, 60_000);

  test("five GETs at once: exactly one 200 with the whole archive; the others 409 with Retry-After and a reason, or 410", async () => {
    const { config } = await useStack();
    const data = random(8 * 1024 * 1024);
    const p = place(config, data);
    const results = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const r = await fetch(p.link);
        return { status: r.status, retry: r.headers.get("retry-after"), body: new Uint8Array(await r.arrayBuffer()) };
      }),
    );
    const ok = results.filter((r) => r.status === 200);
    expect(ok.length).toBe(1);
    expect(Buffer.from(ok[0]!.body).equals(Buffer.from(data))).toBe(true);
    for (const r of results.filter((r) => r.status !== 200)) {
      expect([409, 410]).toContain(r.status);
      if (r.status === 409) {
        expect(Number(r.retry)).toBeGreaterThan(0);
        expect(new TextDecoder().decode(r.body)).toContain("Another download of this link is running");
      }
    }
    expect((await getSettled(p.link)).status).toBe(410);
  }, 60_000);

  test("an encoded spelling of a used link is the same link: 410", async () => {
    const { config } = await useStack();
    const p = place(config, random(2000));
    expect((await fetch(p.link)).status).toBe(200);
    expect((await getSettled(p.link)).status).toBe(410);
    const q = new URL(p.link).search;
    const hex = (c: string) => `%${c.charCodeAt(0).toString(16)}`;
    for (const variant of [`/d/${hex(p.folder[0]!)}${p.folder.slice(1)}/${p.id}.zip`, `/d/${p.folder}%2f${p.id}.zip`, `/d//${p.folder}/${p.id}.zip`, `/d/./${p.folder}/${p.id}.zip`, `/d/${p.folder}/../${p.folder}/${p.id}.zip`]) {
      const r = await raw(config, variant + q);
      expect([variant, r.status]).toEqual([variant, 410]);
    }
  }, 60_000);

  test("nothing else is served: traversal, listings, .partial, the guard, other paths, another Host", async () => {
    const { config } = await useStack();
    const p = place(config, random(2000));
    const q = new URL(p.link).search;
    mkdirSync(`${config.ARCHIVES_DIR}/.partial`, { recursive: true });
    const partial = `${config.ARCHIVES_DIR}/.partial/${p.id}.zip`;
    writeFileSync(partial, "partial");
    try {
      const targets = [
        `/d/../../etc/passwd`,
        `/d/%2e%2e/%2e%2e/etc/passwd`,
        `/d/${p.folder}%2f..%2f..%2fsecret/link-secret`,
        `/d/${p.folder}/${p.id}.zip%00.txt${q}`,
        `/d/`,
        `/d/${p.folder}/`,
        `/d`,
        `/`,
        `/d/.partial/${p.id}.zip`,
        `/d/.partial/`,
        `/.partial/${p.id}.zip`,
        `/d/${p.folder}/${p.id}.ZIP${q}`,
        `/d/${p.folder.toUpperCase()}/${p.id}.zip${q}`,
        `/_guard`,
        `/lease`,
        `/secret/link-secret`,
        `/nginx.conf`,
        `/guard-access.log`,
      ];
      for (const t of targets) {
        const r = await raw(config, t);
        expect([t, [400, 403, 404].includes(r.status)]).toEqual([t, true]);
      }
      // DNS rebinding: a Host nginx is not configured for gets nothing, even with a valid link.
      for (const host of ["evil.example", `evil.example:${config.NGINX_PORT}`, "127.0.0.2"]) expect((await raw(config, p.target, { host })).status).toBe(421);
      // The link itself was never leased by any of that.
      expect((await fetch(p.link)).status).toBe(200);
    } finally {
      rmSync(partial, { force: true });
    }
  }, 60_000);

  test("the guard answers only nginx: without the internal token, /lease is refused", async () => {
    const { config } = await useStack();
    const p = place(config, random(2000));
    const r = await fetch(`http://${config.GUARD_HOST}:${config.GUARD_PORT}/lease`, { headers: { "x-original-uri": p.uri, "x-original-method": "GET" } });
    expect(r.status).toBe(403);
    expect((await fetch(p.link)).status).toBe(200);
  }, 60_000);
});
