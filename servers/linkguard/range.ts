/**
 * @module range
 * Where nginx will start sending an archive for a GET, decided before nginx
 * serves it (auth_request sees the request, not the response). nginx
 * (`max_ranges 1`, ETag on) answers a single `bytes=N-` with 206 from N, a
 * request without Range with 200 from 0, and also 200 from 0 when If-Range
 * does not match its validator or when several ranges are asked. The guard
 * grants only a whole GET or one open range `bytes=N-`; anything else (a
 * closed or suffix range, several ranges, a malformed header) is refused,
 * because nginx would answer it in a way the one-time rule cannot account
 * for.
 */
import type { Stats } from "node:fs";

/** What nginx knows of an archive: its size and its validators. */
export interface ArchiveInfo {
  size: number;
  /** nginx's strong ETag: `"<mtime hex>-<size hex>"` */
  etag: string;
  /** mtime in whole epoch seconds (Last-Modified) */
  mtime: number;
}

/** The validators nginx derives from a file's stat. */
export function archiveInfo(st: Pick<Stats, "size" | "mtimeMs">): ArchiveInfo {
  const mtime = Math.floor(st.mtimeMs / 1000);
  return { size: st.size, mtime, etag: `"${mtime.toString(16)}-${st.size.toString(16)}"` };
}

export type Start = { start: number } | { refused: string };

const OPEN_RANGE = /^bytes=(\d{1,15})-$/;

/** True if nginx would honour this If-Range (its exact strong ETag, or its exact Last-Modified date). */
function ifRangeHolds(ifRange: string, info: ArchiveInfo): boolean {
  if (ifRange.endsWith('"')) return ifRange === info.etag;
  const t = Date.parse(ifRange);
  return Number.isFinite(t) && t / 1000 === info.mtime;
}

/** The first byte nginx will send for a GET with these headers, or why the guard refuses it. */
export function startOffset(range: string | null, ifRange: string | null, info: ArchiveInfo): Start {
  if (!range) return { start: 0 };
  const m = OPEN_RANGE.exec(range.trim());
  if (!m) return { refused: `only one open range "Range: bytes=N-" is accepted (as curl -C - and browsers send), not "${range.slice(0, 60)}"` };
  const n = Number(m[1]);
  if (n >= info.size) return { refused: `the archive has ${info.size} bytes: nothing is left from byte ${n}` };
  // A mismatched If-Range makes nginx send the whole archive from byte 0.
  if (ifRange && !ifRangeHolds(ifRange.trim(), info)) return { start: 0 };
  return { start: n };
}
