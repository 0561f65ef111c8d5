/**
 * @module messages
 * The typed, versioned JSON messages that travel through the broker, and the
 * schema checks consumers run before trusting one. A message that fails its
 * check is a `MalformedMessage` and is dead-lettered, never retried.
 */
import { isId } from "./ids.ts";
import { MalformedMessage } from "./errors.ts";

const VERSION = 1;

/** One URL of a job, for the downloaders; `ttl`: the link's lifetime the job asked for, in seconds. */
export interface DownloadRequest { v: 1; jobId: string; index: number; total: number; url: string; ttl?: number }
/**
 * For the compressor: a job whose files are all in (`total` is its file
 * count; absent in older requests), or, with `cancel`, a job its user
 * cancelled.
 */
export interface CompressRequest { v: 1; jobId: string; total?: number; cancel?: true }

export type FileState = "queued" | "downloading" | "done" | "failed";
/** A download that failed in a way that may pass, waiting to be tried again. */
export interface RetryNote { attempt: number; attempts: number; at: number; reason: string }
export interface FileEvent {
  v: 1; type: "file"; jobId: string; index: number; total: number; url: string;
  name: string | null; state: FileState; bytes: number; size: number | null; error: string | null; at: number;
  /** while state is "downloading": the next attempt, if one is waited for */
  retry?: RetryNote | null;
  /** SHA-256 of the file (hex), on its "done" event */
  sha256?: string | null;
  /** on a final event: when its download began (epoch ms), which a file done within one progress interval sent no event for */
  started?: number;
}
export interface CompressEvent { v: 1; type: "compress"; jobId: string; percent: number; at: number }
export interface LinkEvent { v: 1; type: "link"; jobId: string; link: string; expiresAt: string; bytes: number; entries: number; at: number }
export interface FailedEvent { v: 1; type: "failed"; jobId: string; error: string; at: number }
export interface CancelledEvent { v: 1; type: "cancelled"; jobId: string; at: number }
export interface ClockEvent { v: 1; type: "clock"; iso: string; epochMs: number }
export type JobEvent = FileEvent | CompressEvent | LinkEvent | FailedEvent | CancelledEvent;
export type ProgressEvent = JobEvent | ClockEvent;

/** Serialises a message for publishing. */
export function encode(msg: object): Buffer {
  return Buffer.from(JSON.stringify(msg));
}

function obj(buf: Buffer | string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(typeof buf === "string" ? buf : buf.toString("utf8"));
  } catch {
    throw new MalformedMessage("not JSON");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new MalformedMessage("not a JSON object");
  if (v && (v as { v?: unknown }).v !== VERSION) throw new MalformedMessage(`unsupported version ${JSON.stringify((v as { v?: unknown }).v)}`);
  return v as Record<string, unknown>;
}

const int = (o: Record<string, unknown>, k: string, min = 0) => {
  const x = o[k];
  if (typeof x !== "number" || !Number.isSafeInteger(x) || x < min) throw new MalformedMessage(`field ${k} must be an integer >= ${min}`);
  return x;
};
const str = (o: Record<string, unknown>, k: string) => {
  const x = o[k];
  if (typeof x !== "string") throw new MalformedMessage(`field ${k} must be a string`);
  return x;
};
const jobId = (o: Record<string, unknown>) => {
  if (!isId(o.jobId)) throw new MalformedMessage("field jobId must be a job id");
  return o.jobId;
};

function retryNote(x: unknown): RetryNote {
  if (typeof x !== "object" || x === null) throw new MalformedMessage("field retry must be an object");
  const r = x as Record<string, unknown>;
  return { attempt: int(r, "attempt", 1), attempts: int(r, "attempts", 1), at: int(r, "at"), reason: str(r, "reason") };
}

const sha256 = (o: Record<string, unknown>) => {
  const x = str(o, "sha256");
  if (!/^[0-9a-f]{64}$/.test(x)) throw new MalformedMessage("field sha256 must be 64 hex characters");
  return x;
};

export function parseDownloadRequest(buf: Buffer | string): DownloadRequest {
  const o = obj(buf);
  const total = int(o, "total", 1);
  const index = int(o, "index");
  if (index >= total) throw new MalformedMessage("index must be below total");
  const url = str(o, "url");
  if (url.length > 4096) throw new MalformedMessage("url too long");
  return { v: 1, jobId: jobId(o), index, total, url, ...(o.ttl === undefined ? {} : { ttl: int(o, "ttl", 1) }) };
}

export function parseCompressRequest(buf: Buffer | string): CompressRequest {
  const o = obj(buf);
  if (o.cancel !== undefined && o.cancel !== true) throw new MalformedMessage("field cancel must be true when present");
  return { v: 1, jobId: jobId(o), ...(o.total === undefined ? {} : { total: int(o, "total", 1) }), ...(o.cancel ? { cancel: true as const } : {}) };
}

/** Checks a progress event (job or clock) enough for the store and the page to rely on it. */
export function parseProgressEvent(buf: Buffer | string): ProgressEvent {
  const o = obj(buf);
  switch (o.type) {
    case "clock":
      return { v: 1, type: "clock", iso: str(o, "iso"), epochMs: int(o, "epochMs") };
    case "file": {
      const state = o.state;
      if (state !== "queued" && state !== "downloading" && state !== "done" && state !== "failed") throw new MalformedMessage("bad file state");
      return {
        v: 1, type: "file", jobId: jobId(o), index: int(o, "index"), total: int(o, "total", 1), url: str(o, "url"),
        name: o.name == null ? null : str(o, "name"), state, bytes: int(o, "bytes"),
        size: o.size == null ? null : int(o, "size"), error: o.error == null ? null : str(o, "error"), at: int(o, "at"),
        retry: o.retry == null ? null : retryNote(o.retry), sha256: o.sha256 == null ? null : sha256(o),
        ...(o.started == null ? {} : { started: int(o, "started") }),
      };
    }
    case "compress":
      return { v: 1, type: "compress", jobId: jobId(o), percent: Math.min(100, int(o, "percent")), at: int(o, "at") };
    case "link":
      return { v: 1, type: "link", jobId: jobId(o), link: str(o, "link"), expiresAt: str(o, "expiresAt"), bytes: int(o, "bytes"), entries: int(o, "entries"), at: int(o, "at") };
    case "failed":
      return { v: 1, type: "failed", jobId: jobId(o), error: str(o, "error"), at: int(o, "at") };
    case "cancelled":
      return { v: 1, type: "cancelled", jobId: jobId(o), at: int(o, "at") };
    default:
      throw new MalformedMessage("unknown event type");
  }
}
