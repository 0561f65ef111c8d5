/**
 * @module backoff
 * When to try again, for a download (download.ts) and for a message whose
 * handling failed (consumer.ts): a jittered exponential backoff (the n-th
 * retry waits about `base` × 2^(n-1), between half and all of it, so many
 * retries of one cause do not come back at the same instant), or what a
 * server asked for with Retry-After (already capped by the fetcher).
 */

/** Milliseconds to wait before retry number `n` (from 1). */
export function backoffMs(n: number, baseMs: number, retryAfterMs?: number, random = Math.random): number {
  if (retryAfterMs !== undefined) return retryAfterMs;
  const full = baseMs * 2 ** (n - 1);
  return Math.round(full / 2 + random() * (full / 2));
}
