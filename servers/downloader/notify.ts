/**
 * @module notify
 * Tells a compressor that a job has all of its files: `POST
 * <compressor>/jobs/<id>` with `{"total": <file count>}` and the internal
 * token, retried with backoff until one answers 2xx. With several
 * compressors (COMPRESSOR_URL's list) each attempt goes to the next one,
 * starting from a different one per job, so a dead compressor costs one
 * attempt, not the job. The compressor is idempotent, so two downloaders
 * (or a redelivery) posting the same job is fine; within one process, files
 * of a job that finish together share one request.
 */
import { TransientError } from "../shared/errors.ts";
import { TOKEN_HEADER } from "../shared/secrets.ts";
import { sleep } from "../shared/sleep.ts";
import type { Logger } from "../shared/log.ts";

export interface NotifyOptions {
  /** the compressors' origins, tried in turn */
  compressorUrls: string[];
  /** the internal token the compressor asks of its callers */
  token: string;
  log: Logger;
  /** per-attempt timeout */
  timeoutMs?: number;
  maxDelayMs?: number;
}

/** Resolves once the compressor accepted `jobId`; throws `TransientError` only when `signal` (shutdown) aborts first. */
async function notifyCompressor(jobId: string, total: number, o: NotifyOptions, signal?: AbortSignal): Promise<void> {
  const first = parseInt(jobId.slice(-4), 16) || 0;
  for (let attempt = 0; ; attempt++) {
    const url = `${o.compressorUrls[(first + attempt) % o.compressorUrls.length]}/jobs/${jobId}`;
    if (signal?.aborted) throw new TransientError("shutting down before the compressor accepted the job");
    let problem: string;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", [TOKEN_HEADER]: o.token },
        body: JSON.stringify({ total }),
        signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
        proxy: false,
      });
      await res.arrayBuffer().catch(() => {});
      if (res.ok) {
        o.log.info("compressor accepted job", { job: jobId, status: res.status, attempt, url });
        return;
      }
      problem = `HTTP ${res.status}`;
    } catch (err) {
      problem = String((err as { code?: string }).code ?? (err as Error).name ?? err);
    }
    const delay = Math.min(o.maxDelayMs ?? 5000, 200 * 2 ** attempt);
    (attempt < 3 ? o.log.info : o.log.warn)("compressor did not accept job; retrying", { job: jobId, url, problem, attempt, delay });
    await sleep(delay, signal);
  }
}

/** Hands jobs to the compressor; concurrent calls for the same job share one attempt. */
export class CompressorClient {
  private readonly pending = new Map<string, Promise<void>>();

  constructor(private readonly opts: NotifyOptions) {}

  /** Resolves once the compressor accepted `jobId` (see `notifyCompressor`). */
  notify(jobId: string, total: number, signal?: AbortSignal): Promise<void> {
    let p = this.pending.get(jobId);
    if (!p) {
      // said once per hand-over, however many of the job's files finish together
      this.opts.log.info("job has all its files; handing it to the compressor", { job: jobId, total });
      p = notifyCompressor(jobId, total, this.opts, signal).finally(() => this.pending.delete(jobId));
      this.pending.set(jobId, p);
    }
    return p;
  }
}
