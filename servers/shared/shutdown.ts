/**
 * @module shutdown
 * Graceful shutdown on SIGTERM/SIGINT: run every cleanup step in order (stop
 * intake, drain, close channel then connection), each even if an earlier one
 * failed, then exit. A second signal exits at once.
 */
import type { Logger } from "./log.ts";

type Step = [name: string, fn: () => unknown | Promise<unknown>];

export function onShutdown(log: Logger, steps: Step[], timeoutMs = 20_000): void {
  let stopping = false;
  const run = async (signal: string) => {
    if (stopping) {
      log.warn("second signal; exiting now", { signal });
      process.exit(1);
    }
    stopping = true;
    log.info("shutting down", { signal });
    const timer = setTimeout(() => {
      log.error("shutdown timed out; exiting");
      process.exit(1);
    }, timeoutMs);
    let failed = false;
    for (const [name, fn] of steps) {
      try {
        await fn();
      } catch (err) {
        failed = true;
        log.error("shutdown step failed", { step: name, err });
      }
    }
    clearTimeout(timer);
    log.info("stopped");
    process.exit(failed ? 1 : 0);
  };
  process.on("SIGTERM", () => void run("SIGTERM"));
  process.on("SIGINT", () => void run("SIGINT"));
}

/** Counts in-flight work so shutdown can wait for it to finish. */
export class InFlight {
  private n = 0;
  private idle: (() => void)[] = [];
  async run<T>(fn: () => Promise<T>): Promise<T> {
    this.n++;
    try {
      return await fn();
    } finally {
      if (--this.n === 0) for (const w of this.idle.splice(0)) w();
    }
  }
  get size(): number {
    return this.n;
  }
  /** Resolves when nothing is in flight, or after `ms`. */
  drain(ms: number): Promise<void> {
    if (this.n === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.idle.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
