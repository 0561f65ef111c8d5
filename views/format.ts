/**
 * @module format
 * Human-readable numbers for the page and the terminal: sizes, speeds,
 * durations, clock times, percentages. Pure functions, no DOM.
 */
import { formatBytes } from "../servers/shared/bytes.ts";
import type { FileView, JobView } from "../servers/shared/jobstate.ts";

/** 1536 → "1.54 KB" (decimal units, like browsers' download lists; the one formatter is shared/bytes.ts). */
export const bytes = formatBytes;

/** A file waiting for another attempt: "retrying in 4 s (attempt 2 of 4): HTTP 503 Service Unavailable"; null otherwise. */
export function retryText(f: Pick<FileView, "state" | "retry">, now: number): string | null {
  const r = f.state === "downloading" ? f.retry : null;
  if (!r) return null;
  const s = Math.max(0, Math.ceil((r.at - now) / 1000));
  return `${s > 0 ? `retrying in ${s} s` : "retrying now"} (attempt ${r.attempt} of ${r.attempts}): ${r.reason}`;
}

/** Bytes per second → "2.4 MB/s". */
export function speed(bytesPerSecond: number): string {
  return `${bytes(bytesPerSecond)}/s`;
}

/** Milliseconds → "42s", "3m 07s", "1h 02m". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

/** Countdown text: "59:58", "1:02:03", "expired". */
export function countdown(ms: number): string {
  if (ms <= 0) return "expired";
  const s = Math.ceil(ms / 1000);
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(hh ? 2 : 1, "0");
  const ss = String(s % 60).padStart(2, "0");
  return hh ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** Epoch ms → "14:03:27 UTC". */
export function clockTime(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(11, 19)} UTC`;
}

/** The host[:port] of a URL, or "" if it does not parse. */
export function host(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "";
  }
}

/** The name to show for a file: the downloader's name, else the URL's last path segment. */
export function fileName(f: Pick<FileView, "name" | "url">): string {
  if (f.name) return f.name;
  try {
    const seg = new URL(f.url).pathname.split("/").filter(Boolean).pop();
    return seg ? decodeURIComponent(seg) : new URL(f.url).host;
  } catch {
    return f.url;
  }
}

/** How far one file is, 0..1 (a finished file, done or failed, counts as 1). */
export function fileFraction(f: FileView): number {
  if (f.state === "done" || f.state === "failed") return 1;
  if (f.total && f.total > 0) return Math.min(1, f.bytes / f.total);
  return 0;
}

/** Average download speed of a file in bytes/s, or null when it cannot be told yet. */
export function fileSpeed(f: FileView): number | null {
  if (f.started_at == null || f.updated_at == null) return null;
  const ms = f.updated_at - f.started_at;
  return ms >= 200 && f.bytes > 0 ? (f.bytes * 1000) / ms : null;
}

/** Download totals of a job for the overall bar. */
export function overall(job: JobView) {
  const done = job.files.filter((f) => f.state === "done").length;
  const failed = job.files.filter((f) => f.state === "failed").length;
  const got = job.files.reduce((a, f) => a + f.bytes, 0);
  const known = job.files.every((f) => f.total != null || f.state === "done" || f.state === "failed");
  const expected = job.files.reduce((a, f) => a + (f.state === "done" ? f.bytes : f.state === "failed" ? 0 : (f.total ?? 0)), 0);
  const fraction = job.files.length ? job.files.reduce((a, f) => a + fileFraction(f), 0) / job.files.length : 0;
  return { done, failed, count: job.files.length, got, expected: known ? expected : null, percent: Math.floor(fraction * 100) };
}

/** Time the job has taken, up to `now` (or its end). */
export function elapsed(job: JobView, now: number): number {
  const end = job.finished_at ?? now;
  return end - Date.parse(job.created_at);
}
