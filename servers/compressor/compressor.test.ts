/**
 * The compressor through the real stack (broker, compressor, nginx, guard):
 * a job folder made by hand, POSTed like the downloader does, comes out as
 * events 0..100 then a link whose archive holds every file byte for byte.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { crc32 } from "node:zlib";
import { newId } from "../shared/ids.ts";
import { dataFileName, ensureJobDir, jobDir, markSent, readOutcomes, writeOutcome } from "../shared/jobfiles.ts";
import type { LinkEvent } from "../shared/messages.ts";
import { WORK_EXCHANGE, keys } from "../shared/topology.ts";
import { useStack } from "../../test/stack.ts";
import { publish } from "../../test/support/broker.ts";
import { followLog, waitForLog, watch } from "../../test/support/events.ts";
import { photos } from "../../test/support/fixtures.ts";
import { archivesOf, entries, fetchLink, unzipTest } from "../../test/support/jobs.ts";
import type { Config } from "../shared/config.ts";
import { internalToken, TOKEN_HEADER } from "../shared/secrets.ts";

const made: string[] = [];
afterAll(async () => {
  const { config } = await useStack();
  for (const id of made) if (existsSync(jobDir(config, id))) Bun.spawnSync(["rm", "-rf", jobDir(config, id)]);
});

/** A job folder as the downloader leaves it (outcomes, each final event noted as out); returns the job id. `null` = a URL that failed. */
async function makeJob(config: Config, files: ([string, Uint8Array] | null)[]): Promise<string> {
  const id = newId();
  made.push(id);
  const dir = jobDir(config, id);
  await ensureJobDir(dir);
  for (const [index, f] of files.entries()) {
    if (!f) {
      await writeOutcome(dir, { index, total: files.length, url: `http://example.test/${index}`, state: "failed", name: null, file: null, bytes: 0, crc32: null, error: "HTTP 404" });
      await markSent(dir, index);
      continue;
    }
    const file = dataFileName(index, f[0]);
    writeFileSync(`${dir}/${file}`, f[1]);
    await writeOutcome(dir, { index, total: files.length, url: `http://example.test/${f[0]}`, state: "done", name: f[0], file, bytes: f[1].length, crc32: crc32(f[1]), error: null });
    await markSent(dir, index);
  }
  return id;
}

const csv = (rows: number) => new TextEncoder().encode(Array.from({ length: rows }, (_, i) => `${i},row ${i % 97},${(i * 7919) % 10007}\n`).join(""));
/** POSTs a job the way the downloader does: its file count and the internal token. */
const post = (config: Config, id: string, total = 1, token = internalToken(config)) =>
  fetch(`${config.COMPRESSOR_URL[0]}/jobs/${id}`, { method: "POST", headers: { [TOKEN_HEADER]: token }, body: JSON.stringify({ total }) });

describe("compressor", () => {
  test("a finished job folder → 0..100, link; folder gone; the link's zip holds every file; a repeat POST is 200 and builds nothing", async () => {
    const { config } = await useStack();
    const pics = photos();
    const text = csv(200_000);
    const files: ([string, Uint8Array] | null)[] = [...pics.map((p) => [p.name, p.bytes] as [string, Uint8Array]), null, ["data.csv", text], [pics[0]!.name, text.subarray(0, 1000)]];
    const id = await makeJob(config, files);
    const w = await watch(config, keys.jobAll(id));
    try {
      const r = await post(config, id, files.length);
      expect(r.status).toBe(202);
      const link = (await w.next((e) => e.ev.type === "link", "the link")).ev as LinkEvent;
      await w.sync();
      const evs = w.events.map((e) => e.ev);
      expect(evs.at(-1)).toEqual(link);
      const percents = evs.filter((e) => e.type === "compress").map((e) => (e as { percent: number }).percent);
      expect(percents[0]).toBe(0);
      expect(percents.at(-1)).toBe(100);
      expect([...percents].sort((a, b) => a - b)).toEqual(percents);
      expect(link.entries).toBe(12);
      expect(link.link).toStartWith(`${config.PUBLIC_URL}/d/`);

      expect(existsSync(jobDir(config, id))).toBe(false);
      expect(archivesOf(config, id).length).toBe(1);

      const got = await fetchLink(link.link);
      expect(got.status).toBe(200);
      expect(got.body.length).toBe(link.bytes);
      expect(got.headers.get("content-type")).toBe("application/zip");
      expect(got.headers.get("content-disposition")).toBe(`attachment; filename="${id}.zip"`);
      const zip = entries(got.body);
      const dup = pics[0]!.name.replace(/(\.\w+)$/, " (2)$1");
      expect(Object.keys(zip)).toEqual([...pics.map((p) => p.name), "data.csv", dup]);
      for (const p of pics) expect(Buffer.from(zip[p.name]!).equals(Buffer.from(p.bytes))).toBe(true);
      expect(Buffer.from(zip["data.csv"]!).equals(Buffer.from(text))).toBe(true);
      expect(Buffer.from(zip[dup]!).equals(Buffer.from(text.subarray(0, 1000)))).toBe(true);
      expect(got.body.length).toBeLessThan(pics.reduce((n, p) => n + p.bytes.length, 0) + text.length / 2);
      const t = await unzipTest(got.body);
      expect(t.code, t.out).toBe(0);

      // Downloaded whole, the archive is burned; a repeat POST (a downloader retrying) finds the finished job: 200, nothing rebuilt.
      const n = w.events.length;
      const again = await post(config, id, files.length);
      expect([again.status, await again.json()]).toEqual([200, { state: "done" }]);
      // A request for the job sent after it, through the queue, finds it finished too: once the compressor says so, whatever
      // the POST might have set off for this job was handled before (the compressor takes one job's requests in turn).
      const log = followLog(config, "compressor");
      await publish(config, WORK_EXCHANGE, keys.compress(id), { v: 1, jobId: id, total: files.length }, { persistent: true });
      await log.next(["job done", `jobId=${id}`, "result=already-finished"]);
      await w.sync();
      expect(w.events.length).toBe(n);
      expect(archivesOf(config, id)).toEqual([]);
    } finally {
      await w.close();
    }
  }, 60_000);

  test("a job none of whose files downloaded fails with a clear message", async () => {
    const { config } = await useStack();
    const id = await makeJob(config, [null, null, null]);
    const w = await watch(config, keys.jobAll(id));
    try {
      expect((await post(config, id, 3)).status).toBe(202);
      const failed = (await w.next((e) => e.ev.type === "failed", "the failure")).ev;
      expect(failed).toMatchObject({ type: "failed", jobId: id, error: "none of the 3 files could be downloaded" });
      expect(existsSync(jobDir(config, id))).toBe(false);
      expect(archivesOf(config, id)).toEqual([]);
    } finally {
      await w.close();
    }
  }, 60_000);

  test("a POST with something else than a job id is 400", async () => {
    const { config } = await useStack();
    expect((await post(config, "nope")).status).toBe(400);
  }, 60_000);

  test("only holders of the internal token get in; a job missing a file is never built (409), however it is asked", async () => {
    const { config } = await useStack();
    const photo = photos()[0]!;
    const id = await makeJob(config, [[photo.name, photo.bytes], null]);
    // The outcome of the job's third URL is not there: the job is not complete.
    for (const o of await readOutcomes(jobDir(config, id))) {
      await rm(`${jobDir(config, id)}/.done/${String(o.index).padStart(3, "0")}.json`); // an outcome is never replaced: rewritten from scratch
      await writeOutcome(jobDir(config, id), { ...o, total: 3 });
    }
    for (const token of ["", "not-the-token"]) expect((await post(config, id, 3, token)).status).toBe(403);
    for (const total of [3, 2, 1]) {
      const r = await post(config, id, total);
      expect([total, r.status]).toEqual([total, 409]);
    }
    // A compress request on the queue (as a holder of broker credentials could send) is refused the same way.
    const w = await watch(config, keys.jobAll(id));
    try {
      await publish(config, WORK_EXCHANGE, keys.compress(id), { v: 1, jobId: id, total: 1 }, { persistent: true });
      await waitForLog(config, "compressor", ["not every file of the job is accounted for", id]);
      await w.sync();
      expect(w.events).toEqual([]);
      expect(archivesOf(config, id)).toEqual([]);
      expect(existsSync(jobDir(config, id))).toBe(true);
    } finally {
      await w.close();
    }
  }, 60_000);
});
