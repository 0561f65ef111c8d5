/**
 * @module job
 * Compresses one finished job: its downloaded files become one zip (a big
 * stored first file becomes the zip itself, in place: inplace.ts), moved
 * where nginx serves it, behind a signed link announced on the progress
 * exchange; then the download folder goes. Safe to run again for the same
 * job at any point, in this process or another compressor on another
 * machine: the job is built only under a claim in the shared store
 * (claims.ts; another compressor's live claim makes this one hand the
 * request back, `JobBusy`), a finished job has a durable record (the first
 * one recorded wins) and is never built twice, an archive in place is never
 * replaced, and the archive path is the same on every attempt.
 */
import { open, rm, stat } from "node:fs/promises";
import { basename } from "node:path";
import type { Config } from "../shared/config.ts";
import { allAccountedFor, jobDir, readOutcomes, removeRetired, retireJobDir, whenAllSent, type FileOutcome } from "../shared/jobfiles.ts";
import { archiveFile, archiveFolder, archiveUri, jobLink } from "../shared/link.ts";
import type { Logger } from "../shared/log.ts";
import type { Metrics } from "../shared/metrics.ts";
import type { CompressRequest, JobEvent } from "../shared/messages.ts";
import { keys } from "../shared/topology.ts";
import { clearPartials, partialPath, publishArchive } from "./archive.ts";
import { ArchiveTooLarge, ClaimLost, JobBusy } from "./errors.ts";
import { holding, newOwner, ownerGoneHere, type Claims } from "./claims.ts";
import { EntryNames } from "../shared/names.ts";
import { Progress } from "./progress.ts";
import type { JobRecord, FinishedJobs } from "../shared/finishedjobs.ts";
import { manifestEntries } from "./manifest.ts";
import { writeZip, ZIP32_LIMIT, ZIP32_MAX_ENTRIES, type WriteOptions, type WrittenEntry, type ZipSource } from "./zipwriter.ts";
import { IN_PLACE_MIN_BYTES, IN_PLACE_TAIL_MAX, InPlaceRefused, mayTryOn, restoreInPlace, writeZipInPlace, type InPlaceFirst } from "./inplace.ts";
import { methodByName, methodFor, SAMPLE_BYTES } from "./method.ts";

export interface JobDeps {
  config: Pick<Config, "DOWNLOADS_DIR" | "ARCHIVES_DIR" | "PUBLIC_URL" | "LINK_TTL_SECONDS" | "MAX_LINK_TTL_SECONDS">;
  secret: string;
  records: FinishedJobs;
  /** who builds which job, across compressors */
  claims: Claims;
  /** this machine's name in its claims (MACHINE_NAME) */
  machine: string;
  log: Logger;
  /** publishes a job event on the progress exchange; `persistent` ones wait for the broker's confirm */
  publish(routingKey: string, event: JobEvent, persistent: boolean): Promise<void>;
  /** least time between two progress events */
  progressIntervalMs?: number;
  /** archive size limit (ZIP32_LIMIT; smaller in tests) */
  limit?: number;
  metrics?: Pick<Metrics, "archives">;
  /** smallest first file an archive is made of in place (inplace.ts; IN_PLACE_MIN_BYTES, smaller in tests) */
  inPlaceMinBytes?: number;
}

export type JobResult = "ready" | "failed" | "cancelled" | "already-finished" | "incomplete";

const KEPT_ARCHIVE = "the job's archive was in place already (an earlier attempt stopped before recording it); it is kept";
const OUTCOME_GONE = "a file's outcome went missing before its final event was out; not compressing the job now";
const TOO_BIG = "the files are too big for one archive (a zip without zip64 holds at most 4 GiB)";
const isDiskFull = (err: unknown) => ["ENOSPC", "EDQUOT"].includes(String((err as { code?: unknown })?.code));

/** A generous upper bound of the zip's size (deflate never grows data by more than ~0.1%). */
function estimateZipBytes(files: { name: string; bytes: number }[]): number {
  return files.reduce((n, f) => n + Math.ceil(f.bytes * 1.001) + 128 + 2 * Buffer.byteLength(f.name), 1024 * 1024);
}

type Source = { name: string; path: string; bytes: number; crc32: number | null; sha256: string | null };

/**
 * The downloaded files that are really there, with their entry names. With
 * `restore`, a file an interrupted attempt had begun to make the archive of
 * (inplace.ts) is first put back as it was downloaded.
 */
async function sources(dir: string, outcomes: FileOutcome[], log: Logger, restore: boolean): Promise<Source[]> {
  const names = new EntryNames();
  const out: Source[] = [];
  const kept = outcomes.filter((o) => o.state === "done" && o.file && basename(o.file) === o.file);
  // every file looked at at once (a job's worth of thread-pool round trips, not one after another)
  const found = await Promise.all(kept.map((o) => stat(`${dir}/${o.file}`).catch(() => null)));
  for (const [i, o] of kept.entries()) {
    const path = `${dir}/${o.file}`;
    const st = found[i];
    if (!st?.isFile()) {
      log.warn("downloaded file missing; left out", { index: o.index, file: o.file });
      continue;
    }
    if (restore && st.size !== o.bytes && (await restoreInPlace(path, o.bytes)))
      log.info("put back a downloaded file that an interrupted attempt had begun to make the archive of", { index: o.index, file: o.file });
    out.push({ name: names.take(o.name, o.index), path, bytes: o.bytes, crc32: o.crc32, sha256: o.sha256 ?? null });
  }
  return out;
}

/**
 * The job's first file, if its archive can be made of that file itself
 * (inplace.ts): big, stored, its CRC-32 known, owned by this user (it is
 * made world-readable), on ARCHIVES_DIR's file system (it is hard-linked
 * there) if that one can insert a range (not known to refuse), and the rest
 * of the archive small enough to build in memory.
 */
async function inPlaceCandidate(deps: JobDeps, files: Source[]): Promise<InPlaceFirst | null> {
  const first = files[0];
  if (!first || first.crc32 === null || first.bytes < (deps.inPlaceMinBytes ?? IN_PLACE_MIN_BYTES)) return null;
  // (the estimate's slack of 1 MiB covers the archive's own small files)
  if (estimateZipBytes(files.slice(1)) > IN_PLACE_TAIL_MAX) return null;
  const [st, dest] = await Promise.all([stat(first.path), stat(deps.config.ARCHIVES_DIR)]);
  const uid = process.getuid?.();
  if (st.dev !== dest.dev || !mayTryOn(st.dev) || st.size !== first.bytes || (uid !== 0 && st.uid !== uid)) return null;
  // the name decides if it can; else, like the zip writer, a sample of the start
  if (methodByName(first.name) === null && methodFor(first.name, await sample(first.path)) !== "store") return null;
  return { name: first.name, path: first.path, size: first.bytes, crc32: first.crc32 >>> 0 };
}

/** The first SAMPLE_BYTES of the file at `path` (fewer if it is shorter). */
async function sample(path: string): Promise<Uint8Array<ArrayBuffer>> {
  const fh = await open(path, "r");
  try {
    const buf = new Uint8Array(SAMPLE_BYTES);
    const { bytesRead } = await fh.read(buf, 0, SAMPLE_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Sends the record's final events (100 % then the link, or the failure). */
async function announce(deps: JobDeps, rec: JobRecord, progress: Progress | null): Promise<void> {
  const at = Date.now();
  if (rec.state === "ready") {
    // 100 %, then the link right behind it: one wait for both confirms
    const link = () => deps.publish(keys.link(rec.jobId), {
      v: 1, type: "link", jobId: rec.jobId, link: rec.link!, expiresAt: rec.expiresAt!, bytes: rec.bytes, entries: rec.entries, at,
    }, true);
    if (progress) await progress.finish(link);
    else await Promise.all([deps.publish(keys.compressProgress(rec.jobId), { v: 1, type: "compress", jobId: rec.jobId, percent: 100, at }, true), link()]);
  } else if (rec.state === "cancelled") {
    await deps.publish(keys.cancelled(rec.jobId), { v: 1, type: "cancelled", jobId: rec.jobId, at }, true);
  } else {
    await progress?.settled();
    await deps.publish(keys.failed(rec.jobId), { v: 1, type: "failed", jobId: rec.jobId, error: rec.error!, at }, true);
  }
}

/** Announces a recorded job and notes that it did. */
async function announceOnce(deps: JobDeps, rec: JobRecord, progress: Progress | null): Promise<void> {
  await announce(deps, rec, progress);
  await deps.records.markAnnounced(rec.jobId);
}

/**
 * Records, cleans up and announces a finished job. The folder leaves its name
 * before the announcement, so a job that is ready or failed has left nothing
 * behind under its id; its files are deleted just after the announcement
 * (deleting a big file can take most of a second: the link need not wait for
 * it). A crash in between is safe: the record alone lets a redelivery
 * announce it, and the sweeper deletes what a crash left retired.
 * If another compressor recorded the job first (this one's claim had
 * lapsed), its record stands and it announces it: nothing is sent here.
 * With `eventsOut` (a build's: see there), nothing is recorded or sent
 * before it says every file's final event is out, and nothing at all
 * ("incomplete") if it says an outcome went missing.
 */
async function finish(deps: JobDeps, rec: JobRecord, progress: Progress | null, eventsOut?: Promise<boolean>): Promise<JobResult> {
  if (eventsOut && !(await eventsOut)) {
    deps.log.warn(OUTCOME_GONE, { jobId: rec.jobId });
    return "incomplete";
  }
  if (!(await deps.records.create(rec))) {
    const kept = await deps.records.get(rec.jobId);
    deps.log.warn("another compressor finished the job first; its record stands", { jobId: rec.jobId, state: kept?.state });
    // An archive this one put in place that the kept record does not serve would never be swept.
    if (rec.state === "ready" && kept && kept.state !== "ready")
      await rm(archiveFile(deps.config.ARCHIVES_DIR, archiveUri(archiveFolder(deps.secret, rec.jobId), rec.jobId)), { force: true });
    return "already-finished";
  }
  deps.metrics?.archives.inc({ state: rec.state });
  const retired = await retireJobDir(deps.config, rec.jobId);
  try {
    await announceOnce(deps, rec, progress);
  } finally {
    if (retired) await removeRetired(retired);
  }
  return rec.state;
}

/**
 * Runs `fn` under a claim of `jobId` of its own, held (renewed) while it
 * runs and released after; throws `JobBusy` if another compressor's claim
 * is live. `fn` gets the claim's owner token and a signal that also aborts
 * if the claim is lost.
 */
async function claimed<T>(deps: JobDeps, jobId: string, signal: AbortSignal | undefined, fn: (owner: string, signal: AbortSignal) => Promise<T>): Promise<T> {
  const owner = newOwner(deps.machine);
  const t = await deps.claims.take(jobId, owner, Date.now(), (o) => ownerGoneHere(o, deps.machine));
  if (!t.taken) throw new JobBusy(jobId, t.owner, Math.max(0, t.expiresAt - Date.now()));
  return holding(deps.claims, jobId, owner, signal, (s) => fn(owner, s));
}

const failedRecord = (jobId: string, error: string): JobRecord => ({
  jobId, state: "failed", link: null, expiresAt: null, bytes: 0, entries: 0, error, announced: false, finishedAt: new Date().toISOString(),
});

/**
 * Cancels a job that has not finished: recorded (so no archive is ever built
 * and downloaders drop its remaining messages), announced (downloaders abort
 * its downloads, pages end), its folder removed. A finished job stays as it is.
 */
export async function cancelJob(deps: JobDeps, jobId: string): Promise<JobResult> {
  if (await deps.records.has(jobId)) return "already-finished";
  // Under the job's claim: a job another compressor is building finishes first (the cancel then finds it finished).
  return claimed(deps, jobId, undefined, async () =>
    (await deps.records.has(jobId)) ? "already-finished" : finish(deps, { ...failedRecord(jobId, "cancelled by its user"), state: "cancelled" }, null),
  );
}

/** Fails the job for good with `error` (recorded and announced like any finished job); `JobBusy` while another compressor builds it. */
export async function failJob(deps: JobDeps, jobId: string, error: string): Promise<void> {
  if (await deps.records.has(jobId)) return;
  await claimed(deps, jobId, undefined, async () => {
    if (!(await deps.records.has(jobId))) await finish(deps, failedRecord(jobId, error), null);
  });
}

/**
 * Builds, publishes and announces the archive of `req.jobId` (see the module
 * doc). A job whose files are not all accounted for is left alone
 * ("incomplete"): the downloader that writes its last outcome asks again.
 */
export async function compressJob(deps: JobDeps, req: Pick<CompressRequest, "jobId" | "total">, signal?: AbortSignal): Promise<JobResult> {
  if ((await deps.records.get(req.jobId))?.announced) return "already-finished";
  return claimed(deps, req.jobId, signal, (owner, s) => build(deps, req, owner, s));
}

/** compressJob under the job's claim `owner`. */
async function build(deps: JobDeps, req: Pick<CompressRequest, "jobId" | "total">, owner: string, signal: AbortSignal): Promise<JobResult> {
  const jobId = req.jobId;
  // Read again under the claim: the last owner may have finished meanwhile, or died before announcing.
  const known = await deps.records.get(jobId);
  if (known?.announced) return "already-finished";
  if (known) {
    deps.log.info("re-announcing a finished job", { jobId, state: known.state });
    await announceOnce(deps, known, null);
    return "already-finished";
  }

  const dir = jobDir(deps.config, jobId);
  const folder = archiveFolder(deps.secret, jobId);
  // an archive already where nginx serves it (see below), looked for while the outcomes are read
  const already = stat(archiveFile(deps.config.ARCHIVES_DIR, archiveUri(folder, jobId))).catch(() => null);
  const outcomes = await readOutcomes(dir);
  if (!allAccountedFor(outcomes, req.total)) {
    deps.log.warn("not every file of the job is accounted for; not compressing it now", { jobId, outcomes: outcomes.length, total: req.total });
    return "incomplete";
  }
  // The job came as soon as its last outcome was written (downloader worker.ts), its files'
  // final events maybe not yet confirmed: the archive is built meanwhile, but nothing is
  // published (Progress) or recorded (finish), and no archive put where nginx serves it,
  // before every final event is noted as out.
  const eventsOut = whenAllSent(dir, outcomes.length, signal);
  eventsOut.catch(() => {}); // seen where it is awaited
  // An archive in place that no record serves: an earlier attempt stopped between the two. It is
  // whole (fsynced before it was linked there) and stays; the job's files may be gone with it.
  const existing = await already;
  if (existing) {
    deps.log.warn(KEPT_ARCHIVE, { jobId });
    return ready(deps, jobId, outcomes, { bytes: existing.size, entries: outcomes.filter((o) => o.state === "done").length }, null, eventsOut);
  }
  const files = await sources(dir, outcomes, deps.log, true);
  if (files.length === 0) {
    const error = outcomes.length === 0 ? "no downloaded files were found for this job" : `none of the ${outcomes.length} files could be downloaded`;
    return finish(deps, failedRecord(jobId, error), null, eventsOut);
  }
  const limit = deps.limit ?? ZIP32_LIMIT;
  if (files.length + 2 > ZIP32_MAX_ENTRIES || estimateZipBytes(files) > limit)
    return finish(deps, failedRecord(jobId, TOO_BIG), null, eventsOut);

  const total = files.reduce((n, f) => n + f.bytes, 0);
  const progress = new Progress(total, (percent) =>
    deps.publish(keys.compressProgress(jobId), { v: 1, type: "compress", jobId, percent, at: Date.now() }, percent === 0 || percent === 100),
    { intervalMs: deps.progressIntervalMs, ready: eventsOut },
  );
  await progress.start();
  // A partial archive of an earlier claim is dead (its compressor died or lost the claim): it goes.
  const dead = await clearPartials(deps.config, new Map([[jobId, owner]]), jobId);
  if (dead > 0) deps.log.info("removed a dead claim's partial archive of the job", { jobId, removed: dead });
  let built: Built;
  try {
    const own = await manifestEntries(files, outcomes.filter((o) => o.state === "failed"));
    built = await buildArchive(deps, jobId, owner, files, own, { onProgress: (done) => progress.update(done), signal, limit });
  } catch (err) {
    // A full disk does not empty itself by trying again: the job fails at once, saying why.
    const why = err instanceof ArchiveTooLarge ? TOO_BIG : isDiskFull(err) ? "there was not enough disk space on the server to build the archive" : null;
    if (why === null) throw err;
    return finish(deps, failedRecord(jobId, why), progress, eventsOut);
  }
  for (const [i, f] of files.entries()) {
    if (f.crc32 !== null && (f.crc32 >>> 0) !== built.entries[i]!.crc32) deps.log.warn("file changed since download (CRC differs); archived as it is on disk", { jobId, entry: f.name });
  }

  if (!(await eventsOut)) {
    deps.log.warn(OUTCOME_GONE, { jobId });
    // (an archive made in place is put back as downloaded by the next attempt: `sources`)
    if (!built.inPlace) await rm(built.path, { force: true });
    return "incomplete";
  }
  // A downloaded file made the archive is linked only while the claim is still this one's (renewed
  // just before): a compressor that took the job over could have put that file back meanwhile.
  if (built.inPlace) await stillOurs(deps, jobId, owner);
  const placed = await publishArchive(deps.config, built.path, folder, jobId);
  if (placed.existed) deps.log.warn(KEPT_ARCHIVE, { jobId });
  deps.log.info("archive ready", { jobId, entries: files.length, bytes: placed.bytes, input: total, inPlace: built.inPlace });
  return ready(deps, jobId, outcomes, { bytes: placed.bytes, entries: files.length }, progress);
}

/** Signs the link of the job's archive, now where nginx serves it, and records and announces the job as ready. */
function ready(deps: JobDeps, jobId: string, outcomes: FileOutcome[], archive: { bytes: number; entries: number }, progress: Progress | null, eventsOut?: Promise<boolean>): Promise<JobResult> {
  // The lifetime the job asked for (carried by its outcomes), never past the longest allowed.
  const ttl = Math.min(outcomes.find((o) => o.ttl)?.ttl ?? deps.config.LINK_TTL_SECONDS, deps.config.MAX_LINK_TTL_SECONDS);
  const expires = Math.floor(Date.now() / 1000) + ttl;
  const link = jobLink({ publicUrl: deps.config.PUBLIC_URL, secret: deps.secret, jobId, expires });
  return finish(deps, {
    jobId, state: "ready", link, expiresAt: new Date(expires * 1000).toISOString(), bytes: archive.bytes, entries: archive.entries,
    error: null, announced: false, finishedAt: new Date().toISOString(),
  }, progress, eventsOut);
}

/** Renews the job's claim; throws `ClaimLost` if another compressor has it now. */
async function stillOurs(deps: JobDeps, jobId: string, owner: string): Promise<void> {
  if (!(await deps.claims.renew(jobId, owner))) throw new ClaimLost(jobId);
}

/** A built archive: where it is (to put in place), its entries, and whether it is the job's first downloaded file itself. */
type Built = { path: string; entries: WrittenEntry[]; inPlace: boolean };

/**
 * Builds the job's archive: in place when its first file allows it
 * (inplace.ts), else as a new partial file under this claim (removed if
 * that fails).
 */
async function buildArchive(deps: JobDeps, jobId: string, owner: string, files: Source[], own: ZipSource[], opts: WriteOptions): Promise<Built> {
  const first = await inPlaceCandidate(deps, files);
  if (first) {
    try {
      const { entries } = await writeZipInPlace(first, [...files.slice(1), ...own], { ...opts, guard: () => stillOurs(deps, jobId, owner) });
      return { path: first.path, entries, inPlace: true };
    } catch (err) {
      if (!(err instanceof InPlaceRefused)) throw err;
      deps.log.info("the archive is copied: its first file cannot be made the archive in place", { jobId, why: err.message });
    }
  }
  const partial = await partialPath(deps.config, jobId, owner);
  try {
    return { path: partial, entries: (await writeZip(partial, [...files, ...own], opts)).entries, inPlace: false };
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}
