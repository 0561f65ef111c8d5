/**
 * @module consumer
 * Consumes COMPRESS_QUEUE: one job at a time per job id, at most PREFETCH
 * jobs at once, acked only once the job is finished (recorded and
 * announced). A malformed request is dead-lettered; a failure is retried a
 * few times (requeued after a pause), then the job fails for good. On
 * shutdown an unfinished job is left unacked: the broker hands it back.
 */
import type { ConfirmChannel, ConsumeMessage } from "amqplib";
import { settle, type Broker } from "../shared/broker.ts";
import { MalformedMessage } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import { parseCompressRequest, type CompressRequest } from "../shared/messages.ts";
import type { InFlight } from "../shared/shutdown.ts";
import { COMPRESS_QUEUE } from "../shared/topology.ts";
import type { JobResult } from "./job.ts";

/** Jobs compressed at once: a small job need not wait behind a big one. */
export const PREFETCH = 2;
/** Attempts of one job in this process before it fails for good. */
export const MAX_ATTEMPTS = 3;

export interface ConsumerDeps {
  log: Logger;
  inflight: InFlight;
  /** aborted on shutdown: the running job stops and is left for redelivery */
  signal: AbortSignal;
  run(req: CompressRequest, signal: AbortSignal): Promise<JobResult>;
  fail(jobId: string, error: string): Promise<void>;
  retryDelayMs?: number;
}

export class CompressConsumer {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly attempts = new Map<string, number>();

  constructor(private readonly deps: ConsumerDeps) {}

  /** Starts consuming on a new channel (call from the broker's onChannel). */
  async attach(ch: ConfirmChannel, broker: Broker): Promise<void> {
    await ch.prefetch(PREFETCH);
    await broker.consume(ch, COMPRESS_QUEUE, (msg, c) => void this.receive(msg, c));
  }

  private async receive(msg: ConsumeMessage, ch: ConfirmChannel): Promise<void> {
    let req: CompressRequest;
    try {
      req = parseCompressRequest(msg.content);
    } catch (err) {
      if (!(err instanceof MalformedMessage)) throw err;
      this.deps.log.warn("malformed compress request; dead-lettered", { err: err.message });
      settle(ch, msg, "dead");
      return;
    }
    const jobId = req.jobId;
    // Two requests for one job (a retried POST, a redelivery) run one after the other; the second finds the record.
    const prev = this.chains.get(jobId) ?? Promise.resolve();
    const next = prev.then(() => this.deps.inflight.run(() => this.handle(req, msg, ch)));
    this.chains.set(jobId, next);
    await next;
    if (this.chains.get(jobId) === next) this.chains.delete(jobId);
  }

  private async handle(req: CompressRequest, msg: ConsumeMessage, ch: ConfirmChannel): Promise<void> {
    const { log, signal } = this.deps;
    const jobId = req.jobId;
    try {
      const result = await this.deps.run(req, signal);
      this.attempts.delete(jobId);
      settle(ch, msg, "ack");
      log.info("job done", { jobId, result });
    } catch (err) {
      if (signal.aborted) {
        log.info("shutting down; job left for redelivery", { jobId });
        return;
      }
      const n = (this.attempts.get(jobId) ?? 0) + 1;
      if (n < MAX_ATTEMPTS) {
        this.attempts.set(jobId, n);
        log.warn("job failed; will retry", { jobId, attempt: n, err });
        await Bun.sleep((this.deps.retryDelayMs ?? 1000) * n);
        settle(ch, msg, "requeue");
        return;
      }
      this.attempts.delete(jobId);
      log.error("job failed for good", { jobId, err });
      try {
        await this.deps.fail(jobId, "the archive could not be built");
        settle(ch, msg, "ack");
      } catch (err2) {
        log.error("could not record the failure; requeued", { jobId, err: err2 });
        settle(ch, msg, "requeue");
      }
    }
  }
}
