/**
 * @module progress
 * The file events of one download. "downloading" events are throttled to
 * one per interval and are sent without waiting for the broker, so they
 * never slow the stream; the final "done"/"failed" event, built from the
 * outcome and published persistently (awaited) by the worker, says the last
 * byte count. The first "downloading" event goes out once the answer has
 * been coming for one interval (with its name and size, and the bytes so
 * far, even if none came meanwhile): a file that is done sooner, as most
 * small files are, sends only its final event, so a job of small files
 * costs the broker and the web server one event per file, not three. After
 * a retry the new attempt says so at once (it clears the retry note).
 */
import type { FileOutcome } from "../shared/jobfiles.ts";
import type { DownloadRequest, FileEvent, RetryNote } from "../shared/messages.ts";

/** Publishes one file event (to PROGRESS_EXCHANGE, `keys.file(jobId, index)`). */
export type PublishEvent = (ev: FileEvent, persistent: boolean) => Promise<void>;

const base = (req: DownloadRequest) => ({ v: 1 as const, type: "file" as const, jobId: req.jobId, index: req.index, total: req.total, url: req.url });

export class FileProgress {
  private lastAt = -Infinity;
  private lastBytes = -1;
  /** whether any event of this file went out */
  private said = false;
  private first: ReturnType<typeof setTimeout> | null = null;
  private over = false;
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
    if (this.over) return;
    this.said = true;
    this.lastAt = ev.at;
    this.lastBytes = ev.bytes;
    this.publish(ev, false).catch(() => {
      /* an intermediate event may be lost; the final one is awaited */
    });
  }

  private sendNow(): void {
    this.send({ ...base(this.req), name: this.name, state: "downloading", bytes: this.bytes, size: this.size, error: null, at: Date.now() });
  }

  /**
   * An attempt's answer came (name and size set), with `bytes` of the file
   * already in hand: the first attempt's event waits one interval (see the
   * module doc); a later one's goes out at once, as does every one without
   * an interval.
   */
  begin(bytes: number): void {
    this.bytes = bytes;
    if (this.said || this.intervalMs === 0) return this.sendNow();
    this.lastAt = Date.now(); // chunk updates wait one interval from here, like the first event
    this.first ??= setTimeout(() => this.said || this.sendNow(), this.intervalMs);
  }

  /** Records progress; sends a "downloading" event unless one went out (or the answer came) less than an interval ago. */
  update(bytes: number): void {
    this.bytes = bytes;
    const now = Date.now();
    if (now - this.lastAt < this.intervalMs || bytes === this.lastBytes) return;
    this.send({ ...base(this.req), name: this.name, state: "downloading", bytes, size: this.size, error: null, at: now });
  }

  /** The download is over: nothing more is sent (the worker sends the final event). */
  end(): void {
    this.over = true;
    if (this.first) clearTimeout(this.first);
  }
}

/** The final event of a file, from its outcome (with its SHA-256 when done, and when its download began if known). */
export function finalEvent(req: DownloadRequest, o: FileOutcome, started?: number): FileEvent {
  return {
    ...base(req),
    name: o.name,
    state: o.state,
    bytes: o.bytes,
    size: o.state === "done" ? o.bytes : null,
    error: o.error,
    at: Date.now(),
    sha256: o.sha256 ?? null,
    ...(started === undefined ? {} : { started }),
  };
}
