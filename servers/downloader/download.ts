/**
 * @module download
 * Downloads one URL of a job into its folder: open (checked, redirects),
 * name, stream to `.tmp/`, rename to `NNN-<safe name>`. Returns the outcome
 * to record, "done" or "failed": a URL that cannot be fetched is a failed
 * file, not an error. Only unexpected bugs throw.
 */
import { randomBytes } from "node:crypto";
import { rename, rm } from "node:fs/promises";
import type { Config } from "../shared/config.ts";
import { DownloadFailed } from "../shared/errors.ts";
import { dataFileName, readOutcomes, tmpPath, type FileOutcome } from "../shared/jobfiles.ts";
import type { DownloadRequest } from "../shared/messages.ts";
import { openUrl } from "./fetcher.ts";
import { chooseName } from "./filename.ts";
import { FileProgress, type PublishEvent } from "./progress.ts";
import { diskFailure, formatBytes } from "./reasons.ts";
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

/** Bytes of the job's other files already downloaded (for MAX_JOB_BYTES). */
async function jobBytes(dir: string, index: number): Promise<number> {
  return (await readOutcomes(dir)).reduce((n, o) => n + (o.state === "done" && o.index !== index ? o.bytes : 0), 0);
}

/** The per-file byte limit: the smaller of MAX_FILE_BYTES and what is left of MAX_JOB_BYTES. */
function limitFor(c: DownloadConfig, used: number): { bytes: number; message: string } {
  const left = Math.max(0, c.MAX_JOB_BYTES - used);
  return left < c.MAX_FILE_BYTES
    ? { bytes: left, message: `the job would exceed its limit of ${formatBytes(c.MAX_JOB_BYTES)}` }
    : { bytes: c.MAX_FILE_BYTES, message: `file is larger than the limit of ${formatBytes(c.MAX_FILE_BYTES)}` };
}

/** Downloads `req.url` into job folder `dir` (which exists) and returns its outcome. */
export async function downloadFile(req: DownloadRequest, dir: string, deps: DownloadDeps): Promise<FileOutcome> {
  const c = deps.config;
  const progress = new FileProgress(req, deps.publish, c.PROGRESS_INTERVAL_MS);
  const watchdog = new Watchdog();
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
    });
    const h = opened.response.headers;
    progress.name = chooseName({ disposition: h.get("content-disposition"), url: opened.url, contentType: h.get("content-type"), index: req.index });
    progress.size = opened.size;
    const limit = limitFor(c, await jobBytes(dir, req.index));
    if (opened.size !== null && opened.size > limit.bytes) {
      await opened.response.body?.cancel().catch(() => {});
      throw new DownloadFailed(`${limit.message} (${formatBytes(opened.size)})`);
    }
    progress.update(0, true);
    const saved = await saveBody(opened.response.body, tmp, {
      watchdog,
      idleTimeoutMs: c.IDLE_TIMEOUT_MS,
      declared: opened.size,
      limit,
      onProgress: (n) => progress.update(n),
    });
    progress.update(saved.bytes, true);
    const file = dataFileName(req.index, progress.name);
    try {
      await rename(tmp, `${dir}/${file}`);
    } catch (err) {
      throw diskFailure(err);
    }
    return { index: req.index, url: req.url, state: "done", name: progress.name, file, bytes: saved.bytes, crc32: saved.crc32, error: null };
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    if (!(err instanceof DownloadFailed)) throw err;
    return { index: req.index, url: req.url, state: "failed", name: progress.name, file: null, bytes: progress.bytes, crc32: null, error: err.message };
  } finally {
    watchdog.dispose();
  }
}
