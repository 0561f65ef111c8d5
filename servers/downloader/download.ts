/**
 * @module download
 * Downloads one URL of a job into its folder: open (checked, redirects),
 * name, stream to a temp file of this download's own in `.tmp/`, rename to
 * `NNN-<download>-<safe name>` (also its own), the CRC-32 and SHA-256
 * computed on the way. Another downloader fetching the same URL at once
 * (its message was redelivered while this one was cut off, say) never
 * touches these files, and a resume only ever continues this download's
 * own temp file, after checking it still holds what was written. A failure that may pass (a 503, a reset, a
 * body cut short, a timeout) is tried again up to DOWNLOAD_RETRIES times
 * with a jittered exponential backoff (or the server's Retry-After, capped);
 * a retry after a cut-off asks for the rest with Range and If-Range (the
 * first answer's validator), and a server that ignores it gets a clean
 * restart. The whole download stays within DOWNLOAD_DEADLINE_MS. Returns
 * the outcome to record, "done" or "failed": a URL that cannot be fetched
 * is a failed file, not an error. Only shutdown and unexpected bugs throw.
 * Temp files of downloads that are over (a downloader was killed) are
 * removed when the URL is downloaded again.
 */
import { readdir, rename, rm, stat } from "node:fs/promises";
import type { Config } from "../shared/config.ts";
import { DownloadFailed, LinkpackError, RetryableDownload, TransientError } from "../shared/errors.ts";
import { dataFileName, isTmpOf, newDownloadId, tmpPath, type FileOutcome } from "../shared/jobfiles.ts";
import type { DownloadRequest } from "../shared/messages.ts";
import { formatLimit } from "../shared/bytes.ts";
import { CHECK_EVERY, checkBudget, commitWithin, fileLimit } from "./budget.ts";
import { openUrl } from "./fetcher.ts";
import { chooseName } from "./filename.ts";
import type { HostSlot } from "./hostlimit.ts";
import type { Metrics } from "../shared/metrics.ts";
import { FileProgress, type PublishEvent } from "./progress.ts";
import { diskFailure } from "./reasons.ts";
import { backoffMs } from "../shared/backoff.ts";
import { sleep } from "../shared/sleep.ts";
import type { Resolver } from "./ssrf.ts";
import { nothingWritten, saveBody, type Written } from "./transfer.ts";
import { seconds, Watchdog } from "./watchdog.ts";

export type DownloadConfig = Pick<
  Config,
  | "ALLOW_PRIVATE_URLS" | "MAX_REDIRECTS" | "CONNECT_TIMEOUT_MS" | "IDLE_TIMEOUT_MS" | "DOWNLOAD_DEADLINE_MS" | "PROGRESS_INTERVAL_MS"
  | "MAX_FILE_BYTES" | "MAX_JOB_BYTES" | "DOWNLOAD_RETRIES" | "DOWNLOAD_RETRY_BASE_MS" | "RETRY_AFTER_MAX_SECONDS"
>;

export interface DownloadDeps {
  config: DownloadConfig;
  resolver: Resolver;
  publish: PublishEvent;
  metrics?: Pick<Metrics, "retries" | "files" | "downloadedBytes">;
  /** extra trusted CA (tests) */
  ca?: string;
}

/** What attempts at one file share: this download's id and temp file and what is in it, and what the first answer said. */
interface FileSoFar {
  dl: string;
  tmp: string;
  written: Written;
  /** ETag (strong) or Last-Modified of the answer the bytes came from: what If-Range resumes with */
  validator: string | null;
  name: string | null;
  size: number | null;
}

const RANGE = /^bytes (\d+)-(\d+)\/(\d+)$/;

/** The link lifetime the job asked for, carried into its outcomes for the compressor. */
const ttlOf = (req: DownloadRequest) => (req.ttl ? { ttl: req.ttl } : {});

/** The outcome of a file that failed with `error` (after `bytes` of it, under `name` when known). */
export function failedOutcome(req: DownloadRequest, error: string, name: string | null = null, bytes = 0): FileOutcome {
  return { index: req.index, total: req.total, ...ttlOf(req), url: req.url, state: "failed", name, file: null, bytes, crc32: null, sha256: null, error };
}

/** The validator a resume may rely on: a strong ETag, else Last-Modified. */
function validatorOf(h: Headers): string | null {
  const etag = h.get("etag");
  if (etag && !etag.startsWith("W/")) return etag;
  return h.get("last-modified");
}

/** One attempt: a whole download, or the rest of one from where `f` stands. */
async function attempt(req: DownloadRequest, dir: string, deps: DownloadDeps, f: FileSoFar, progress: FileProgress, run: { signal: AbortSignal; slot?: HostSlot }): Promise<FileOutcome> {
  const c = deps.config;
  const watchdog = new Watchdog();
  watchdog.follow(run.signal);
  try {
    // Resume only what this download wrote, and only if its temp file still holds exactly that.
    const resume = f.written.bytes > 0 && f.validator !== null && (await sizeOf(f.tmp)) === f.written.bytes;
    if (!resume) f.written = nothingWritten();
    // What is left of the job's budget is read while the request goes out (the commit checks again).
    const limitNow = fileLimit(c, dir, req.index);
    limitNow.catch(() => {});
    const opened = await openUrl(req.url, {
      resolver: deps.resolver,
      allow: c.ALLOW_PRIVATE_URLS,
      maxRedirects: c.MAX_REDIRECTS,
      connectTimeoutMs: c.CONNECT_TIMEOUT_MS,
      watchdog,
      ca: deps.ca,
      slot: run.slot,
      maxRetryAfterMs: c.RETRY_AFTER_MAX_SECONDS * 1000,
      headers: resume ? { range: `bytes=${f.written.bytes}-`, "if-range": f.validator! } : undefined,
    });
    const res = opened.response;
    const h = res.headers;
    if (res.status === 206) {
      const m = RANGE.exec(h.get("content-range") ?? "");
      if (!resume || !m || Number(m[1]) !== f.written.bytes) {
        await res.body?.cancel().catch(() => {});
        f.validator = null; // it will not resume this file properly: start over next time
        throw new RetryableDownload("the server sent the wrong part of the file");
      }
      f.size = Number(m[3]);
    } else {
      f.written = nothingWritten(); // a whole answer: from the start (the server ignored Range, or none was asked)
      f.validator = validatorOf(h);
      f.size = opened.size;
      f.name = chooseName({ disposition: h.get("content-disposition"), url: opened.url, contentType: h.get("content-type"), index: req.index });
    }
    progress.name = f.name;
    progress.size = f.size;
    const limit = await limitNow;
    if (f.size !== null && f.size > limit.bytes) {
      await res.body?.cancel().catch(() => {});
      throw new DownloadFailed(`${limit.message} (${formatLimit(f.size)})`);
    }
    progress.begin(f.written.bytes);
    const w = await saveBody(res.body, f.tmp, {
      watchdog,
      idleTimeoutMs: c.IDLE_TIMEOUT_MS,
      declared: opened.size,
      limit,
      into: f.written,
      onProgress: (n) => progress.update(n),
      // Other files of this job may finish meanwhile: re-check the job's budget as we go.
      budget: { every: CHECK_EVERY, check: (n) => checkBudget(c, dir, req.index, n) },
    });
    // no "downloading" event with every byte: the file's final event ("done", all its bytes) follows in a moment
    const file = dataFileName(req.index, f.name!, f.dl);
    await commitWithin(c, dir, req.index, w.bytes, () => rename(f.tmp, `${dir}/${file}`).catch((err) => Promise.reject(diskFailure(err))));
    return { index: req.index, total: req.total, ...ttlOf(req), url: req.url, state: "done", name: f.name, file, bytes: w.bytes, crc32: w.crc32, sha256: w.sha256.digest("hex"), error: null };
  } finally {
    watchdog.dispose();
  }
}

const sizeOf = (path: string) => stat(path).then((st) => st.size, () => -1);

/**
 * Removes the temp files of URL `index` that nothing wrote to for
 * `deadlineMs`: a download that wrote last that long ago has passed its
 * deadline, so their downloads are over (their downloader died).
 */
async function clearDeadTemps(dir: string, index: number, deadlineMs: number, now = Date.now()): Promise<void> {
  for (const n of await readdir(`${dir}/.tmp`).catch(() => [] as string[])) {
    if (!isTmpOf(n, index)) continue;
    const st = await stat(`${dir}/.tmp/${n}`).catch(() => null);
    if (st && st.mtimeMs + deadlineMs < now) await rm(`${dir}/.tmp/${n}`, { force: true });
  }
}

/**
 * Downloads `req.url` into job folder `dir` (which exists) and returns its
 * outcome. `run.slot` is held for the host of each hop; `run.signal`
 * (shutdown) aborts the download with a TransientError.
 */
export async function downloadFile(req: DownloadRequest, dir: string, deps: DownloadDeps, run: { signal?: AbortSignal; slot?: HostSlot } = {}): Promise<FileOutcome> {
  const c = deps.config;
  const progress = new FileProgress(req, deps.publish, c.PROGRESS_INTERVAL_MS);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new DownloadFailed(`download took longer than ${seconds(c.DOWNLOAD_DEADLINE_MS)}`)), c.DOWNLOAD_DEADLINE_MS);
  const signal = run.signal ? AbortSignal.any([deadline.signal, run.signal]) : deadline.signal;
  // unique per download: a copy running at the same time (here or on another machine) never shares a file with it
  const dl = newDownloadId();
  const f: FileSoFar = { dl, tmp: tmpPath(dir, req.index, dl), written: nothingWritten(), validator: null, name: null, size: null };
  // beside the download: the temp files it removes are never this download's own
  const clearing = clearDeadTemps(dir, req.index, c.DOWNLOAD_DEADLINE_MS).catch(() => {});
  const attempts = c.DOWNLOAD_RETRIES + 1;
  let n = 1;
  let before: string | null = null; // the failure that made the last attempt a retry
  try {
    for (; ; n++) {
      try {
        return await attempt(req, dir, deps, f, progress, { signal, slot: run.slot });
      } catch (err) {
        if (!(err instanceof RetryableDownload) || n >= attempts || signal.aborted) throw err;
        before = err.message;
        const wait = backoffMs(n, c.DOWNLOAD_RETRY_BASE_MS, err.retryAfterMs);
        progress.retrying({ attempt: n + 1, attempts, at: Date.now() + wait, reason: err.message });
        deps.metrics?.retries.inc();
        await sleep(wait, signal);
        if (signal.aborted) {
          if (deadline.signal.aborted) throw deadline.signal.reason;
          throw run.signal?.reason instanceof LinkpackError ? run.signal.reason : new TransientError("shutting down between two attempts");
        }
      }
    }
  } catch (err) {
    await rm(f.tmp, { force: true }).catch(() => {});
    if (!(err instanceof DownloadFailed)) throw err;
    const error = n === 1 ? err.message : `${err.message} (after ${n} attempts${before && before !== err.message ? `; before that: ${before}` : ""})`;
    return failedOutcome(req, error, f.name, progress.bytes);
  } finally {
    progress.end();
    clearTimeout(timer);
    await clearing;
  }
}
