/**
 * @module progress
 * The file events of one download. "downloading" events are throttled to
 * one per interval (the first, once the answer's name and size are known,
 * always goes out) and are sent without waiting for the broker, so they
 * never slow the stream; the final "done"/"failed" event, built from the
 * outcome and published persistently (awaited) by the worker, says the
 * last byte count: a file whose body came within one interval has two
 * events, its first and its final one.
 */
import type { FileOutcome } from "../shared/jobfiles.ts";
import type { DownloadRequest, FileEvent, RetryNote } from "../shared/messages.ts";

/** Publishes one file event (to PROGRESS_EXCHANGE, `keys.file(jobId, index)`). */
export type PublishEvent = (ev: FileEvent, persistent: boolean) => Promise<void>;

const base = (req: DownloadRequest) => ({ v: 1 as const, type: "file" as const, jobId: req.jobId, index: req.index, total: req.total, url: req.url });

export class FileProgress {
  private lastAt = -Infinity;
  private lastBytes = -1;
  name: string | null = null;
  size: number | null = null;
  bytes = 0;

  constructor(
    private readonly req: DownloadRequest,
    private readonly publish: PublishEvent,
    private readonly intervalMs: number,
  ) {}

  /** Says the download failed in a way that may pass and is tried again at `retry.at` (sent at once). */
  retrying(retry: RetryNote): void {
    this.send({ ...base(this.req), name: this.name, state: "downloading", bytes: this.bytes, size: this.size, error: null, at: Date.now(), retry });
  }

  private send(ev: FileEvent): void {
    this.publish(ev, false).catch(() => {
      /* an intermediate event may be lost; the final one is awaited */
    });
  }

  /** Records progress; sends a "downloading" event unless one went out less than an interval ago (`force` skips that). */
  update(bytes: number, force = false): void {
    this.bytes = bytes;
    const now = Date.now();
    if (!force && now - this.lastAt < this.intervalMs) return;
    if (force && bytes === this.lastBytes) return;
    this.lastAt = now;
    this.lastBytes = bytes;
    this.send({ ...base(this.req), name: this.name, state: "downloading", bytes, size: this.size, error: null, at: now });
  }
}

/** The final event of a file, from its outcome (with its SHA-256 when done). */
export function finalEvent(req: DownloadRequest, o: FileOutcome): FileEvent {
  return {
    ...base(req),
    name: o.name,
    state: o.state,
    bytes: o.bytes,
    size: o.state === "done" ? o.bytes : null,
    error: o.error,
    at: Date.now(),
    sha256: o.sha256 ?? null,
  };
}
