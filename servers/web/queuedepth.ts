/**
 * @module queuedepth
 * Keeps new work out while the download queue is long (MAX_QUEUED_FILES).
 * The depth is asked of the broker (a passive declare) at most once per
 * `maxAgeMs` (cached.ts).
 */
import { Cached } from "./cached.ts";

export interface QueueDepthOptions {
  /** most files that may wait in the queue */
  max: number;
  maxAgeMs?: number;
  now?: () => number;
}

export class QueueDepth {
  private readonly cached: Cached<number>;

  /** `ask` returns the queue's depth (messages waiting). */
  constructor(
    ask: () => Promise<number>,
    private readonly opts: QueueDepthOptions,
  ) {
    this.cached = new Cached(ask, opts.maxAgeMs ?? 1000, opts.now ?? Date.now);
  }

  /** The depth, at most `maxAgeMs` old. Rejects when the broker cannot say. */
  depth(): Promise<number> {
    return this.cached.get();
  }

  /** Whether a job of `files` more still fits. */
  async fits(files: number): Promise<boolean> {
    return (await this.depth()) + files <= this.opts.max;
  }
}
