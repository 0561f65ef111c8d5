/**
 * @module budget
 * MAX_JOB_BYTES across a job's files, which several downloads (and several
 * downloader processes) fill at once: the bytes already in are read from
 * the shared job folder, re-checked while a file streams, and checked a
 * last time together with the file's commit (its rename into place), so
 * two files finishing at once in one process cannot both squeeze under.
 */
import { readdir, stat } from "node:fs/promises";
import type { Config } from "../shared/config.ts";
import { formatLimit } from "../shared/bytes.ts";
import { DownloadFailed } from "../shared/errors.ts";
import { readOutcomes } from "../shared/jobfiles.ts";

type Limits = Pick<Config, "MAX_FILE_BYTES" | "MAX_JOB_BYTES">;

/**
 * Bytes of the job's other files that are in: finished outcomes, plus data
 * files already renamed into place whose outcome is not written yet.
 */
async function jobBytes(dir: string, index: number): Promise<number> {
  const done = new Map<number, number>();
  for (const o of await readOutcomes(dir)) if (o.index !== index) done.set(o.index, o.state === "done" ? o.bytes : 0);
  let total = [...done.values()].reduce((a, b) => a + b, 0);
  for (const n of await readdir(dir).catch(() => [] as string[])) {
    const m = /^(\d{3})-/.exec(n);
    if (!m || Number(m[1]) === index || done.has(Number(m[1]))) continue;
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

/** Throws `DownloadFailed` if file `index` with `bytes` would take the job past MAX_JOB_BYTES. */
export async function checkBudget(c: Limits, dir: string, index: number, bytes: number): Promise<void> {
  if ((await jobBytes(dir, index)) + bytes > c.MAX_JOB_BYTES) throw new DownloadFailed(`the job would exceed its limit of ${formatLimit(c.MAX_JOB_BYTES)}`);
}

const commits = new Map<string, Promise<unknown>>();

/** Runs `fn` alone among this process's commits to the same job folder. */
export async function commitAlone<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const prev = commits.get(dir) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => {});
  commits.set(dir, tail);
  try {
    return await run;
  } finally {
    if (commits.get(dir) === tail) commits.delete(dir);
  }
}
