/** compressJob against real folders and a recording publisher (the broker is tested through the stack). */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { crc32 } from "node:zlib";
import { unzipSync } from "fflate";
import { dataFileName, ensureJobDir, jobDir, markSent, writeOutcome } from "../shared/jobfiles.ts";
import { newId } from "../shared/ids.ts";
import { createLogger } from "../shared/log.ts";
import type { JobEvent } from "../shared/messages.ts";
import { archiveFolder, signature } from "../shared/link.ts";
import { until } from "../../test/support/wait.ts";
import { cancelJob, compressJob, failJob, type JobDeps } from "./job.ts";
import { publishArchive } from "./archive.ts";
import { ClaimLost, JobBusy } from "./errors.ts";
import { writeZipInPlace } from "./inplace.ts";
import { randomBytes } from "node:crypto";
import { compressConsumer } from "./consumer.ts";
import { Deferred } from "../shared/consumer.ts";
import { queues } from "../shared/topology.ts";
import { FinishedJobs, legacyRecordsDir } from "../shared/finishedjobs.ts";
import { openDb } from "../shared/db.ts";
import { CLAIM_LEASE_MS, Claims } from "./claims.ts";

const root = mkdtempSync(`${tmpdir()}/compressjob-`);
const db = await openDb(`${root}/state`, "compressor");
const records = await FinishedJobs.open(db, legacyRecordsDir(`${root}/state`));
const claims = await Claims.open(db);
const opened = [db];
afterAll(async () => {
  for (const d of opened) await d.close();
  rmSync(root, { recursive: true, force: true });
});

/**
 * Another compressor: its own store objects, events and claims, the same
 * folders and database. In one process they share the connection (SQLite's
 * lock would block this one thread); compressor processes, each with its
 * own connection, are raced below through compress-once.ts.
 */
async function compressor(name: string) {
  const own = db;
  const sent: { key: string; ev: JobEvent }[] = [];
  let gate: Promise<void> | null = null;
  const d: JobDeps = {
    config, secret, machine: name, log: createLogger(name, "error"),
    records: await FinishedJobs.open(own, legacyRecordsDir(`${root}/state`)),
    claims: await Claims.open(own),
    publish: async (key, ev) => {
      await gate;
      sent.push({ key, ev });
    },
  };
  return { deps: d, sent, hold: (p: Promise<void>) => void (gate = p) };
}

/** What the consumer runtime does with a busy job: hands it back and tries again later, until it is done. */
async function untilNotBusy(run: () => Promise<string>): Promise<{ result: string; busy: number }> {
  for (let busy = 0; ; busy++) {
    try {
      return { result: await run(), busy };
    } catch (err) {
      if (!(err instanceof JobBusy)) throw err;
      await Bun.sleep(5); // the runtime's Deferred wait, shortened
    }
  }
}
const config = { DOWNLOADS_DIR: `${root}/downloads`, ARCHIVES_DIR: `${root}/archives`, PUBLIC_URL: "http://127.0.0.1:9", LINK_TTL_SECONDS: 3600, MAX_LINK_TTL_SECONDS: 86400 };
const secret = "test-secret";
let events: { key: string; ev: JobEvent }[] = [];
let failPublish: ((ev: JobEvent) => boolean) | null = null;
const deps = (extra: Partial<JobDeps> = {}): JobDeps => ({
  config, secret, records, claims, machine: "test", log: createLogger("test", "error"),
  publish: async (key, ev) => {
    if (failPublish?.(ev)) throw new Error("broker gone");
    events.push({ key, ev });
  },
  ...extra,
});
beforeEach(() => {
  events = [];
  failPublish = null;
});

/** A job folder as the downloader leaves it (outcomes, each final event noted as out): files (name, bytes) or null for a failed URL. */
async function makeJob(files: ([string, Uint8Array] | null)[]): Promise<string> {
  const id = newId();
  const dir = jobDir(config, id);
  await ensureJobDir(dir);
  for (const [index, f] of files.entries()) {
    if (!f) {
      await writeOutcome(dir, { index, total: files.length, url: `http://x/${index}`, state: "failed", name: null, file: null, bytes: 0, crc32: null, error: "HTTP 404" });
      await markSent(dir, index);
      continue;
    }
    const fileName = dataFileName(index, f[0]);
    writeFileSync(`${dir}/${fileName}`, f[1]);
    await writeOutcome(dir, { index, total: files.length, url: `http://x/${f[0]}`, state: "done", name: f[0], file: fileName, bytes: f[1].length, crc32: crc32(f[1]), error: null });
    await markSent(dir, index);
  }
  return id;
}

const archivesOf = (id: string) => (readdirSync(config.ARCHIVES_DIR, { recursive: true }) as string[]).filter((p) => p.endsWith(`${id}.zip`));
const partialsOf = (id: string) => (existsSync(`${config.ARCHIVES_DIR}/.partial`) ? readdirSync(`${config.ARCHIVES_DIR}/.partial`) : []).filter((n) => n.startsWith(id));
const text = (s: string, n: number) => new TextEncoder().encode(s.repeat(n));

describe("compressJob", () => {
  test("builds one archive in its HMAC folder, signs the link, announces 0..100 then the link, removes the folder", async () => {
    const id = await makeJob([["cat.jpg", new Uint8Array([0xff, 0xd8, 1, 2, 3])], ["notes.txt", text("hello ", 5000)], null, ["cat.jpg", text("second cat", 10)]]);
    const before = Math.floor(Date.now() / 1000);
    expect(await compressJob(deps(), { jobId: id })).toBe("ready");
    const after = Math.floor(Date.now() / 1000);

    const folder = archiveFolder(secret, id);
    expect(folder).toMatch(/^[0-9a-f]{32}$/);
    expect(archivesOf(id)).toEqual([`${folder}/${id}.zip`]);
    const path = `${config.ARCHIVES_DIR}/${folder}/${id}.zip`;
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(statSync(`${config.ARCHIVES_DIR}/${folder}`).mode & 0o777).toBe(0o755);
    expect(readdirSync(`${config.ARCHIVES_DIR}/.partial`)).toEqual([]);
    expect(existsSync(jobDir(config, id))).toBe(false);

    const zip = unzipSync(new Uint8Array(await Bun.file(path).arrayBuffer()));
    // the files in order, then the archive's own: the manifest, and the list of failed URLs (one failed)
    expect(Object.keys(zip)).toEqual(["cat.jpg", "notes.txt", "cat (2).jpg", "MANIFEST.sha256", "FAILED.txt"]);
    expect(new TextDecoder().decode(zip["cat (2).jpg"])).toBe("second cat".repeat(10));

    const types = events.map((e) => e.ev.type);
    expect(types[0]).toBe("compress");
    expect(types.at(-1)).toBe("link");
    const percents = events.filter((e) => e.ev.type === "compress").map((e) => (e.ev as { percent: number }).percent);
    expect(percents[0]).toBe(0);
    expect(percents.at(-1)).toBe(100);
    const link = events.at(-1)!.ev as Extract<JobEvent, { type: "link" }>;
    expect(events.at(-1)!.key).toBe(`job.${id}.link`);
    expect(link).toMatchObject({ jobId: id, entries: 3, bytes: statSync(path).size });
    const u = new URL(link.link);
    const expires = Number(u.searchParams.get("expires"));
    expect(u.origin + u.pathname).toBe(`${config.PUBLIC_URL}/d/${folder}/${id}.zip`);
    expect(u.searchParams.get("md5")).toBe(signature(u.pathname, expires, secret));
    expect(Date.parse(link.expiresAt)).toBe(expires * 1000);
    // LINK_TTL_SECONDS from when the link was signed
    expect(expires).toBeGreaterThanOrEqual(before + config.LINK_TTL_SECONDS);
    expect(expires).toBeLessThanOrEqual(after + config.LINK_TTL_SECONDS);

    // Again (a duplicate request or a redelivery): nothing happens, no second archive.
    events = [];
    const mtime = statSync(path).mtimeMs;
    expect(await compressJob(deps(), { jobId: id })).toBe("already-finished");
    expect(events).toEqual([]);
    expect(archivesOf(id).length).toBe(1);
    expect(statSync(path).mtimeMs).toBe(mtime);
  });

  test("the link goes out with the job's folder off its name but not yet deleted (a big file's deletion is not waited for); nothing is left after", async () => {
    const id = await makeJob([["a.bin", crypto.getRandomValues(new Uint8Array(10_000))]]);
    const retired = `${config.DOWNLOADS_DIR}/.retired`;
    let atLink: { folder: boolean; files: string[] } | null = null;
    const d = deps();
    const publish = d.publish;
    d.publish = async (key, ev, persistent) => {
      if (ev.type === "link")
        atLink = { folder: existsSync(jobDir(config, id)), files: readdirSync(retired).filter((n) => n.startsWith(`${id}.`)).flatMap((n) => readdirSync(`${retired}/${n}`)) };
      return publish(key, ev, persistent);
    };
    expect(await compressJob(d, { jobId: id })).toBe("ready");
    expect(atLink!.folder).toBe(false);
    expect(atLink!.files).toContain(dataFileName(0, "a.bin"));
    expect(readdirSync(retired)).toEqual([]);
    expect(existsSync(jobDir(config, id))).toBe(false);
  });

  test("a crash after the record but before the link went out: the redo announces the same link, builds nothing", async () => {
    const id = await makeJob([["a.txt", text("a", 1000)]]);
    failPublish = (ev) => ev.type === "link";
    await expect(compressJob(deps(), { jobId: id })).rejects.toThrow("broker gone");
    const first = (await deps().records.get(id))!;
    expect(first.announced).toBe(false);
    failPublish = null;
    events = [];
    expect(await compressJob(deps(), { jobId: id })).toBe("already-finished");
    expect(events.map((e) => e.ev.type)).toEqual(["compress", "link"]);
    expect((events[1]!.ev as { link: string }).link).toBe(first.link!);
    expect((await deps().records.get(id))!.announced).toBe(true);
    expect(archivesOf(id).length).toBe(1);
    expect(existsSync(jobDir(config, id))).toBe(false);
  });

  test("a job whose files are not all accounted for is not built, whatever file count is claimed", async () => {
    const id = await makeJob([["a.txt", text("a", 10)], ["b.txt", text("b", 10)]]);
    await rm(`${jobDir(config, id)}/.done/001.json`);
    for (const total of [undefined, 1, 2, 3]) expect(await compressJob(deps(), { jobId: id, total })).toBe("incomplete");
    expect(events).toEqual([]);
    expect(archivesOf(id)).toEqual([]);
    expect(existsSync(jobDir(config, id))).toBe(true);
    expect(await deps().records.get(id)).toBeNull();
  });

  test("a job handed over before its last final event is confirmed is built meanwhile, but nothing is published, recorded or put in place until that event is noted as out", async () => {
    const id = await makeJob([["a.txt", text("a", 1000)], ["b.jpg", crypto.getRandomValues(new Uint8Array(100_000))]]);
    const dir = jobDir(config, id);
    await rm(`${dir}/.done/001.sent`); // file 1's final event is on its way (the downloader hands over as it goes out)
    const run = compressJob(deps(), { jobId: id });
    await until("the archive to be begun under its partial name", () => partialsOf(id).length === 1);
    expect(events).toEqual([]); // not even the 0 % of the archive
    expect(await deps().records.get(id)).toBeNull();
    expect(archivesOf(id)).toEqual([]);
    await markSent(dir, 1);
    expect(await run).toBe("ready");
    expect(events.map((e) => e.ev.type)).toEqual(["compress", "compress", "link"]);
    expect(archivesOf(id).length).toBe(1);
  });

  test("an outcome gone while the last final event is not out: nothing is kept, published or recorded (incomplete)", async () => {
    const id = await makeJob([["a.txt", text("a", 10)], ["b.txt", text("b", 10)]]);
    const dir = jobDir(config, id);
    await rm(`${dir}/.done/001.sent`);
    const run = compressJob(deps(), { jobId: id });
    await until("the archive to be begun under its partial name", () => partialsOf(id).length === 1);
    await rm(`${dir}/.done/001.json`);
    expect(await run).toBe("incomplete");
    expect(events).toEqual([]);
    expect(partialsOf(id)).toEqual([]);
    expect(archivesOf(id)).toEqual([]);
    expect(await deps().records.get(id)).toBeNull();
  });

  test("no file downloaded: the job fails with a clear message, nothing archived", async () => {
    const id = await makeJob([null, null]);
    expect(await compressJob(deps(), { jobId: id })).toBe("failed");
    expect(events.map((e) => [e.key, e.ev.type])).toEqual([[`job.${id}.failed`, "failed"]]);
    expect((events[0]!.ev as { error: string }).error).toBe("none of the 2 files could be downloaded");
    expect(archivesOf(id)).toEqual([]);
    expect(existsSync(jobDir(config, id))).toBe(false);
    expect((await deps().records.get(id))!.state).toBe("failed");
  });

  test("an archive past the zip32 limit fails the job (no zip64), nothing left behind", async () => {
    const id = await makeJob([["a.bin", crypto.getRandomValues(new Uint8Array(50_000))]]);
    expect(await compressJob(deps({ limit: 20_000 }), { jobId: id })).toBe("failed");
    expect((events.at(-1)!.ev as { error: string }).error).toMatch(/too big for one archive.*4 GiB/);
    expect(archivesOf(id)).toEqual([]);
    expect(readdirSync(`${config.ARCHIVES_DIR}/.partial`).filter((n) => n.startsWith(id))).toEqual([]);
  });

  test("failJob records and announces a failure once", async () => {
    const id = await makeJob([["a.txt", text("a", 10)]]);
    await failJob(deps(), id, "the archive could not be built");
    await failJob(deps(), id, "again");
    expect(events.map((e) => (e.ev as { error: string }).error)).toEqual(["the archive could not be built"]);
    expect(await compressJob(deps(), { jobId: id })).toBe("already-finished");
  });
});

describe("several compressors, one job", () => {
  const links = (sent: { ev: JobEvent }[]) => sent.filter((e) => e.ev.type === "link");

  test("two given the same job at once: one builds it, the other hands it back and later sends nothing; one archive, one link event", async () => {
    const id = await makeJob([["a.txt", text("a", 50_000)], ["b.txt", text("b", 50_000)]]);
    const [a, b] = [await compressor("machine-a"), await compressor("machine-b")];
    let open!: () => void;
    a.hold(new Promise<void>((r) => (open = r))); // a is mid-build (its first event waits) while b tries
    const first = compressJob(a.deps, { jobId: id });
    const err = await until("b to be refused", () => compressJob(b.deps, { jobId: id }).then(() => null, (e) => e));
    expect(err).toBeInstanceOf(JobBusy);
    expect((err as JobBusy).owner).toStartWith("machine-a.");
    open();
    expect(await first).toBe("ready");
    expect(await compressJob(b.deps, { jobId: id })).toBe("already-finished");
    expect(links(a.sent).length).toBe(1);
    expect(b.sent).toEqual([]);
    expect(archivesOf(id).length).toBe(1);
    expect(readdirSync(`${config.ARCHIVES_DIR}/.partial`).filter((n) => n.startsWith(id))).toEqual([]);
  });

  test("two compressor processes, each with its own connection, given the same job at once: one archive, one link event", async () => {
    const id = await makeJob([["a.txt", text("a", 300_000)], ["b.txt", crypto.getRandomValues(new Uint8Array(300_000))]]);
    const run = (machine: string) => {
      const p = Bun.spawn([process.execPath, `${import.meta.dir}/testdata/compress-once.ts`, root, id, machine], {
        stdout: "pipe", stderr: "pipe",
      });
      return Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]).then(([out, err, code]) => {
        if (code !== 0) throw new Error(`compress-once ${machine} exited ${code}: ${err}`);
        return out.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as { result?: string; busy?: number; key?: string; ev?: JobEvent });
      });
    };
    const [a, b] = await Promise.all([run("proc-a"), run("proc-b")]);
    const all = [...a, ...b];
    expect(all.filter((l) => l.result).map((l) => l.result).sort()).toEqual(["already-finished", "ready"]);
    expect(all.filter((l) => l.ev?.type === "link").length).toBe(1);
    expect(archivesOf(id).length).toBe(1);
    const zip = unzipSync(await Bun.file(`${config.ARCHIVES_DIR}/${archivesOf(id)[0]}`).bytes());
    expect(Object.keys(zip)).toEqual(["a.txt", "b.txt", "MANIFEST.sha256"]);
  }, 60_000);

  test("four at once, each retrying while busy: exactly one archive and one link event", async () => {
    const id = await makeJob([["a.txt", text("x", 200_000)]]);
    const cs = await Promise.all(["m1", "m2", "m3", "m4"].map(compressor));
    const results = await Promise.all(cs.map((c) => untilNotBusy(() => compressJob(c.deps, { jobId: id }))));
    expect(results.map((r) => r.result).sort()).toEqual(["already-finished", "already-finished", "already-finished", "ready"]);
    expect(cs.flatMap((c) => links(c.sent)).length).toBe(1);
    expect(cs.flatMap((c) => c.sent).filter((e) => e.ev.type === "compress" && (e.ev as { percent: number }).percent === 0).length).toBe(1);
    expect(archivesOf(id).length).toBe(1);
  });

  test("a compressor killed mid-archive: its claim lapses, the next one builds the job, its partial file goes; the dead one's late archive never replaces it", async () => {
    const id = await makeJob([["a.txt", text("a", 1000)]]);
    const dead = "machine-dead.4242.0123456789ab";
    // the dead compressor took the claim a lease ago and was writing its partial archive
    expect((await claims.take(id, dead, Date.now() - CLAIM_LEASE_MS - 1)).taken).toBe(true);
    const zombie = `${config.ARCHIVES_DIR}/.partial/${id}-${dead}.zip`;
    writeFileSync(zombie, "half an archive");
    const next = await compressor("machine-next");
    expect(await compressJob(next.deps, { jobId: id })).toBe("ready");
    expect(existsSync(zombie)).toBe(false);
    expect(links(next.sent).length).toBe(1);
    const [path] = archivesOf(id).map((p) => `${config.ARCHIVES_DIR}/${p}`);
    const bytes = await Bun.file(path!).bytes();
    // the "dead" one was only cut off: it finishes its archive late and tries to put it in place
    writeFileSync(zombie, "a zombie's archive");
    expect((await publishArchive(config, zombie, archiveFolder(secret, id), id)).existed).toBe(true);
    expect(await Bun.file(path!).bytes()).toEqual(bytes);
    expect(existsSync(zombie)).toBe(false);
  });

  test("after a crash on the same machine, the dead process's claim is taken over at once", async () => {
    const id = await makeJob([["a.txt", text("a", 10)]]);
    const gone = Bun.spawn([process.execPath, "-e", ""]);
    await gone.exited;
    expect((await claims.take(id, `test.${gone.pid}.0123456789ab`)).taken).toBe(true); // its lease has 30 s to run
    expect(await compressJob(deps(), { jobId: id })).toBe("ready");
  });

  test("a live claim of another compressor: nothing is built or sent; cancel and fail wait for it too", async () => {
    const id = await makeJob([["a.txt", text("a", 10)]]);
    expect((await claims.take(id, "machine-other.1.aaaaaaaaaaaa")).taken).toBe(true);
    await expect(compressJob(deps(), { jobId: id })).rejects.toBeInstanceOf(JobBusy);
    await expect(cancelJob(deps(), id)).rejects.toBeInstanceOf(JobBusy);
    await expect(failJob(deps(), id, "x")).rejects.toBeInstanceOf(JobBusy);
    expect(events).toEqual([]);
    expect(archivesOf(id)).toEqual([]);
    await claims.release(id, "machine-other.1.aaaaaaaaaaaa");
    expect(await compressJob(deps(), { jobId: id })).toBe("ready");
  });

  test("the consumer hands a busy job back uncounted (Deferred), to be tried about when the other claim lapses", async () => {
    const spec = compressConsumer({
      queue: queues("classic").compress,
      log: createLogger("test", "error"),
      run: async (req) => Promise.reject(new JobBusy(req.jobId, "other", 60_000)),
      cancel: async () => "cancelled",
      fail: async () => {},
    });
    const err = await spec.handle({ v: 1, jobId: newId() }, { attempt: 1, maxAttempts: 3, signal: new AbortController().signal, held: async () => true }).catch((e) => e);
    expect(err).toBeInstanceOf(Deferred);
    expect((err as Deferred).delayMs).toBeLessThanOrEqual(10_000);
  });
});

describe("an archive made of the job's first file in place", () => {
  const inPlace = () => deps({ inPlaceMinBytes: 100_000 });
  const video = () => new Uint8Array(randomBytes(300_000));
  const firstFile = (id: string) => {
    const dir = jobDir(config, id);
    return `${dir}/${readdirSync(dir).find((f) => f.startsWith("000-"))}`;
  };
  const archivePath = (id: string) => `${config.ARCHIVES_DIR}/${archivesOf(id)[0]}`;

  test("a big stored first file is the archive itself (the same file, linked into nginx's folder); the rest follows; nothing else is left", async () => {
    const a = video();
    const id = await makeJob([["clip.mp4", a], ["notes.txt", text("hello ", 5000)]]);
    const ino = statSync(firstFile(id)).ino;
    expect(await compressJob(inPlace(), { jobId: id })).toBe("ready");
    expect(archivesOf(id).length).toBe(1);
    const path = archivePath(id);
    expect(statSync(path).ino).toBe(ino);
    expect(statSync(path).nlink).toBe(1);
    expect(statSync(path).mode & 0o777).toBe(0o644);
    const zip = unzipSync(await Bun.file(path).bytes());
    expect(Object.keys(zip)).toEqual(["clip.mp4", "notes.txt", "MANIFEST.sha256"]);
    expect(Buffer.from(zip["clip.mp4"]!).equals(Buffer.from(a))).toBe(true);
    expect(readdirSync(`${config.ARCHIVES_DIR}/.partial`)).toEqual([]);
    expect(existsSync(jobDir(config, id))).toBe(false);
    const link = events.at(-1)!.ev as Extract<JobEvent, { type: "link" }>;
    expect(link).toMatchObject({ type: "link", entries: 2, bytes: statSync(path).size });
  });

  test("a compressible first file is deflated into a new archive, as before", async () => {
    const id = await makeJob([["big.txt", text("compressible ", 20_000)]]);
    const ino = statSync(firstFile(id)).ino;
    expect(await compressJob(inPlace(), { jobId: id })).toBe("ready");
    expect(statSync(archivePath(id)).ino).not.toBe(ino);
    expect(statSync(archivePath(id)).size).toBeLessThan(100_000);
  });

  test("an attempt stopped after making the file the archive, before putting it in place: the next puts the file back and builds the archive again", async () => {
    const a = video();
    const id = await makeJob([["clip.mp4", a]]);
    // what the stopped attempt left: the downloaded file, made an archive
    await writeZipInPlace({ name: "clip.mp4", path: firstFile(id), size: a.length, crc32: crc32(a) >>> 0 }, [], { guard: async () => {} });
    expect(statSync(firstFile(id)).size).toBeGreaterThan(a.length);
    expect(await compressJob(inPlace(), { jobId: id })).toBe("ready");
    const zip = unzipSync(await Bun.file(archivePath(id)).bytes());
    expect(Object.keys(zip)).toEqual(["clip.mp4", "MANIFEST.sha256"]);
    expect(Buffer.from(zip["clip.mp4"]!).equals(Buffer.from(a))).toBe(true);
  });

  test("an attempt stopped after putting the archive in place, before recording it: the next keeps that archive as it is and announces it", async () => {
    const a = video();
    const id = await makeJob([["clip.mp4", a]]);
    const path = firstFile(id);
    await writeZipInPlace({ name: "clip.mp4", path, size: a.length, crc32: crc32(a) >>> 0 }, [{ name: "MANIFEST.sha256", data: new Uint8Array([1]) }], { guard: async () => {} });
    const ino = statSync(path).ino;
    await publishArchive(config, path, archiveFolder(secret, id), id);
    expect(existsSync(path)).toBe(false);
    const before = await Bun.file(archivePath(id)).bytes();
    expect(await compressJob(inPlace(), { jobId: id })).toBe("ready");
    expect(statSync(archivePath(id)).ino).toBe(ino);
    expect(await Bun.file(archivePath(id)).bytes()).toEqual(before);
    expect(events.filter((e) => e.ev.type === "link").length).toBe(1);
    expect((events.at(-1)!.ev as Extract<JobEvent, { type: "link" }>).entries).toBe(1);
  });

  test("when the claim is another compressor's by then, the file is neither changed nor put in place", async () => {
    const a = video();
    const id = await makeJob([["clip.mp4", a]]);
    const path = firstFile(id);
    const stolen: Claims = Object.create(claims);
    stolen.renew = async () => false; // every renewal finds the job taken over
    await expect(compressJob({ ...inPlace(), claims: stolen }, { jobId: id })).rejects.toBeInstanceOf(ClaimLost);
    expect(Buffer.from(await Bun.file(path).bytes()).equals(Buffer.from(a))).toBe(true);
    expect(archivesOf(id)).toEqual([]);
  });
});
