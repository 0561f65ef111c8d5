/**
 * @module diskroom
 * Keeps new jobs out while the downloads or the archives volume is short of
 * space (less than MIN_FREE_DISK_BYTES free): `POST /jobs` then answers
 * 507. Free space is asked of the file system (statfs) at most once a
 * second. A folder this web server cannot see (another machine's) is not
 * judged: the downloader and the compressor still fail a job that runs out
 * of space, with the reason.
 */
import { statfs } from "node:fs/promises";
import { Cached } from "./cached.ts";

/** Free bytes for an unprivileged writer on the volume of `path`, or null if it cannot be told. */
export async function freeBytes(path: string): Promise<number | null> {
  try {
    const s = await statfs(path);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return null;
  }
}

export class DiskRoom {
  private readonly cached: Cached<boolean>;

  constructor(paths: string[], minFree: number, free: (path: string) => Promise<number | null> = freeBytes, maxAgeMs = 1000) {
    this.cached = new Cached(async () => {
      for (const p of paths) {
        const f = await free(p);
        if (f !== null && f < minFree) return false;
      }
      return true;
    }, maxAgeMs);
  }

  /** Whether every volume has at least the minimum free. */
  hasRoom(): Promise<boolean> {
    return this.cached.get();
  }
}
