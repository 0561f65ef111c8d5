/**
 * @module wait
 * How a test waits for what another process does: `until` asks a probe
 * again and again until it answers, and gives up after a generous timeout
 * naming what it waited for. A test never sleeps for a while and then
 * looks; it waits for the sign that the thing happened.
 */

const POLL_MS = 50;

type Truthy<T> = Exclude<T, false | 0 | "" | null | undefined>;

/**
 * Calls `probe` every 50 ms until it returns a truthy value, and returns
 * that value. After `ms` it throws "timed out after … waiting for <what>";
 * `what` may be a function, to describe the last state seen. A probe that
 * throws ends the wait with its error.
 */
export async function until<T>(what: string | (() => string), probe: () => T | Promise<T>, ms = 30_000): Promise<Truthy<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v as Truthy<T>;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === "function" ? what() : what}`);
    await Bun.sleep(POLL_MS);
  }
}

/**
 * In-process only: resolves once every promise callback already queued
 * (and every one those queue) has run. No timer is involved, so what has
 * not happened by then will not happen without another event.
 */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
