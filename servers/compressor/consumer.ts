/**
 * @module consumer
 * What the compressor does with its queue (topology `queues(QUEUE_TYPE).compress`), for the consumer runtime
 * (shared/consumer.ts decides every ack and retry): each message is one job
 * to archive with `compressJob`, or to cancel with `cancelJob`, at most
 * PREFETCH at once (a small job need not wait behind a big one), two
 * requests for one job one after the other in this process (the second
 * finds it finished). A failure is retried with a backoff; after the last
 * attempt — counted in the message, so also across restarts — the job fails
 * for good with a reason.
 *
 * A job another compressor holds a live claim on (`JobBusy`) is handed back
 * for later, not counted as a failed attempt, rather than acked: the other
 * claim may be a dead compressor's whose lease has not run out yet, and
 * then this message (its redelivery) is the only copy left. When it comes
 * back the job is finished (nothing is sent again) or its claim has lapsed
 * (this compressor builds it).
 */
import { Deferred, type ConsumerSpec } from "../shared/consumer.ts";
import type { Logger } from "../shared/log.ts";
import { parseCompressRequest, type CompressRequest } from "../shared/messages.ts";
import type { WorkQueue } from "../shared/topology.ts";
import { JobBusy } from "./errors.ts";
import type { JobResult } from "./job.ts";

/** Jobs compressed at once. */
const PREFETCH = 4;
/** Attempts at one job before it fails for good. */
export const MAX_ATTEMPTS = 3;
/** Bounds of the wait before a busy job's request is tried again (about when the other claim's lease runs out). */
const BUSY_WAIT_MS = { min: 500, max: 10_000 };

export interface CompressDeps {
  queue: WorkQueue;
  log: Logger;
  run(req: CompressRequest, signal: AbortSignal): Promise<JobResult>;
  cancel(jobId: string): Promise<JobResult>;
  fail(jobId: string, error: string): Promise<void>;
}

export function compressConsumer(deps: CompressDeps): ConsumerSpec<CompressRequest> {
  return {
    queue: deps.queue,
    prefetch: PREFETCH,
    log: deps.log,
    parse: parseCompressRequest,
    handle: async (req, d) => {
      try {
        const result = req.cancel ? await deps.cancel(req.jobId) : await deps.run(req, d.signal);
        deps.log.info("job done", { jobId: req.jobId, result });
      } catch (err) {
        if (!(err instanceof JobBusy)) throw err;
        const wait = Math.min(BUSY_WAIT_MS.max, Math.max(BUSY_WAIT_MS.min, err.retryInMs));
        deps.log.info("another compressor is building the job; handing the request back", { jobId: req.jobId, owner: err.owner, waitMs: wait });
        throw new Deferred(wait);
      }
    },
    // JobBusy here (another compressor builds it): the message stays queued and gives up later, if still needed.
    giveUp: (req) => deps.fail(req.jobId, "the archive could not be built"),
    maxAttempts: MAX_ATTEMPTS,
    retryBaseMs: 1000,
    key: (req) => req.jobId,
    describe: (req) => ({ jobId: req.jobId }),
  };
}
