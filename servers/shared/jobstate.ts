/**
 * @module jobstate
 * The job's state as the API returns it (docs/API.md), and the pure function
 * that folds a progress event into it. The web server's store, the SSE bridge
 * and the page all use this one shape.
 */
import type { FileState, JobEvent, RetryNote } from "./messages.ts";

export type JobStatus = "queued" | "downloading" | "compressing" | "ready" | "failed" | "cancelled";

export interface FileView {
  index: number;
  url: string;
  name: string | null;
  state: FileState;
  bytes: number;
  total: number | null;
  error: string | null;
  /** epoch ms of the first and latest progress (for speed); not in the contract, extra */
  started_at: number | null;
  updated_at: number | null;
  /** while downloading: the next attempt after a failure that may pass, and when (epoch ms); else null */
  retry: RetryNote | null;
  /** SHA-256 of the downloaded file (hex), once done */
  sha256: string | null;
}

export interface JobView {
  id: string;
  state: JobStatus;
  created_at: string;
  files: FileView[];
  compress: { percent: number };
  link: string | null;
  expires_at: string | null;
  error: string | null;
  /** archive size in bytes once ready */
  archive_bytes: number | null;
  /** epoch ms when the job became ready or failed (extra, for the page's elapsed time) */
  finished_at?: number | null;
  /** the link's lifetime the job asked for, in seconds (absent: LINK_TTL_SECONDS) */
  link_ttl_seconds?: number;
}

/** A new job with every file queued. */
export function newJob(id: string, urls: string[], createdAt = new Date()): JobView {
  return {
    id,
    state: "queued",
    created_at: createdAt.toISOString(),
    files: urls.map((url, index) => ({ index, url, name: null, state: "queued", bytes: 0, total: null, error: null, started_at: null, updated_at: null, retry: null, sha256: null })),
    compress: { percent: 0 },
    link: null,
    expires_at: null,
    error: null,
    archive_bytes: null,
  };
}

const finalFile = (s: FileState) => s === "done" || s === "failed";
export const isFinal = (s: JobStatus) => s === "ready" || s === "failed" || s === "cancelled";

/**
 * Folds `ev` into `job` (returns a new object; `job` is not changed). Events
 * can arrive late or twice: a finished file or job never goes back.
 */
export function applyEvent(job: JobView, ev: JobEvent): JobView {
  if (ev.jobId !== job.id || isFinal(job.state)) return job;
  const next: JobView = { ...job, files: job.files, compress: { ...job.compress } };
  switch (ev.type) {
    case "file": {
      const f = job.files[ev.index];
      if (!f || finalFile(f.state)) return job;
      next.files = job.files.slice();
      next.files[ev.index] = {
        ...f,
        name: ev.name ?? f.name,
        state: ev.state,
        bytes: Math.max(f.bytes, ev.bytes),
        total: ev.size ?? f.total,
        error: ev.error,
        started_at: f.started_at ?? ev.started ?? ev.at,
        updated_at: ev.at,
        retry: ev.state === "downloading" ? (ev.retry ?? null) : null,
        sha256: ev.sha256 ?? f.sha256 ?? null,
      };
      if (next.state === "queued") next.state = "downloading";
      break;
    }
    case "compress":
      next.state = "compressing";
      next.compress.percent = Math.max(job.compress.percent, ev.percent);
      break;
    case "link":
      next.state = "ready";
      next.compress.percent = 100;
      next.link = ev.link;
      next.expires_at = ev.expiresAt;
      next.archive_bytes = ev.bytes;
      next.finished_at = ev.at;
      break;
    case "failed":
      next.state = "failed";
      next.error = ev.error;
      next.finished_at = ev.at;
      break;
    case "cancelled":
      next.state = "cancelled";
      next.error = "cancelled by its user";
      next.finished_at = ev.at;
      break;
  }
  return next;
}

