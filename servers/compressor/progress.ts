/**
 * @module progress
 * Compression progress of one job as percent of input bytes: 0 first, 100
 * last, at most one event per interval in between, never going back. Events
 * are published one after another (a chain), so they arrive in order. The
 * work does not wait for the first event's confirm (a broker round trip per
 * job): it is confirmed while the archive is written, and `finish` fails if
 * it never was. No event goes out before `ready` resolves true (the job's
 * files' final events are all out: job.ts), and none at all if it does not.
 */

/** An event that was not sent: `ready` said no. */
export class EventsHeldBack extends Error {
  override name = "EventsHeldBack";
  constructor() {
    super("the job's files' final events are not all out: nothing is published");
  }
}

export class Progress {
  private chain: Promise<void> = Promise.resolve();
  private started: Promise<void> = Promise.resolve();
  private last = -1;
  private lastAt = 0;

  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly ready: Promise<boolean>;

  /** `intervalMs`: least time between two events (100); `now`: the clock; `ready`: what the first event waits for (see the module doc). */
  constructor(
    private readonly total: number,
    private readonly publish: (percent: number) => Promise<void>,
    o: { intervalMs?: number; now?: () => number; ready?: Promise<boolean> } = {},
  ) {
    this.intervalMs = o.intervalMs ?? 100;
    this.now = o.now ?? Date.now;
    this.ready = o.ready ?? Promise.resolve(true);
  }

  /**
   * Queues `percent` after everything before it (and `then` right behind it,
   * without waiting for its confirm); a lost in-between event only logs
   * nothing and moves on.
   */
  private send(percent: number, then?: () => Promise<void>): Promise<void> {
    this.last = percent;
    this.lastAt = this.now();
    const sent = this.chain.then(async () => {
      if (!(await this.ready)) throw new EventsHeldBack();
      const own = this.publish(percent);
      return then ? Promise.all([own, then()]).then(() => {}) : own;
    });
    this.chain = sent.catch(() => {});
    return sent;
  }

  /** Queues 0, the first event, and returns at once; `finish` waits for its confirm. */
  start(): Promise<void> {
    this.started = this.send(0);
    this.started.catch(() => {}); // seen by finish
    return Promise.resolve();
  }

  /** Notes `done` bytes processed; publishes if the percent moved and the interval passed. Never 100 before `finish`. */
  update(done: number): void {
    const percent = Math.min(99, Math.floor((done * 100) / Math.max(1, this.total)));
    if (percent > this.last && this.now() - this.lastAt >= this.intervalMs) this.send(percent);
  }

  /**
   * Publishes 100 after everything before it, then `then` (the link event)
   * at once behind it on the same channel, so the two confirms are awaited
   * together; waits for them (and for 0: an unconfirmed first event fails here).
   */
  finish(then?: () => Promise<void>): Promise<void> {
    const last = this.send(100, then);
    return this.started.then(() => last);
  }

  /** Resolves once everything queued so far went out (or failed). */
  settled(): Promise<void> {
    return this.chain;
  }
}
