/**
 * @module merge
 * The SSE bridge's view of a job is fed from two sides: live STOMP events
 * (fast, but lost while the broker connection is down) and the job store
 * (fed from a durable queue, so it always catches up). `mergeJob` folds a
 * store view into the bridge's view without ever going back; `changedParts`
 * says which parts of the page two views differ in.
 */
import { isFinal, type FileView, type JobView } from "../shared/jobstate.ts";
import { partName } from "../../views/parts.ts";

const fileRank: Record<FileView["state"], number> = { queued: 0, downloading: 1, done: 2, failed: 2 };
const jobRank: Record<JobView["state"], number> = { queued: 0, downloading: 1, compressing: 2, ready: 3, failed: 3, cancelled: 3 };

function ahead(b: FileView, a: FileView): boolean {
  const rb = fileRank[b.state], ra = fileRank[a.state];
  if (ra === 2) return false;
  return rb > ra || (rb === ra && b.bytes > a.bytes);
}

/** `a` moved forward by whatever `b` knows more of; `a` itself (same object) when `b` adds nothing. */
export function mergeJob(a: JobView, b: JobView): JobView {
  if (a.id !== b.id || isFinal(a.state)) return a;
  const files = a.files.map((fa, i) => {
    const fb = b.files[i];
    return fb && ahead(fb, fa) ? fb : fa;
  });
  const filesChanged = files.some((f, i) => f !== a.files[i]);
  const state = jobRank[b.state] > jobRank[a.state] ? b.state : a.state;
  const compress = b.compress.percent > a.compress.percent ? b.compress : a.compress;
  if (!filesChanged && state === a.state && compress === a.compress) return a;
  const end = isFinal(b.state)
    ? { link: b.link, expires_at: b.expires_at, error: b.error, archive_bytes: b.archive_bytes, finished_at: b.finished_at ?? null }
    : {};
  return { ...a, ...end, state, files: filesChanged ? files : a.files, compress };
}

// What the compression bar and the result box depend on (queued and downloading look the same there).
const early = (j: JobView) => j.state === "queued" || j.state === "downloading";
const compressKey = (j: JobView) => `${early(j) ? "early" : j.state}:${j.compress.percent}`;
const resultKey = (j: JobView) => `${isFinal(j.state) ? j.state : "running"}:${j.link}:${j.error}:${j.expires_at}`;

/** Names of the page parts (`partName`) that render differently for `next` than for `prev`. */
export function changedParts(prev: JobView, next: JobView): string[] {
  if (prev === next) return [];
  const out = new Set<string>();
  next.files.forEach((f, i) => {
    if (f !== prev.files[i]) out.add(partName.file(i));
  });
  if (out.size || prev.state !== next.state) out.add(partName.overall);
  if (compressKey(prev) !== compressKey(next)) out.add(partName.compress);
  if (resultKey(prev) !== resultKey(next)) out.add(partName.link);
  if (prev.finished_at !== next.finished_at) out.add(partName.clock);
  return [...out];
}
