/**
 * @module cached
 * A value asked of something slow (the broker, the file system) at most once
 * per `maxAgeMs`: one answer serves every request in between, concurrent
 * askers share one question, and a failed answer is not kept.
 */
export class Cached<T> {
  private known: { at: number; value: T } | null = null;
  private asking: Promise<T> | null = null;

  constructor(
    private readonly ask: () => Promise<T>,
    private readonly maxAgeMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The value, at most `maxAgeMs` old. Rejects when `ask` does. */
  get(): Promise<T> {
    if (this.known && this.now() - this.known.at < this.maxAgeMs) return Promise.resolve(this.known.value);
    this.asking ??= this.ask()
      .then((value) => (this.known = { at: this.now(), value }).value)
      .finally(() => (this.asking = null));
    return this.asking;
  }
}
