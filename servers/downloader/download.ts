/**
 * @module download
 * Downloads one URL of a job into its folder: open (checked, redirects),
 * name, stream to `.tmp/`, rename to `NNN-<safe name>`. Returns the outcome
 * to record, "done" or "failed": a URL that cannot be fetched is a failed
 * file, not an error. Only unexpected bugs throw.
 */
import { randomBytes } from "node:crypto";
import { readdir, rename, rm, stat } from "node:fs/promises";
import type { Config } from "../shared/config.ts";
import { DownloadFailed } from "../shared/errors.ts";
import { dataFileName, readOutcomes, tmpPath, type FileOutcome } from "../shared/jobfiles.ts";
import type { DownloadRequest } from "../shared/messages.ts";
import { openUrl } from "./fetcher.ts";
import { chooseName } from "./filename.ts";
import { FileProgress, type PublishEvent } from "./progress.ts";
import { diskFailure } from "./reasons.ts";
import { formatLimit } from "../shared/bytes.ts";
import type { HostSlot } from "./hostlimit.ts";
import type { Resolver } from "./ssrf.ts";
import { saveBody } from "./transfer.ts";
import { seconds, Watchdog } from "./watchdog.ts";

export type DownloadConfig = Pick<
  Config,
  "ALLOW_PRIVATE_URLS" | "MAX_REDIRECTS" | "CONNECT_TIMEOUT_MS" | "IDLE_TIMEOUT_MS" | "DOWNLOAD_DEADLINE_MS" | "PROGRESS_INTERVAL_MS" | "MAX_FILE_BYTES" | "MAX_JOB_BYTES"
>;

export interface DownloadDeps {
  config: DownloadConfig;
  resolver: Resolver;
  publish: PublishEvent;
  /** extra trusted CA (tests) */
  ca?: string;
}

/**
 * Bytes of the job's other files that are in (for MAX_JOB_BYTES): finished
 * outcomes, plus data files already renamed into place whose outcome is not
 * written yet. Read from the shared folder, so every downloader process sees it.
 */
async function jobBytes(dir: string, index: number): Promise<number> {
  const done = new Map<number, number>();
  for (const o of await readOutcomes(dir)) if (o.index !== index) done.set(o.index, o.state === "done" ? o.bytes : 0);
  let total = [...done.values()].reduce((a, b) => a + b, 0);
  for (const n of await readdir(dir).catch(() => [] as string[])) {
    const m = /^(\d{3})-/.exec(n);
    if (!m || Number(m[1]) === index || done.has(Number(m[1]))) continue;
    total += await stat(`${dir}/${n}`).then((st) => st.size, () => 0);
  }
  return total;
}

/** Runs `fn` alone among this process's commits to the same job folder. */
const commits = new Map<string, Promise<unknown>>();
async function commitAlone<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const prev = commits.get(dir) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => {});
  commits.set(dir, tail);
  try {
    return await run;
  } finally {
    if (commits.get(dir) === tail) commits.delete(dir);
  }
}

/** The per-file byte limit: the smaller of MAX_FILE_BYTES and what is left of MAX_JOB_BYTES. */
function limitFor(c: DownloadConfig, used: number): { bytes: number; message: string } {
  const left = Math.max(0, c.MAX_JOB_BYTES - used);
  return left < c.MAX_FILE_BYTES
    ? { bytes: left, message: `the job would exceed its limit of ${formatLimit(c.MAX_JOB_BYTES)}` }
    : { bytes: c.MAX_FILE_BYTES, message: `file is larger than the limit of ${formatLimit(c.MAX_FILE_BYTES)}` };
}

async function checkBudget(dir: string, index: number, bytes: number, c: DownloadConfig): Promise<void> {
  if ((await jobBytes(dir, index)) + bytes > c.MAX_JOB_BYTES) throw new DownloadFailed(`the job would exceed its limit of ${formatLimit(c.MAX_JOB_BYTES)}`);
}

/**
 * Downloads `req.url` into job folder `dir` (which exists) and returns its
 * outcome. `run.slot` is held for the host of each hop; `run.signal`
 * (shutdown) aborts the download with a TransientError.
 */
export async function downloadFile(req: DownloadRequest, dir: string, deps: DownloadDeps, run: { signal?: AbortSignal; slot?: HostSlot } = {}): Promise<FileOutcome> {
  const signal = run.signal;
  const c = deps.config;
  const progress = new FileProgress(req, deps.publish, c.PROGRESS_INTERVAL_MS);
  const watchdog = new Watchdog();
  watchdog.follow(signal);
  watchdog.arm("deadline", c.DOWNLOAD_DEADLINE_MS, `download took longer than ${seconds(c.DOWNLOAD_DEADLINE_MS)}`);
  // unique per attempt: a redelivered copy running at the same time never shares the temp file
  const tmp = `${tmpPath(dir, req.index)}.${randomBytes(4).toString("hex")}`;
  try {
    const opened = await openUrl(req.url, {
      resolver: deps.resolver,
      allow: c.ALLOW_PRIVATE_URLS,
      maxRedirects: c.MAX_REDIRECTS,
      connectTimeoutMs: c.CONNECT_TIMEOUT_MS,
      watchdog,
      ca: deps.ca,
      slot: run.slot,
    });
    const h = opened.response.headers;
    progress.name = chooseName({ disposition: h.get("content-disposition"), url: opened.url, contentType: h.get("content-type"), index: req.index });
    progress.size = opened.size;
    const limit = limitFor(c, await jobBytes(dir, req.index));
    if (opened.size !== null && opened.size > limit.bytes) {
      await opened.response.body?.cancel().catch(() => {});
      throw new DownloadFailed(`${limit.message} (${formatLimit(opened.size)})`);
    }
    progress.update(0, true);
    const saved = await saveBody(opened.response.body, tmp, {
      watchdog,
      idleTimeoutMs: c.IDLE_TIMEOUT_MS,
      declared: opened.size,
      limit,
      onProgress: (n) => progress.update(n),
      // Other files of this job may finish meanwhile: re-check the job's budget as we go.
      check: (n) => checkBudget(dir, req.index, n, c),
    });
    progress.update(saved.bytes, true);
    const file = dataFileName(req.index, progress.name);
    // The last check and the rename happen together, so two files of one job
    // finishing at once cannot both squeeze under MAX_JOB_BYTES.
    await commitAlone(dir, async () => {
      await checkBudget(dir, req.index, saved.bytes, c);
      try {
        await rename(tmp, `${dir}/${file}`);
      } catch (err) {
        throw diskFailure(err);
      }
    });
    return { index: req.index, total: req.total, url: req.url, state: "done", name: progress.name, file, bytes: saved.bytes, crc32: saved.crc32, error: null };
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    if (!(err instanceof DownloadFailed)) throw err;
    return { index: req.index, total: req.total, url: req.url, state: "failed", name: progress.name, file: null, bytes: progress.bytes, crc32: null, error: err.message };
  } finally {
    watchdog.dispose();
  }
}
