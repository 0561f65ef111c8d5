/**
 * @module hostlimit
 * At most `perHost` connections at once from this downloader to one host
 * name, counted for the host of every hop: a download holds the slot of the
 * host it is talking to now, and a redirect trades it for the next host's
 * (released first, so two hosts redirecting to each other cannot deadlock).
 * So fifty URLs of other sites that all redirect to one victim still reach
 * it `perHost` at a time.
 */
export class HostLimit {
  private readonly running = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();
  private readonly freed = new Set<() => void>();

  constructor(readonly perHost: number) {}

  /** Whether `host` has a free slot now. */
  free(host: string): boolean {
    return (this.running.get(host) ?? 0) < this.perHost && !this.waiting.get(host)?.length;
  }

  /** Connections to `host` now (for tests and logs). */
  active(host: string): number {
    return this.running.get(host) ?? 0;
  }

  /** Waits for a slot of `host` and takes it; if `signal` aborts first, rejects with its reason and takes nothing. */
  enter(host: string, signal?: AbortSignal): Promise<void> {
    if (this.free(host)) {
      this.running.set(host, (this.running.get(host) ?? 0) + 1);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const q = this.waiting.get(host) ?? [];
      const go = () => {
        signal?.removeEventListener("abort", cancel);
        resolve();
      };
      const cancel = () => {
        const i = q.indexOf(go);
        if (i >= 0) q.splice(i, 1);
        reject(signal!.reason);
      };
      q.push(go);
      this.waiting.set(host, q);
      signal?.addEventListener("abort", cancel, { once: true });
    });
  }

  /** Gives a slot of `host` back (straight to the next waiter, if any). */
  leave(host: string): void {
    const next = this.waiting.get(host)?.shift();
    if (next) return next();
    this.waiting.delete(host);
    const n = (this.running.get(host) ?? 1) - 1;
    if (n <= 0) this.running.delete(host);
    else this.running.set(host, n);
    for (const f of this.freed) f();
  }

  /** Calls `fn` whenever a host slot becomes free (the scheduler starts waiting work then). */
  onFree(fn: () => void): void {
    this.freed.add(fn);
  }
}

/** The host slot one download holds, moved from hop to hop. */
export class HostSlot {
  private host: string | null = null;

  constructor(private readonly limit: HostLimit) {}

  /** Takes over a slot of `host` already entered for this download. */
  adopt(host: string): void {
    this.release();
    this.host = host;
  }

  /** Holds the slot of `host` (leaving the previous hop's first); `signal` gives up waiting. */
  async hop(host: string, signal?: AbortSignal): Promise<void> {
    if (host === this.host) return;
    this.release();
    await this.limit.enter(host, signal);
    this.host = host;
  }

  release(): void {
    if (this.host !== null) this.limit.leave(this.host);
    this.host = null;
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
