/**
 * One-time signed links through the real nginx and link guard: what a
 * tampered, expired, used, cut-off or contended link answers, and that
 * nothing but /d/<folder>/<job>.zip with a valid signature is served.
 * Archives are placed by hand (the compressor's own test covers making them).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { newId } from "../shared/ids.ts";
import { readSecret, signLink, signature } from "../shared/securelink.ts";
import type { Config } from "../shared/config.ts";
import { archiveFolder, archiveUri } from "../compressor/archive.ts";
import { useStack } from "../../test/stack.ts";

const placed: string[] = [];
afterAll(() => {
  for (const p of placed) rmSync(p, { force: true });
});

/** Puts `bytes` where the compressor would and signs a link valid for `ttl` seconds (negative: expired). */
function place(config: Config, bytes: Uint8Array, ttl = 3600): { link: string; uri: string; folder: string; id: string; expires: number } {
  const secret = readSecret(config.RUN_DIR);
  const id = newId();
  const folder = archiveFolder(secret, id);
  mkdirSync(`${config.ARCHIVES_DIR}/${folder}`, { recursive: true, mode: 0o755 });
  const path = `${config.ARCHIVES_DIR}/${folder}/${id}.zip`;
  writeFileSync(path, bytes, { mode: 0o644 });
  placed.push(path);
  const uri = archiveUri(folder, id);
  const expires = Math.floor(Date.now() / 1000) + ttl;
  return { link: signLink(config.PUBLIC_URL, uri, expires, secret), uri, folder, id, expires };
}

const random = (n: number) => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(b.subarray(i, Math.min(n, i + 65536)));
  return b;
};

interface Raw {
  status: number;
  bytes: number;
}
/**
 * A raw HTTP/1.1 request (no URL normalisation, unlike fetch). With `cutAfter`,
 * the socket is destroyed once that many bytes came back.
 */
function raw(config: Config, target: string, opts: { method?: string; cutAfter?: number; headers?: string } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: config.HOST, port: config.NGINX_PORT });
    let head = "";
    let bytes = 0;
    const status = () => Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
    s.on("connect", () => s.write(`${opts.method ?? "GET"} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${opts.headers ?? ""}\r\n`));
    s.on("data", (d: Buffer) => {
      if (head.length < 64) head += d.toString("latin1", 0, Math.min(d.length, 64));
      bytes += d.length;
      if (opts.cutAfter !== undefined && bytes >= opts.cutAfter) {
        s.destroy();
        resolve({ status: status(), bytes });
      }
    });
    s.on("end", () => resolve({ status: status(), bytes }));
    s.on("close", () => resolve({ status: status(), bytes }));
    s.on("error", reject);
  });
}

/** GET through fetch; retries while 409 for up to `ms` (the guard hears how a GET ended over UDP, a moment later). */
async function getSettled(link: string, ms = 3000): Promise<{ status: number; body: Uint8Array }> {
  const end = Date.now() + ms;
  for (;;) {
    const r = await fetch(link);
    const body = new Uint8Array(await r.arrayBuffer());
    if (r.status !== 409 || Date.now() > end) return { status: r.status, body };
    await Bun.sleep(50);
  }
}

const pathAndQuery = (link: string) => {
  const u = new URL(link);
  return u.pathname + u.search;
};

describe("signed one-time links", () => {
  test("a valid link: 200 with the archive; a second complete download: 410", async () => {
    const { config } = await useStack();
    const data = random(100_000);
    const { link, id } = place(config, data);
    const r = await fetch(link);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/zip");
    expect(r.headers.get("content-disposition")).toBe(`attachment; filename="${id}.zip"`);
    expect(Buffer.from(await r.arrayBuffer()).equals(Buffer.from(data))).toBe(true);
    expect((await getSettled(link)).status).toBe(410);
    expect((await fetch(link, { method: "HEAD" })).status).toBe(200);
  }, 60_000);

  test("tampered signature, expiry or path: 403; expired: 410", async () => {
    const { config } = await useStack();
    const { link, uri, expires } = place(config, random(1000));
    const other = place(config, random(1000));
    const u = new URL(link);
    const md5 = u.searchParams.get("md5")!;
    const flipped = (md5[0] === "A" ? "B" : "A") + md5.slice(1);
    expect((await fetch(link.replace(`md5=${md5}`, `md5=${flipped}`))).status).toBe(403);
    expect((await fetch(link.replace(`expires=${expires}`, `expires=${expires + 1}`))).status).toBe(403);
    expect((await fetch(`${config.PUBLIC_URL}${other.uri}${u.search}`)).status).toBe(403);
    expect((await fetch(`${config.PUBLIC_URL}${uri}`)).status).toBe(403);
    const expired = place(config, random(1000), -10);
    expect((await fetch(expired.link)).status).toBe(410);
    // The untouched link still works: refusals did not use it up or lease it.
    expect((await fetch(link)).status).toBe(200);
  }, 60_000);

  test("HEAD first does not use the link up; a Range request gets the whole archive and uses it", async () => {
    const { config } = await useStack();
    const data = random(50_000);
    const { link } = place(config, data);
    const h = await fetch(link, { method: "HEAD" });
    expect([h.status, h.headers.get("content-length")]).toEqual([200, String(data.length)]);
    const r = await fetch(link, { headers: { range: "bytes=0-9" } });
    expect(r.status).toBe(200);
    expect((await r.arrayBuffer()).byteLength).toBe(data.length);
    expect((await getSettled(link)).status).toBe(410);
  }, 60_000);

  test("a GET cut off after ~1 KB does not use the link up: the next full GET gets 200", async () => {
    const { config } = await useStack();
    const data = random(32 * 1024 * 1024); // more than the socket buffers hold, so nginx sees the cut
    const { link } = place(config, data);
    const cut = await raw(config, pathAndQuery(link), { cutAfter: 1024 });
    expect(cut.status).toBe(200);
    const full = await getSettled(link);
    expect(full.status).toBe(200);
    expect(Buffer.from(full.body).equals(Buffer.from(data))).toBe(true);
    expect((await getSettled(link)).status).toBe(410);
  }, 60_000);

  test("five GETs at once: exactly one 200 with the whole archive, the others refused (409/410)", async () => {
    const { config } = await useStack();
    const data = random(8 * 1024 * 1024);
    const { link } = place(config, data);
    const results = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const r = await fetch(link);
        return { status: r.status, body: new Uint8Array(await r.arrayBuffer()) };
      }),
    );
    const ok = results.filter((r) => r.status === 200);
    expect(ok.length).toBe(1);
    expect(Buffer.from(ok[0]!.body).equals(Buffer.from(data))).toBe(true);
    for (const r of results.filter((r) => r.status !== 200)) expect([409, 410]).toContain(r.status);
    expect((await getSettled(link)).status).toBe(410);
  }, 60_000);

  test("an encoded spelling of a used link is the same link: 410", async () => {
    const { config } = await useStack();
    const { link, folder, id } = place(config, random(2000));
    expect((await fetch(link)).status).toBe(200);
    expect((await getSettled(link)).status).toBe(410);
    const q = new URL(link).search;
    const hex = (c: string) => `%${c.charCodeAt(0).toString(16)}`;
    for (const variant of [`/d/${hex(folder[0]!)}${folder.slice(1)}/${id}.zip`, `/d/${folder}%2f${id}.zip`, `/d//${folder}/${id}.zip`, `/d/./${folder}/${id}.zip`, `/d/${folder}/../${folder}/${id}.zip`]) {
      const r = await raw(config, variant + q);
      expect([variant, r.status]).toEqual([variant, 410]);
    }
  }, 60_000);

  test("nothing else is served: traversal, encoded traversal, listings, .partial, the guard, other paths", async () => {
    const { config } = await useStack();
    const { link, folder, id } = place(config, random(2000));
    const q = new URL(link).search;
    mkdirSync(`${config.ARCHIVES_DIR}/.partial`, { recursive: true });
    const partial = `${config.ARCHIVES_DIR}/.partial/${id}.zip`;
    writeFileSync(partial, "partial");
    placed.push(partial);
    const targets = [
      `/d/../../etc/passwd`,
      `/d/%2e%2e/%2e%2e/etc/passwd`,
      `/d/${folder}%2f..%2f..%2fsecret/link-secret`,
      `/d/${folder}/${id}.zip%00.txt${q}`,
      `/d/`,
      `/d/${folder}/`,
      `/d`,
      `/`,
      `/d/.partial/${id}.zip`,
      `/d/.partial/`,
      `/.partial/${id}.zip`,
      `/d/${folder}/${id}.ZIP${q}`,
      `/d/${folder.toUpperCase()}/${id}.zip${q}`,
      `/_guard`,
      `/lease`,
      `/secret/link-secret`,
      `/nginx.conf`,
    ];
    for (const t of targets) {
      const r = await raw(config, t);
      expect([t, [400, 403, 404].includes(r.status)]).toEqual([t, true]);
    }
    // The link itself was never leased by any of that.
    expect((await fetch(link)).status).toBe(200);
  }, 60_000);
});
