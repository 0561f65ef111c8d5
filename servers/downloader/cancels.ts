/**
 * @module cancels
 * Jobs cancelled while this downloader works on them. The compressor
 * announces a cancelled job (`job.<id>.cancelled`); this downloader hears it
 * through an exclusive queue of its own and aborts every download of that
 * job it is running or holding, at once. Its messages still queued are
 * dropped by the finished-job check (the cancellation is recorded first).
 * A cancellation missed while the broker was away only costs the rest of a
 * download whose file is then thrown away.
 */
import type { ConfirmChannel } from "amqplib";
import type { Attachable } from "../shared/broker.ts";
import { LinkpackError } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import { parseProgressEvent } from "../shared/messages.ts";
import { PROGRESS_EXCHANGE, patterns } from "../shared/topology.ts";

/** A download stopped because its job was cancelled: its message is done with (acked), no outcome written. */
export class JobCancelled extends LinkpackError {
  override name = "JobCancelled";
}

export class Cancels implements Attachable {
  private readonly running = new Map<string, Set<AbortController>>();

  constructor(private readonly log: Logger) {}

  /** A signal aborted with `JobCancelled` if job `jobId` is cancelled; `release()` when the work is done. */
  watch(jobId: string): { signal: AbortSignal; release(): void } {
    const ac = new AbortController();
    const set = this.running.get(jobId) ?? new Set();
    set.add(ac);
    this.running.set(jobId, set);
    return {
      signal: ac.signal,
      release: () => {
        set.delete(ac);
        if (set.size === 0 && this.running.get(jobId) === set) this.running.delete(jobId);
      },
    };
  }

  /** Aborts the job's work here; returns how many downloads that was. */
  cancel(jobId: string): number {
    const set = this.running.get(jobId);
    if (!set) return 0;
    for (const ac of set) ac.abort(new JobCancelled(`job ${jobId} was cancelled`));
    return set.size;
  }

  async attach(ch: ConfirmChannel): Promise<void> {
    const { queue } = await ch.assertQueue("", { exclusive: true, autoDelete: true });
    await ch.bindQueue(queue, PROGRESS_EXCHANGE, patterns.cancelled);
    await ch.consume(
      queue,
      (m) => {
        if (!m) return;
        try {
          const ev = parseProgressEvent(m.content);
          if (ev.type !== "cancelled") return;
          const n = this.cancel(ev.jobId);
          if (n > 0) this.log.info("job cancelled: its downloads here stop", { job: ev.jobId, downloads: n });
        } catch (err) {
          this.log.warn("unreadable cancellation ignored", { err });
        }
      },
      { noAck: true },
    );
  }

  detach(): void {}
}
