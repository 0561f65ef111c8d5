/**
 * @module scheduler
 * A downloader's download slots, shared fairly between jobs. At most
 * `slots` files download at once, at most `perJob` of one job (so some slots
 * are always left for other jobs: a job of fifty slow URLs cannot make a
 * three-file job wait), and a file starts only when its first host has a
 * free slot. Files that cannot start wait in arrival order, skipping jobs
 * at their share; past `room` waiting files a new one is `Deferred` (it goes
 * back to the queue's tail), so the broker keeps handing over other jobs'
 * files instead of this process hoarding one job's.
 */
import { Deferred } from "../shared/consumer.ts";
import { LinkpackError, TransientError } from "../shared/errors.ts";
import { HostSlot, type HostLimit } from "./hostlimit.ts";

interface Waiter {
  job: string;
  host: string;
  start: () => void;
}

export interface SchedulerOptions {
  slots: number;
  perJob: number;
  /** most files waiting here for a slot */
  room: number;
  /** how long a deferred file stays out before going back to the queue */
  deferMs?: number;
}

export class Scheduler {
  private running = 0;
  private readonly perJob = new Map<string, number>();
  private readonly waiting: Waiter[] = [];

  constructor(
    private readonly o: SchedulerOptions,
    private readonly hosts: HostLimit,
  ) {
    hosts.onFree(() => this.pump());
  }

  /** Files downloading now, and waiting for a slot. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /**
   * Runs `fn` (with the download's host slot, holding `host`) once a slot is
   * free for job `job`. Throws `Deferred` if too many files wait already,
   * a `TransientError` if `signal` aborts while it waits.
   */
  async run<T>(job: string, host: string, fn: (slot: HostSlot) => Promise<T>, signal?: AbortSignal): Promise<T> {
    // Whenever a slot frees, every waiting file that could use it is started (pump), so a
    // file that can start now jumps no one.
    if (this.canStart(job, host)) this.take(job, host);
    else if (this.waiting.length >= this.o.room) throw new Deferred(this.o.deferMs ?? 250);
    else await this.wait(job, host, signal);
    const slot = new HostSlot(this.hosts);
    slot.adopt(host);
    try {
      return await fn(slot);
    } finally {
      slot.release();
      this.running--;
      const n = (this.perJob.get(job) ?? 1) - 1;
      if (n <= 0) this.perJob.delete(job);
      else this.perJob.set(job, n);
      this.pump();
    }
  }

  private canStart(job: string, host: string): boolean {
    return this.running < this.o.slots && (this.perJob.get(job) ?? 0) < this.o.perJob && this.hosts.free(host);
  }

  /** Takes a slot for `job` and the first host's slot (both known to be free). */
  private take(job: string, host: string): void {
    this.running++;
    this.perJob.set(job, (this.perJob.get(job) ?? 0) + 1);
    void this.hosts.enter(host);
  }

  private wait(job: string, host: string, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const w: Waiter = { job, host, start: resolve };
      this.waiting.push(w);
      signal?.addEventListener(
        "abort",
        () => {
          const i = this.waiting.indexOf(w);
          if (i < 0) return;
          this.waiting.splice(i, 1);
          reject(signal.reason instanceof LinkpackError ? signal.reason : new TransientError("shutting down before the download started"));
        },
        { once: true },
      );
    });
  }

  /** Starts waiting files, oldest first, as far as slots, shares and hosts allow. */
  private pump(): void {
    for (let i = 0; i < this.waiting.length && this.running < this.o.slots; ) {
      const w = this.waiting[i]!;
      if (!this.canStart(w.job, w.host)) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      this.take(w.job, w.host);
      w.start();
    }
  }
}
