/**
 * @module watchdog
 * The timers of one download (time to headers, idle body, overall deadline)
 * behind one AbortSignal. When a timer fires it records why, as a
 * `DownloadFailed`, and aborts; the fetcher reports that reason instead of
 * the bare abort error. Shutdown aborts with a `TransientError` instead: the
 * file is not failed, its message goes back to the queue.
 */
import { DownloadFailed, LinkpackError, RetryableDownload, TransientError } from "../shared/errors.ts";

export class Watchdog {
  private readonly controller = new AbortController();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Why the download was aborted, once it was. */
  reason: LinkpackError | null = null;

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Fails the download with `message` unless `disarm(name)` or `refresh(name)` comes within `ms`; `retryable`: another attempt may do better. */
  arm(name: string, ms: number, message: string, retryable = false): void {
    this.disarm(name);
    this.timers.set(name, setTimeout(() => this.fail(retryable ? new RetryableDownload(message) : new DownloadFailed(message)), ms));
  }

  /** Restarts a running timer (cheap: called for every body chunk). */
  refresh(name: string): void {
    this.timers.get(name)?.refresh();
  }

  disarm(name: string): void {
    const t = this.timers.get(name);
    if (t) clearTimeout(t);
    this.timers.delete(name);
  }

  /** Aborts when `signal` does: with its reason if that is one of ours (an overall deadline, a cancelled job), else with a TransientError (shutdown). */
  follow(signal: AbortSignal | undefined): void {
    if (!signal) return;
    const stop = () => this.fail(signal.reason instanceof LinkpackError ? signal.reason : new TransientError("shutting down mid-download"));
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
  }

  /** Aborts with `err` as the reason (the first reason wins). */
  fail(err: LinkpackError): void {
    if (this.reason) return;
    this.reason = err;
    this.controller.abort(err);
  }

  /** Clears every timer. */
  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

/** "20 s" / "0.3 s" for messages. */
export const seconds = (ms: number) => `${ms % 1000 === 0 ? ms / 1000 : (ms / 1000).toFixed(1)} s`;
