/**
 * The per-message work against a local file server and a local stand-in for
 * the compressor's HTTP endpoint: outcome records as the commit point, one
 * hand-over as soon as the job is complete (final events noted as out once
 * confirmed), retries until the compressor accepts, no second download on
 * redelivery.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { until } from "../../test/support/wait.ts";
import { tmpdir } from "node:os";
import { newId } from "../shared/ids.ts";
import { createLogger } from "../shared/log.ts";
import { TransientError } from "../shared/errors.ts";
import { jobDir, readOutcome, readOutcomes } from "../shared/jobfiles.ts";
import type { DownloadRequest, FileEvent } from "../shared/messages.ts";
import { HostLimit } from "./hostlimit.ts";
import { Scheduler } from "./scheduler.ts";
import { CompressorClient } from "./notify.ts";
import { processFile, type WorkerDeps } from "./worker.ts";

const timeline: string[] = [];
const fileHits = new Map<string, number>();
let refuseNext = 0;
/** called on each refusal the compressor stand-in sends */
let onRefuse: (() => void) | null = null;
/**
 * The same file fetched twice at once, as a downloader cut off from the
 * network and its replacement do: each copy's bytes differ (copy 1, copy 2),
 * and copy 1 stalls after its first bytes until the test lets it go on.
 */
let releaseCopy1: () => void = () => {};
let copy1Gate = new Promise<void>((r) => (releaseCopy1 = r));
function raceResponse(n: number): Response {
  const body = new TextEncoder().encode(`copy ${n} `.repeat(20_000));
  return new Response(
    new ReadableStream<Uint8Array>({
      async start(c) {
        c.enqueue(body.subarray(0, 1000));
        if (n === 1) await copy1Gate;
        c.enqueue(body.subarray(1000));
        c.close();
      },
    }),
    { headers: { "content-length": String(body.length) } },
  );
}
const files = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req) {
    const path = new URL(req.url).pathname;
    fileHits.set(path, (fileHits.get(path) ?? 0) + 1);
    if (path.startsWith("/missing")) return new Response("no", { status: 404 });
    if (path.startsWith("/race/")) return raceResponse(fileHits.get(path)!);
    return new Response(`content of ${path}`, { headers: { "content-type": "text/plain" } });
  },
});
const compressor = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const id = new URL(req.url).pathname.split("/").pop()!;
    const body = await req.text();
    if (refuseNext > 0) {
      refuseNext--;
      timeline.push(`refused ${id}`);
      onRefuse?.();
      return new Response("not yet", { status: 503 });
    }
    timeline.push(`post ${id} ${body} ${req.headers.get("x-linkpack-token")}`);
    return Response.json({ state: "queued" }, { status: 202 });
  },
});
const root = mkdtempSync(`${tmpdir()}/dl-worker-`);
afterAll(() => {
  files.stop(true);
  compressor.stop(true);
  rmSync(root, { recursive: true, force: true });
});

const log = createLogger("downloader-test", "error");
/** jobs the compressor has finished (its records) */
const finishedJobs = new Set<string>();
const deps = (over: Partial<WorkerDeps["config"]> = {}): WorkerDeps => ({
  config: {
    ALLOW_PRIVATE_URLS: [`127.0.0.1:${files.port}`],
    MAX_REDIRECTS: 3,
    CONNECT_TIMEOUT_MS: 2000,
    IDLE_TIMEOUT_MS: 2000,
    DOWNLOAD_DEADLINE_MS: 5000,
    PROGRESS_INTERVAL_MS: 100,
    MAX_FILE_BYTES: 1_000_000,
    MAX_JOB_BYTES: 2_000_000,
    DOWNLOAD_RETRIES: 0,
    DOWNLOAD_RETRY_BASE_MS: 10,
    RETRY_AFTER_MAX_SECONDS: 1,
    DOWNLOADS_DIR: root,
    ...over,
  },
  log,
  finished: { has: async (jobId) => finishedJobs.has(jobId) },
  compressor: new CompressorClient({ compressorUrls: [`http://127.0.0.1:${compressor.port}`], token: "internal-test-token", log }),
  resolver: async () => [],
  scheduler: new Scheduler({ slots: 4, perJob: 4, room: 10 }, new HostLimit(2)),
  publish: async (ev: FileEvent, persistent) => void (persistent && timeline.push(`${ev.state} ${ev.jobId} ${ev.index}`)),
});

const request = (jobId: string, index: number, total: number, path = `/${jobId}/f${index}.txt`): DownloadRequest => ({
  v: 1,
  jobId,
  index,
  total,
  url: `http://127.0.0.1:${files.port}${path}`,
});

describe("processFile", () => {
  test("each file is recorded; the job goes to the compressor once complete, after every final event", async () => {
    timeline.length = 0;
    const job = newId();
    const d = deps();
    const first = await processFile(request(job, 0, 3), d);
    expect(first).toMatchObject({ state: "done", name: "f0.txt" });
    expect(first!.file).toMatch(/^000-.+-f0\.txt$/);
    await processFile(request(job, 2, 3, "/missing.txt"), d);
    expect(timeline).toEqual([`done ${job} 0`, `failed ${job} 2`]); // not complete: no hand-over yet
    refuseNext = 2; // the compressor is not ready twice: retried with backoff
    await processFile(request(job, 1, 3), d);
    expect(timeline).toEqual([`done ${job} 0`, `failed ${job} 2`, `done ${job} 1`, `refused ${job}`, `refused ${job}`, `post ${job} {"total":3} internal-test-token`]);
    const outcomes = await readOutcomes(jobDir(d.config, job));
    expect(outcomes.map((o) => [o.index, o.state, o.error])).toEqual([
      [0, "done", null],
      [1, "done", null],
      [2, "failed", "HTTP 404 Not Found"],
    ]);
    expect(readdirSync(`${jobDir(d.config, job)}/.tmp`)).toEqual([]);
    expect(readdirSync(`${jobDir(d.config, job)}/.done`).sort()).toEqual(["000.json", "000.sent", "001.json", "001.sent", "002.json", "002.sent"]);
    // a sent note is a second name of its outcome, not a file of its own (no inode to allocate, none to free)
    for (const i of ["000", "001", "002"]) expect(statSync(`${jobDir(d.config, job)}/.done/${i}.sent`).ino).toBe(statSync(`${jobDir(d.config, job)}/.done/${i}.json`).ino);
    // noting it again (a redelivery) is fine
    await processFile(request(job, 1, 3), d);
    expect(statSync(`${jobDir(d.config, job)}/.done/001.json`).nlink).toBe(2);
  });

  test("the job is handed over as soon as its last outcome is written, while final events are still being confirmed; each note comes after its confirm", async () => {
    timeline.length = 0;
    const job = newId();
    let letOut!: () => void;
    const slowConfirm = new Promise<void>((r) => (letOut = r));
    // file 0's final event waits for the broker's confirm while file 1 finishes
    const slow: WorkerDeps = { ...deps(), publish: async (ev, persistent) => void (persistent && (await slowConfirm, timeline.push(`${ev.state} ${ev.jobId} ${ev.index}`))) };
    const first = processFile(request(job, 0, 2), slow);
    await until("file 0's outcome to be written", () => readOutcome(jobDir(slow.config, job), 0));
    await processFile(request(job, 1, 2), deps());
    const post = `post ${job} {"total":2} internal-test-token`;
    expect(timeline).toEqual([`done ${job} 1`, post]); // every outcome is in: handed over, file 0's event still on its way
    expect(existsSync(`${jobDir(slow.config, job)}/.done/000.sent`)).toBe(false); // the compressor waits for this note
    letOut();
    await first;
    expect(timeline).toEqual([`done ${job} 1`, post, `done ${job} 0`]);
    expect(existsSync(`${jobDir(slow.config, job)}/.done/000.sent`)).toBe(true);
  });

  test("the last file hands the job over while its own final event is still being confirmed, once", async () => {
    timeline.length = 0;
    const job = newId();
    const d = deps();
    await processFile(request(job, 0, 2), d);
    let letOut!: () => void;
    const slowConfirm = new Promise<void>((r) => (letOut = r));
    const slow: WorkerDeps = { ...d, publish: async (ev, persistent) => void (persistent && (timeline.push(`${ev.state} ${ev.jobId} ${ev.index}`), await slowConfirm)) };
    const last = processFile(request(job, 1, 2), slow);
    const post = `post ${job} {"total":2} internal-test-token`;
    await until("the hand-over", () => timeline.includes(post));
    expect(timeline).toEqual([`done ${job} 0`, `done ${job} 1`, post]);
    expect(existsSync(`${jobDir(d.config, job)}/.done/001.sent`)).toBe(false);
    letOut();
    await last;
    expect(existsSync(`${jobDir(d.config, job)}/.done/001.sent`)).toBe(true);
    expect(timeline).toEqual([`done ${job} 0`, `done ${job} 1`, post]); // handed over once
  });

  test("a redelivered message whose outcome exists is not downloaded again, but its event and the hand-over are repeated", async () => {
    timeline.length = 0;
    const job = newId();
    const d = deps();
    const req = request(job, 0, 1);
    await processFile(req, d);
    const before = await readOutcome(jobDir(d.config, job), 0);
    await processFile(req, d);
    expect(fileHits.get(`/${job}/f0.txt`)).toBe(1);
    expect(await readOutcome(jobDir(d.config, job), 0)).toEqual(before);
    const post = `post ${job} {"total":1} internal-test-token`;
    expect(timeline).toEqual([`done ${job} 0`, post, `done ${job} 0`, post]);
  });

  test("a failure while the delivery is no longer held (cut off from the broker) is not recorded: the next downloader's verdict counts", async () => {
    const d = deps();
    const job = newId();
    const req = request(job, 0, 1, "/missing-cut.txt");
    const err = await processFile(req, d, undefined, async () => false).catch((e) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect(await readOutcome(jobDir(d.config, job), 0)).toBeNull();
    // the same failure seen by a downloader that holds its delivery is the file's outcome
    expect((await processFile(req, d, undefined, async () => true))!.state).toBe("failed");
    expect((await readOutcome(jobDir(d.config, job), 0))!.error).toContain("404");
    // a download that succeeds is recorded without asking
    const ok = await processFile(request(newId(), 0, 1), d, undefined, async () => Promise.reject(new Error("not asked")));
    expect(ok!.state).toBe("done");
  });

  test("a job folder that cannot be created is a TransientError (the message is requeued, nothing recorded)", async () => {
    const blocker = `${root}/not-a-folder`;
    writeFileSync(blocker, "x");
    const err = await processFile(request(newId(), 0, 1), deps({ DOWNLOADS_DIR: blocker })).catch((e) => e);
    expect(err).toBeInstanceOf(TransientError);
  });

  test("files of a job finishing together share one request to the compressor (and one log line saying so)", async () => {
    timeline.length = 0;
    const job = newId();
    const said: string[] = [];
    const spy = { ...log, info: (m: string) => void said.push(m) };
    const d = { ...deps(), compressor: new CompressorClient({ compressorUrls: [`http://127.0.0.1:${compressor.port}`], token: "internal-test-token", log: spy }) };
    refuseNext = 1; // keeps the first request pending (it retries after a pause) while the others finish
    await Promise.all([0, 1, 2].map((i) => processFile(request(job, i, 3), d)));
    const post = `post ${job} {"total":3} internal-test-token`;
    expect(timeline.filter((t) => t.startsWith("post") || t.startsWith("refused"))).toEqual([`refused ${job}`, post]);
    expect(timeline.at(-1)).toBe(post);
    expect(said.filter((m) => m.startsWith("job has all its files"))).toHaveLength(1);
  });

  test("shutdown stops the hand-over retries with a TransientError (the message stays unacked)", async () => {
    const job = newId();
    const ac = new AbortController();
    refuseNext = 1000;
    let refusals = 0;
    onRefuse = () => void (++refusals === 2 && ac.abort()); // shutting down while the hand-over is being retried
    const err = await processFile(request(job, 0, 1), deps(), ac.signal).catch((e) => e);
    refuseNext = 0;
    onRefuse = null;
    expect(err).toBeInstanceOf(TransientError);
    expect(await readOutcome(`${root}/${job}`, 0)).not.toBeNull(); // the outcome stays: the redelivery only hands over
  });

  test("two downloaders racing one file (one cut off, its message redelivered): the first outcome stands, with its own file; the late one's file goes", async () => {
    const job = newId();
    const path = `/race/${job}/f.txt`;
    const req = request(job, 0, 1, path);
    // two downloader processes: their own schedulers, the same folder
    const [cutOff, replacement] = [deps(), deps()];
    const late = processFile(req, cutOff);
    await until("the first copy to start", () => fileHits.get(path) === 1);
    const first = await processFile(req, replacement);
    releaseCopy1(); // the cut-off one gets through again and finishes late
    const second = await late;
    expect(second).toEqual(first);
    const dir = jobDir(cutOff.config, job);
    const data = readdirSync(dir).filter((n) => n.startsWith("000-"));
    expect(data).toEqual([first!.file!]);
    const bytes = readFileSync(`${dir}/${first!.file}`);
    expect(bytes.toString().startsWith("copy 2 ")).toBe(true);
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(first!.sha256!);
    expect(first!.bytes).toBe(bytes.length);
    expect(readdirSync(`${dir}/.tmp`)).toEqual([]);
    expect(await readOutcome(dir, 0)).toEqual(first);
  });

  test("a temp file of a dead download is removed when the file is fetched again; one still being written is left alone", async () => {
    const job = newId();
    const d = deps();
    const dir = jobDir(d.config, job);
    mkdirSync(`${dir}/.tmp`, { recursive: true });
    const dead = `${dir}/.tmp/000.999x0000000000.part`;
    const live = `${dir}/.tmp/000.998x1111111111.part`;
    writeFileSync(dead, "half of it, from a downloader that was killed");
    const past = (Date.now() - d.config.DOWNLOAD_DEADLINE_MS - 60_000) / 1000;
    utimesSync(dead, past, past);
    writeFileSync(live, "another downloader is writing this one");
    const out = await processFile(request(job, 0, 1), d);
    expect(out).toMatchObject({ state: "done", bytes: `content of /${job}/f0.txt`.length });
    expect(readFileSync(`${dir}/${out!.file}`, "utf8")).toBe(`content of /${job}/f0.txt`);
    expect(readdirSync(`${dir}/.tmp`)).toEqual(["000.998x1111111111.part"]);
  });

  test("a late message of a job the compressor has finished is dropped: nothing fetched, no folder made", async () => {
    const job = newId();
    finishedJobs.add(job);
    expect(await processFile(request(job, 0, 1), deps())).toBeNull();
    expect(fileHits.get(`/${job}/f0.txt`)).toBeUndefined();
    expect(readdirSync(root)).not.toContain(job);
  });
});
