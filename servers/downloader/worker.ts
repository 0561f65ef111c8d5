/**
 * @module worker
 * The work behind one DownloadRequest, in the order that makes a crash at
 * any point safe:
 *   1. outcome already recorded (a redelivery)? skip the download;
 *   2. otherwise download and write the outcome record — the commit point;
 *      if another download of the same URL (another downloader, a copy of
 *      the message) recorded one first, that one stands and this file goes;
 *   3. publish the file's final event (persistent, confirmed) and note that it
 *      is out (`.done/NNN.sent`);
 *   4. if every URL of the job has its final event out, hand the job to the
 *      compressor: every file event of a job is out before any compression event.
 * When this resolves the message may be acked. A `TransientError` means
 * "not now": the message goes back to the queue.
 */
import { rm } from "node:fs/promises";
import type { Delivery } from "../shared/consumer.ts";
import { ensureJobDir, jobDir, markSent, outcomesCover, readOutcome, writeOutcome, type FileOutcome } from "../shared/jobfiles.ts";
import type { Config } from "../shared/config.ts";
import { TransientError } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import type { FinishedJobs } from "../shared/finishedjobs.ts";
import type { DownloadRequest } from "../shared/messages.ts";
import { downloadFile, failedOutcome, type DownloadDeps } from "./download.ts";
import { hostKey } from "./hostlimit.ts";
import type { Scheduler } from "./scheduler.ts";
import { JobCancelled, type Cancels } from "./cancels.ts";
import type { CompressorClient } from "./notify.ts";
import { finalEvent } from "./progress.ts";

export interface WorkerDeps extends DownloadDeps {
  config: DownloadDeps["config"] & Pick<Config, "DOWNLOADS_DIR">;
  log: Logger;
  /** the compressor's finished-job records (shared store), so a late message of a finished job is dropped */
  finished: Pick<FinishedJobs, "has">;
  scheduler: Pick<Scheduler, "run">;
  /** cancelled jobs (their downloads are aborted); absent in unit tests */
  cancels?: Pick<Cancels, "watch">;
  compressor: Pick<CompressorClient, "notify">;
}

async function disk<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new TransientError(`${what}: ${(err as { code?: string }).code ?? (err as Error).message}`);
  }
}

/**
 * Processes one request; resolves when the message can be acked. Resolves
 * null for a late redelivery of a job the compressor has already finished.
 * `signal` (shutdown) stops waiting for the compressor. `held` (the
 * delivery's, consumer.ts) is asked before a failure is recorded: a
 * downloader cut off from the network records none.
 */
export async function processFile(req: DownloadRequest, deps: WorkerDeps, signal?: AbortSignal, held?: Delivery["held"]): Promise<FileOutcome | null> {
  const dir = jobDir(deps.config, req.jobId);
  const log = deps.log;
  const [finished, recorded] = await Promise.all([deps.finished.has(req.jobId), readOutcome(dir, req.index)]);
  if (finished) {
    log.info("job already finished; dropping a late redelivery", { job: req.jobId, index: req.index });
    return null;
  }
  let outcome = recorded;
  let began: number | undefined; // when this download began (its slot was free), for the final event
  if (outcome) log.info("already downloaded (redelivery); not fetching again", { job: req.jobId, index: req.index, state: outcome.state });
  else {
    await disk("cannot create the job folder", () => ensureJobDir(dir));
    const started = Date.now();
    // A cancelled job's download stops at once: its message is done with, nothing is recorded.
    const cancel = deps.cancels?.watch(req.jobId);
    const stop = cancel ? (signal ? AbortSignal.any([signal, cancel.signal]) : cancel.signal) : signal;
    try {
      outcome = await deps.scheduler.run(req.jobId, hostKey(req.url), (slot) => ((began = Date.now()), downloadFile(req, dir, deps, { signal: stop, slot })), stop);
    } catch (err) {
      if (!(err instanceof JobCancelled)) throw err;
      log.info("job cancelled; dropping its download", { job: req.jobId, index: req.index });
      return null;
    } finally {
      cancel?.release();
    }
    // A failure seen while this machine was cut off may be the cut, not the URL: leave the file to the
    // downloader the broker gives its message to next (the first recorded outcome of a file stands).
    if (outcome.state === "failed" && held && !(await held()))
      throw new TransientError("the broker is out of reach; the failed download is not recorded, the file goes to another downloader");
    const mine = outcome;
    outcome = await disk("cannot record the outcome", () => writeOutcome(dir, mine));
    if (outcome !== mine) {
      log.info("another download of this file was recorded first; it stands", { job: req.jobId, index: req.index });
      if (mine.file) await rm(`${dir}/${mine.file}`, { force: true });
      await announce(req, outcome, deps, signal);
      return outcome;
    }
    deps.metrics?.files.inc({ state: outcome.state });
    if (outcome.state === "done") deps.metrics?.downloadedBytes.inc(outcome.bytes);
    const fields = { job: req.jobId, index: req.index, bytes: outcome.bytes, ms: Date.now() - started };
    if (outcome.state === "done") log.info("downloaded", { ...fields, name: outcome.name });
    else log.info("download failed", { ...fields, url: req.url.slice(0, 200), error: outcome.error });
  }
  await announce(req, outcome, deps, signal, began);
  return outcome;
}

/**
 * Publishes the file's final event and notes that it is out (once the
 * broker confirmed it). The file whose outcome completes the job (whichever
 * file, here or in another downloader) hands the job to the compressor at
 * once, while the final events are still being confirmed: the compressor
 * builds meanwhile but publishes nothing before every final event is noted
 * as out (jobfiles.ts `whenAllSent`), so no compression event comes before
 * a file's last event.
 */
async function announce(req: DownloadRequest, outcome: FileOutcome, deps: WorkerDeps, signal?: AbortSignal, began?: number): Promise<void> {
  const dir = jobDir(deps.config, req.jobId);
  const out = deps.publish(finalEvent(req, outcome, began), true);
  out.catch(() => {}); // awaited below, after the look at the job's outcomes
  const handed = (await outcomesCover(dir, req.total)) ? deps.compressor.notify(req.jobId, req.total, signal) : null;
  handed?.catch(() => {}); // awaited below, once this event is out
  await out;
  await disk("cannot note the file's final event", () => markSent(dir, req.index));
  await handed;
}

/** Records the file as failed with `error` (unless it has an outcome already), so its job can still complete. */
export async function failFile(req: DownloadRequest, deps: WorkerDeps, error: string): Promise<void> {
  const dir = jobDir(deps.config, req.jobId);
  let outcome = await readOutcome(dir, req.index);
  if (!outcome) {
    await ensureJobDir(dir);
    outcome = await writeOutcome(dir, failedOutcome(req, error));
  }
  await announce(req, outcome, deps);
}
