/**
 * @module hostlimit
 * At most `perHost` downloads at once from one host name, so one job full of
 * URLs from one server does not hammer it (the AMQP prefetch bounds the total).
 */
export class HostLimit {
  private readonly running = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(private readonly perHost: number) {}

  /** Runs `fn` once a slot for `host` is free. */
  async run<T>(host: string, fn: () => Promise<T>): Promise<T> {
    await this.acquire(host);
    try {
      return await fn();
    } finally {
      this.release(host);
    }
  }

  /** Downloads from `host` running now (for tests and logs). */
  active(host: string): number {
    return this.running.get(host) ?? 0;
  }

  private acquire(host: string): Promise<void> {
    const n = this.running.get(host) ?? 0;
    if (n < this.perHost) {
      this.running.set(host, n + 1);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const q = this.waiting.get(host) ?? [];
      q.push(resolve);
      this.waiting.set(host, q);
    });
  }

  private release(host: string): void {
    const next = this.waiting.get(host)?.shift();
    if (next) return next(); // the slot passes straight to the next waiter
    if (this.waiting.get(host)?.length === 0) this.waiting.delete(host);
    const n = (this.running.get(host) ?? 1) - 1;
    if (n <= 0) this.running.delete(host);
    else this.running.set(host, n);
  }
}

/** The key downloads are limited by: the URL's host name (lowercase), or "" for an unparsable URL. */
export function hostKey(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return "";
  }
}
