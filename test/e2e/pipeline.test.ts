/**
 * The whole job through the real stack (web, broker, downloader, compressor,
 * nginx, clock): URL list in, signed one-time link out, archive bytes equal
 * to the originals.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { ROOT } from "../../servers/shared/config.ts";
import { keys } from "../../servers/shared/topology.ts";
import { jobDir } from "../../servers/shared/jobfiles.ts";
import { useStack } from "../stack.ts";
import { followLog, watch } from "../support/events.ts";
import { createHash, randomBytes } from "node:crypto";
import { IN_PLACE_MIN_BYTES } from "../../servers/compressor/inplace.ts";
import { photos, servePhotos } from "../support/fixtures.ts";
import { allEntries, archivesOf, entries, fetchLink, submit, unzipTest, waitFinal } from "../support/jobs.ts";
import { until } from "../support/wait.ts";

/** Files under `dir` (not following `skip` folders) changed since `since` (ms). */
function changedSince(dir: string, since: number, skip: (path: string) => boolean, depth = 4): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = `${dir}/${name}`;
    if (skip(path)) continue;
    let st;
    try {
      st = statSync(path);
    } catch {
      continue;
    }
    if (st.mtimeMs >= since) out.push(path);
    if (st.isDirectory() && depth > 0) out.push(...changedSince(path, since, skip, depth - 1).filter((p) => !out.includes(p)));
  }
  return out;
}

describe("pipeline", () => {
  test("10 photos as text/plain → ready → the link's zip holds the 10 originals; events in order", async () => {
    const { web, fixtures, config } = await useStack();
    const urls = servePhotos(fixtures, "p-text");
    const started = Date.now();
    const all = await watch(config, "job.#");
    const clock = await watch(config, keys.clock);
    const id = await submit(web, urls, "text");
    const job = await waitFinal(web, id);
    expect(job.state).toBe("ready");
    expect(job.files.every((f) => f.state === "done" && f.error === null)).toBe(true);
    expect(job.files.map((f) => f.bytes)).toEqual(photos().map((p) => p.bytes.length));
    expect(job.link).toStartWith(`${config.PUBLIC_URL}/d/`);
    // Valid for LINK_TTL_SECONDS from when it was made (after the job was submitted; whole seconds).
    expect(Date.parse(job.expires_at!)).toBeGreaterThanOrEqual(Math.floor(started / 1000) * 1000 + config.LINK_TTL_SECONDS * 1000);
    expect(Date.parse(job.expires_at!)).toBeLessThanOrEqual(Date.now() + config.LINK_TTL_SECONDS * 1000);

    // The download folder is gone; the archive sits in nginx's folder until it is downloaded.
    expect(existsSync(jobDir(config, id))).toBe(false);
    expect(archivesOf(config, id).length).toBe(1);

    const got = await fetchLink(job.link!);
    expect(got.status).toBe(200);
    expect(got.headers.get("content-type")).toBe("application/zip");
    expect(got.headers.get("content-disposition")).toBe(`attachment; filename="${id}.zip"`);
    const zip = entries(got.body);
    expect(Object.keys(zip).sort()).toEqual(photos().map((p) => p.name).sort());
    for (const p of photos()) expect(Buffer.from(zip[p.name]!).equals(Buffer.from(p.bytes))).toBe(true);
    expect((await unzipTest(got.body)).code).toBe(0);

    // Downloaded whole, the archive is burned.
    await until("the downloaded archive to be deleted", () => archivesOf(config, id).length === 0);

    // Nothing was written outside RUN_DIR: not in the repository, not in the temp folder.
    const ignored = (p: string) => /\/(\.git|node_modules|\.bench|docs)$/.test(p) || p.startsWith(config.RUN_DIR);
    expect(changedSince(ROOT, started, ignored)).toEqual([]);
    expect(changedSince(tmpdir(), started, (p) => ignored(p) || /linkpack-unzip-|bash_jobs|bash_tool/.test(p), 0)).toEqual([]);

    // Events of this job, in order: every file's download progress, compression 0..100, then the link.
    await all.sync();
    const mine = all.events.filter((e) => e.key.startsWith(`job.${id}.`)).map((e) => e.ev);
    await all.close();
    const firstCompress = mine.findIndex((e) => e.type === "compress");
    const lastFile = mine.map((e) => e.type).lastIndexOf("file");
    const link = mine.findIndex((e) => e.type === "link");
    expect(lastFile).toBeLessThan(firstCompress);
    expect(firstCompress).toBeLessThan(link);
    expect(link).toBe(mine.length - 1);
    for (let i = 0; i < 10; i++) expect(mine.some((e) => e.type === "file" && e.index === i && e.state === "done")).toBe(true);
    const percents = mine.filter((e) => e.type === "compress").map((e) => (e as { percent: number }).percent);
    expect(percents[0]).toBe(0);
    expect(percents.at(-1)).toBe(100);
    expect([...percents].sort((a, b) => a - b)).toEqual(percents);

    // The clock ticked meanwhile, its time moving forward (how regularly is a bench figure, not a test's).
    await until("three clock ticks", () => clock.events.length >= 3);
    const ticks = clock.events.map((e) => (e.ev as { epochMs: number }).epochMs);
    await clock.close();
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]!).toBeGreaterThan(ticks[i - 1]!);
  }, 120_000);

  test("JSON and form posts make the same archive", async () => {
    const { web, fixtures } = await useStack();
    const urlsJson = servePhotos(fixtures, "p-json");
    const idJson = await submit(web, urlsJson, "json");

    const urlsForm = servePhotos(fixtures, "p-form");
    const form = new URLSearchParams({ urls: urlsForm.join("\r\n") });
    const r = await fetch(`${web}/jobs`, { method: "POST", body: form, redirect: "manual" });
    expect(r.status).toBe(303);
    const idForm = r.headers.get("location")!.replace("/jobs/", "");

    for (const id of [idJson, idForm]) {
      const job = await waitFinal(web, id);
      expect(job.state).toBe("ready");
      const zip = entries((await fetchLink(job.link!)).body);
      expect(Object.keys(zip).length).toBe(10);
      for (const p of photos()) expect(Buffer.from(zip[p.name]!).equals(Buffer.from(p.bytes))).toBe(true);
    }
  }, 120_000);

  test("a big stored first file: the archive is made of the downloaded file in place, and the link serves it whole and checkable", async () => {
    const { web, fixtures, config } = await useStack();
    const video = new Uint8Array(randomBytes(IN_PLACE_MIN_BYTES + 12345));
    const [photo] = photos();
    const urls = [fixtures.route("/p-inplace/clip.mp4", video, "video/mp4"), fixtures.route(`/p-inplace/${photo!.name}`, photo!.bytes, photo!.type)];
    const log = followLog(config, "compressor");
    const id = await submit(web, urls);
    const job = await waitFinal(web, id);
    expect(job.state).toBe("ready");
    expect(await log.next(["archive ready", `jobId=${id}`, "inPlace=true"])).toBeTruthy();
    const got = await fetchLink(job.link!);
    expect(got.status).toBe(200);
    expect((await unzipTest(got.body)).code).toBe(0);
    const zip = allEntries(got.body);
    expect(Object.keys(zip)).toEqual(["clip.mp4", photo!.name, "MANIFEST.sha256"]);
    expect(Buffer.from(zip["clip.mp4"]!).equals(Buffer.from(video))).toBe(true);
    expect(new TextDecoder().decode(zip["MANIFEST.sha256"])).toContain(`${createHash("sha256").update(video).digest("hex")}  clip.mp4`);
    await until("the downloaded archive to be deleted", () => archivesOf(config, id).length === 0);
    expect(existsSync(jobDir(config, id))).toBe(false);
  }, 120_000);

  test("3 of 10 failing (404, refused, blocked) → ready with 7 entries and 3 errors", async () => {
    const { web, fixtures, closedPort } = await useStack();
    const urls = servePhotos(fixtures, "p-partial").slice(0, 7);
    urls.push(`${fixtures.origin}/p-partial/missing.jpg`); // 404
    urls.push(`http://127.0.0.1:${closedPort}/refused.jpg`); // allowed address, connection refused
    urls.push("http://169.254.169.254/latest/meta-data/"); // blocked (link-local)
    const id = await submit(web, urls);
    const job = await waitFinal(web, id);
    expect(job.state).toBe("ready");
    expect(job.files.filter((f) => f.state === "done").length).toBe(7);
    const failed = job.files.filter((f) => f.state === "failed");
    expect(failed.map((f) => f.index)).toEqual([7, 8, 9]);
    expect(failed[0]!.error).toContain("404");
    for (const f of failed) expect(f.error!.length).toBeGreaterThan(5);
    const zip = entries((await fetchLink(job.link!)).body);
    expect(Object.keys(zip).length).toBe(7);
  }, 120_000);

  test("a job whose every URL fails ends failed with a reason", async () => {
    const { web, fixtures } = await useStack();
    const id = await submit(web, [`${fixtures.origin}/p-none/a.jpg`, `${fixtures.origin}/p-none/b.jpg`]);
    const job = await waitFinal(web, id);
    expect(job.state).toBe("failed");
    expect(job.link).toBeNull();
    expect(job.error).toBeTruthy();
  }, 120_000);
});
