/**
 * @module consumer
 * What the downloader does with its download queue (topology `queues(QUEUE_TYPE).download`), for the consumer runtime
 * (shared/consumer.ts decides every ack and retry): each message is one URL
 * of a job, handled by `processFile`. A URL that cannot be fetched is a
 * failed file, not an error; an error (the disk, a bug) is retried with a
 * backoff, and after the last attempt the file is recorded as failed so
 * that its job still completes. Copies of the same file (a redelivery) are
 * handled one after another, never fetched twice at once.
 */
import type { ConsumerSpec } from "../shared/consumer.ts";
import { parseDownloadRequest, type DownloadRequest } from "../shared/messages.ts";
import type { WorkQueue } from "../shared/topology.ts";
import { failFile, processFile, type WorkerDeps } from "./worker.ts";

/** Attempts at one message before its file is recorded as failed. */
export const MAX_ATTEMPTS = 4;

export function downloadConsumer(deps: WorkerDeps & { prefetch: number; queue: WorkQueue }): ConsumerSpec<DownloadRequest> {
  return {
    queue: deps.queue,
    prefetch: deps.prefetch,
    log: deps.log,
    parse: parseDownloadRequest,
    handle: (req, d) => processFile(req, deps, d.signal, d.held).then(() => {}),
    giveUp: (req, err) => failFile(req, deps, `could not be saved after ${MAX_ATTEMPTS} attempts (${(err as Error)?.message ?? err})`),
    maxAttempts: MAX_ATTEMPTS,
    retryBaseMs: 2000,
    key: (req) => `${req.jobId}/${req.index}`,
    describe: (req) => ({ job: req.jobId, index: req.index }),
  };
}
