/**
 * @module progress
 * Compression progress of one job as percent of input bytes: 0 first, 100
 * last, at most one event per interval in between, never going back. Events
 * are published one after another (a chain), so they arrive in order.
 */

export class Progress {
  private chain: Promise<void> = Promise.resolve();
  private last = -1;
  private lastAt = 0;

  constructor(
    private readonly total: number,
    private readonly publish: (percent: number) => Promise<void>,
    private readonly intervalMs = 100,
    private readonly now: () => number = Date.now,
  ) {}

  /** Queues `percent` after everything before it; a lost in-between event only logs nothing and moves on. */
  private send(percent: number): Promise<void> {
    this.last = percent;
    this.lastAt = this.now();
    const sent = this.chain.then(() => this.publish(percent));
    this.chain = sent.catch(() => {});
    return sent;
  }

  /** Publishes 0 and waits for it. */
  start(): Promise<void> {
    return this.send(0);
  }

  /** Notes `done` bytes processed; publishes if the percent moved and the interval passed. Never 100 before `finish`. */
  update(done: number): void {
    const percent = Math.min(99, Math.floor((done * 100) / Math.max(1, this.total)));
    if (percent > this.last && this.now() - this.lastAt >= this.intervalMs) this.send(percent);
  }

  /** Publishes 100 after everything before it and waits for it. */
  finish(): Promise<void> {
    return this.send(100);
  }

  /** Resolves once everything queued so far went out (or failed). */
  settled(): Promise<void> {
    return this.chain;
  }
}
