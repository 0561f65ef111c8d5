/**
 * @module budget
 * MAX_JOB_BYTES across a job's files, which several downloads (and several
 * downloader processes) fill at once: the bytes already in are read from
 * the shared job folder, re-checked while a file streams, and checked a
 * last time together with the file's commit (its rename into place), so
 * two files finishing at once in one process cannot both squeeze under
 * (commitWithin).
 * While a file streams, the check runs every `CHECK_EVERY` bytes: it sees
 * only files that are in, so checking more often would stop no file sooner
 * by more than that.
 */
import { readdir, stat } from "node:fs/promises";
import type { Config } from "../shared/config.ts";
import { formatLimit } from "../shared/bytes.ts";
import { DownloadFailed } from "../shared/errors.ts";
import { outcomeIndexes, readOutcome } from "../shared/jobfiles.ts";

/** How often (in bytes of one file) the budget is re-checked while the file streams. */
export const CHECK_EVERY = 4 * 1024 * 1024;

type Limits = Pick<Config, "MAX_FILE_BYTES" | "MAX_JOB_BYTES">;

/**
 * Bytes each finished URL of a job holds, by index, per job folder: an
 * outcome is created once and never replaced, so one read once need not be
 * read again (only the folder's listing is). The oldest folders are
 * forgotten past `REMEMBERED_JOBS`.
 */
const known = new Map<string, Map<number, number>>();
const REMEMBERED_JOBS = 256;

async function outcomeBytes(dir: string): Promise<Map<number, number>> {
  let seen = known.get(dir);
  if (!seen) {
    seen = new Map();
    known.set(dir, seen);
    if (known.size > REMEMBERED_JOBS) known.delete(known.keys().next().value!);
  }
  const out = new Map<number, number>();
  for (const i of await outcomeIndexes(dir)) {
    let bytes = seen.get(i);
    if (bytes === undefined) {
      const o = await readOutcome(dir, i);
      if (!o) continue; // being written
      bytes = o.state === "done" ? o.bytes : 0;
      seen.set(i, bytes);
    }
    out.set(i, bytes);
  }
  return out;
}

/**
 * Bytes of the job's other files that are in: finished outcomes, plus data
 * files already renamed into place whose outcome is not written yet.
 * Indexes in `skip` are left out (counted by the caller).
 */
async function jobBytes(dir: string, index: number, skip: ReadonlyMap<number, unknown> = new Map()): Promise<number> {
  const done = await outcomeBytes(dir);
  done.delete(index);
  for (const i of skip.keys()) done.delete(i);
  let total = [...done.values()].reduce((a, b) => a + b, 0);
  for (const n of await readdir(dir).catch(() => [] as string[])) {
    const m = /^(\d{3})-/.exec(n);
    const i = m ? Number(m[1]) : -1;
    if (i < 0 || i === index || done.has(i) || skip.has(i)) continue;
    total += await stat(`${dir}/${n}`).then((st) => st.size, () => 0);
  }
  return total;
}

/** The most bytes file `index` may have now: the smaller of MAX_FILE_BYTES and what is left of MAX_JOB_BYTES, with the message to fail with. */
export async function fileLimit(c: Limits, dir: string, index: number): Promise<{ bytes: number; message: string }> {
  const left = Math.max(0, c.MAX_JOB_BYTES - (await jobBytes(dir, index)));
  return left < c.MAX_FILE_BYTES
    ? { bytes: left, message: `the job would exceed its limit of ${formatLimit(c.MAX_JOB_BYTES)}` }
    : { bytes: c.MAX_FILE_BYTES, message: `file is larger than the limit of ${formatLimit(c.MAX_FILE_BYTES)}` };
}

const overLimit = (c: Limits) => new DownloadFailed(`the job would exceed its limit of ${formatLimit(c.MAX_JOB_BYTES)}`);

/** Throws `DownloadFailed` if file `index` with `bytes` would take the job past MAX_JOB_BYTES. */
export async function checkBudget(c: Limits, dir: string, index: number, bytes: number): Promise<void> {
  if ((await jobBytes(dir, index)) + bytes > c.MAX_JOB_BYTES) throw overLimit(c);
}

/** A commit of this process under way: its file's bytes, and when it is over (its file renamed into place, or given up). */
interface Committing {
  index: number;
  bytes: number;
  over: Promise<unknown>;
}

/** This process's commits under way, per job folder, oldest first. */
const committing = new Map<string, Committing[]>();

/**
 * Checks that file `index` with `bytes` keeps the job within MAX_JOB_BYTES
 * and then runs `rename` (which puts it into place), or throws
 * `DownloadFailed`. Commits of one job run side by side, each counting the
 * ones that started before it at their bytes (whether or not their file is
 * in place yet), so two cannot both squeeze under and the earlier wins. A
 * commit that would not fit waits for those earlier ones to be over and
 * checks again: an earlier one that failed no longer counts.
 */
export async function commitWithin(c: Limits, dir: string, index: number, bytes: number, rename: () => Promise<void>): Promise<void> {
  let list = committing.get(dir);
  if (!list) committing.set(dir, (list = []));
  let done!: () => void;
  const me: Committing = { index, bytes, over: new Promise<void>((r) => (done = r)) };
  list.push(me);
  try {
    for (;;) {
      const earlier = new Map(list.slice(0, list.indexOf(me)).filter((e) => e.index !== index).map((e) => [e.index, e] as const));
      let total = bytes + (await jobBytes(dir, index, earlier));
      for (const e of earlier.values()) total += e.bytes;
      if (total <= c.MAX_JOB_BYTES) return await rename();
      if (earlier.size === 0) throw overLimit(c);
      await Promise.all([...earlier.values()].map((e) => e.over));
    }
  } finally {
    list.splice(list.indexOf(me), 1);
    if (list.length === 0) committing.delete(dir);
    done();
  }
}
