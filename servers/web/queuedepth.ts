/**
 * @module queuedepth
 * Keeps new work out while the download queue is long (MAX_QUEUED_FILES).
 * The depth is asked of the broker at most once per `maxAgeMs`: one passive
 * declare serves every request in between, and concurrent askers share it.
 */
export interface QueueDepthOptions {
  /** most files that may wait in the queue */
  max: number;
  maxAgeMs?: number;
  now?: () => number;
}

export class QueueDepth {
  private known: { at: number; depth: number } | null = null;
  private asking: Promise<number> | null = null;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  /** `ask` returns the queue's depth (messages waiting). */
  constructor(
    private readonly ask: () => Promise<number>,
    private readonly opts: QueueDepthOptions,
  ) {
    this.maxAgeMs = opts.maxAgeMs ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  /** The depth, at most `maxAgeMs` old. Rejects when the broker cannot say. */
  async depth(): Promise<number> {
    if (this.known && this.now() - this.known.at < this.maxAgeMs) return this.known.depth;
    this.asking ??= this.ask()
      .then((depth) => (this.known = { at: this.now(), depth }).depth)
      .finally(() => (this.asking = null));
    return this.asking;
  }

  /** Whether a job of `files` more still fits. */
  async fits(files: number): Promise<boolean> {
    return (await this.depth()) + files <= this.opts.max;
  }
}
