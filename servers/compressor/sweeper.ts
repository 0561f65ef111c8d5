/**
 * @module sweeper
 * Nothing the compressor keeps grows without bound. Every sweep:
 * - an archive whose link has expired is deleted (its link answers 410
 *   anyway: nginx checks the expiry first);
 * - a finished job's record is forgotten JOB_RETENTION_SECONDS after it
 *   finished, but not before its link expired;
 * - a download folder of a finished job (a late straggler) is removed, and
 *   so is a retired one a crash left (jobfiles.ts: retireJobDir);
 * - a download folder nothing has changed in for JOB_STALL_SECONDS (its
 *   last messages were lost, say) fails its job with the reason, once.
 * - claims whose lease ran out long ago (a compressor died holding them)
 *   are forgotten.
 * Safe to run on several machines at once: deleting twice is harmless and
 * failing a job is idempotent (its record decides; a job another compressor
 * is building right now is left to it).
 */
import { readdir, rm, rmdir, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { Config } from "../shared/config.ts";
import { isId } from "../shared/ids.ts";
import { clearRetired, jobDir, readOutcomes } from "../shared/jobfiles.ts";
import { archiveFile, archiveFolder, archiveUri } from "../shared/link.ts";
import type { Logger } from "../shared/log.ts";
import type { Claims } from "./claims.ts";
import { JobBusy } from "./errors.ts";
import type { FinishedJobs } from "../shared/finishedjobs.ts";

export interface SweepDeps {
  config: Pick<Config, "DOWNLOADS_DIR" | "ARCHIVES_DIR" | "JOB_RETENTION_SECONDS" | "JOB_STALL_SECONDS">;
  secret: string;
  records: FinishedJobs;
  claims: Pick<Claims, "prune">;
  log: Logger;
  /** fails a job for good with `error` (the compressor's failJob) */
  fail(jobId: string, error: string): Promise<void>;
  /** whether this process is compressing the job right now (its folder is then left alone) */
  busy(jobId: string): boolean;
}

export interface Swept {
  archives: number;
  records: number;
  stale: number;
  leftovers: number;
}

/** The newest modification time in a job folder (the folder, its files, its temp and outcome folders). */
async function lastChange(dir: string): Promise<number> {
  let newest = (await stat(dir)).mtimeMs;
  for (const sub of [dir, `${dir}/.tmp`, `${dir}/.done`]) {
    for (const n of await readdir(sub).catch(() => [] as string[])) {
      const st = await stat(`${sub}/${n}`).catch(() => null);
      if (st) newest = Math.max(newest, st.mtimeMs);
    }
  }
  return newest;
}

export async function sweep(deps: SweepDeps, now = Date.now()): Promise<Swept> {
  const { config, records, log } = deps;
  const out: Swept = { archives: 0, records: 0, stale: 0, leftovers: 0 };
  for (const id of await records.ids()) {
    const rec = await records.get(id);
    if (!rec) continue;
    const expired = rec.expiresAt !== null && Date.parse(rec.expiresAt) <= now;
    if (rec.state === "ready" && expired && !rec.swept) {
      const file = archiveFile(config.ARCHIVES_DIR, archiveUri(archiveFolder(deps.secret, id), id));
      await rm(file, { force: true });
      await rmdir(dirname(file)).catch(() => {}); // not empty or gone: fine
      await records.markSwept(id);
      log.info("archive deleted: its link expired", { jobId: id });
      out.archives++;
    }
    const ended = Date.parse(rec.finishedAt);
    if (ended + config.JOB_RETENTION_SECONDS * 1000 <= now && (rec.expiresAt === null || expired)) {
      await records.remove(id);
      out.records++;
    }
  }
  for (const id of (await readdir(config.DOWNLOADS_DIR).catch(() => [] as string[])).filter(isId)) {
    const dir = jobDir(config, id);
    if (deps.busy(id)) continue;
    if (await records.has(id)) {
      await rm(dir, { recursive: true, force: true });
      out.leftovers++;
      continue;
    }
    const changed = await lastChange(dir).catch(() => null);
    if (changed === null || changed + config.JOB_STALL_SECONDS * 1000 > now) continue;
    const outcomes = await readOutcomes(dir);
    const total = outcomes.find((o) => o.total !== undefined)?.total;
    const error = `the job stopped: nothing changed for ${config.JOB_STALL_SECONDS} s with ${outcomes.length}${total ? ` of ${total}` : ""} files in`;
    try {
      await deps.fail(id, error);
    } catch (err) {
      if (err instanceof JobBusy) continue; // another compressor is building it after all
      throw err;
    }
    log.warn("a stalled job failed", { jobId: id, outcomes: outcomes.length, total });
    await rm(dir, { recursive: true, force: true });
    out.stale++;
  }
  out.leftovers += await clearRetired(config);
  await deps.claims.prune(now);
  return out;
}
