/**
 * @module jobfiles
 * The layout of a job's download folder, shared by downloader and compressor:
 *
 *   DOWNLOADS_DIR/<job id>/
 *     NNN-<dl>-<safe name>   a downloaded file (NNN = zero-padded URL index,
 *                            <dl> = the download that fetched it)
 *     .tmp/NNN.<dl>.part     a download in progress (never read by the compressor)
 *     .done/NNN.json         the outcome of URL NNN (`FileOutcome`), written atomically
 *     .done/NNN.sent         URL NNN's final file event is out (confirmed by the broker):
 *                            a second name of NNN.json (a hard link), so noting it
 *                            makes no new file
 *
 *   DOWNLOADS_DIR/.retired/<job id>.<random>
 *                          a finished job's folder, moved off its name at once and
 *                          deleted right after the job is announced (removing a big
 *                          file can take most of a second); what a crash leaves
 *                          here is swept (clearRetired)
 *
 * A URL is finished when its outcome file exists; the job is complete when
 * every index has one, and is then handed over at once, while its final
 * events may still be on their way: the compressor publishes nothing before
 * every final event is noted as out (`whenAllSent`), so no compression
 * event can come before a file's last event. Several downloaders, on several machines, may fetch
 * the same URL at once (a message redelivered while a downloader cut off
 * from the network still writes): each download writes files of its own
 * (`<dl>` is unique per process and download) and the first outcome
 * recorded wins (created, never replaced), so the kept outcome always
 * describes the file it names, whatever a late one does. Writing outcomes
 * atomically makes a crash at any point leave either no outcome (the URL
 * is redone) or a whole one.
 */
import { randomBytes } from "node:crypto";
import { link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import type { Config } from "./config.ts";
import { sleep } from "./sleep.ts";

export interface FileOutcome {
  index: number;
  /** the job's number of URLs (absent in outcomes written before it was recorded) */
  total?: number;
  /** the link's lifetime the job asked for, in seconds (absent: the default) */
  ttl?: number;
  url: string;
  state: "done" | "failed";
  /** sanitised file name (the zip entry name before de-duplication); null if failed before one was known */
  name: string | null;
  /** on-disk file name inside the job folder, for "done" */
  file: string | null;
  bytes: number;
  /** CRC-32 of the bytes, computed while downloading (for "done") */
  crc32: number | null;
  /** SHA-256 of the bytes (hex), computed while downloading (for "done"; absent in older outcomes) */
  sha256?: string | null;
  error: string | null;
}

export const jobDir = (c: Pick<Config, "DOWNLOADS_DIR">, jobId: string) => `${c.DOWNLOADS_DIR}/${jobId}`;
const retiredDir = (c: Pick<Config, "DOWNLOADS_DIR">) => `${c.DOWNLOADS_DIR}/.retired`;

/**
 * Takes a finished job's folder off its name (one rename, however big its
 * files): a downloader or sweeper looking for it finds none. Returns where it
 * went, for `removeRetired`; null if there was no folder.
 */
export async function retireJobDir(c: Pick<Config, "DOWNLOADS_DIR">, jobId: string): Promise<string | null> {
  const to = `${retiredDir(c)}/${jobId}.${randomBytes(4).toString("hex")}`;
  for (let tries = 0; ; tries++) {
    try {
      await rename(jobDir(c, jobId), to);
      return to;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "ENOENT" && tries === 0) {
        // no `.retired` yet (made on first use), or no job folder at all
        await mkdir(retiredDir(c), { recursive: true, mode: 0o700 });
        continue;
      }
      if (code === "ENOENT") return null;
      throw err;
    }
  }
}

/** Deletes a retired folder (`retireJobDir`); deleting it twice (another compressor's sweep) is fine. */
export async function removeRetired(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true }).catch(() => {});
}

/** Deletes every retired folder (those a crash left); returns how many there were. */
export async function clearRetired(c: Pick<Config, "DOWNLOADS_DIR">): Promise<number> {
  const names = await readdir(retiredDir(c)).catch(() => [] as string[]);
  await Promise.all(names.map((n) => removeRetired(`${retiredDir(c)}/${n}`)));
  return names.length;
}

const pad = (index: number) => String(index).padStart(3, "0");
/** A downloaded file's name: its index, the download that fetched it (`dl`; absent in older folders) and its safe name. */
export const dataFileName = (index: number, safeName: string, dl = "") => `${pad(index)}-${dl ? `${dl}-` : ""}${safeName}`;
/** The temporary file of download `dl` of URL `index`. */
export const tmpPath = (dir: string, index: number, dl: string) => `${dir}/.tmp/${pad(index)}.${dl}.part`;
/** Whether `name` (in `.tmp/`) is a temporary file of URL `index`, of any download. */
export const isTmpOf = (name: string, index: number) => name.startsWith(`${pad(index)}.`) && name.endsWith(".part");
/** A name for one download, unique across processes and machines' downloads: this process and random bits. */
export const newDownloadId = () => `${process.pid}x${randomBytes(5).toString("hex")}`;
const outcomePath = (dir: string, index: number) => `${dir}/.done/${pad(index)}.json`;

/** Creates the job folder and its sub-folders. */
export async function ensureJobDir(dir: string): Promise<void> {
  await mkdir(`${dir}/.tmp`, { recursive: true });
  await mkdir(`${dir}/.done`, { recursive: true });
}

/**
 * Records an outcome atomically unless the URL has one: written whole under
 * a temp name of its own, then hard-linked into place, which fails if an
 * outcome is there (another download of the same URL finished first).
 * Returns the outcome that stands: `o`, or the earlier one.
 */
export async function writeOutcome(dir: string, o: FileOutcome): Promise<FileOutcome> {
  const p = outcomePath(dir, o.index);
  const tmp = `${p}.${newDownloadId()}.tmp`;
  await writeFile(tmp, JSON.stringify(o));
  try {
    await link(tmp, p);
    return o;
  } catch (err) {
    if ((err as { code?: string }).code !== "EEXIST") throw err;
    return (await readOutcome(dir, o.index)) ?? o;
  } finally {
    await rm(tmp, { force: true });
  }
}

/** The outcome of one URL, or null if it is not finished. */
export async function readOutcome(dir: string, index: number): Promise<FileOutcome | null> {
  try {
    return JSON.parse(await readFile(outcomePath(dir, index), "utf8")) as FileOutcome;
  } catch {
    return null;
  }
}

/** Names of the finished outcome files (an outcome file exists once it is whole: atomic rename). */
async function outcomeNames(dir: string): Promise<string[]> {
  const names = await readdir(`${dir}/.done`).catch(() => [] as string[]);
  return names.filter((n) => /^\d+\.json$/.test(n));
}

/** Indexes of the finished outcomes, from file names alone (nothing parsed). */
export async function outcomeIndexes(dir: string): Promise<Set<number>> {
  return new Set((await outcomeNames(dir)).map((n) => Number(n.slice(0, -".json".length))));
}

/**
 * Notes that URL `index`'s final file event is out (after the broker
 * confirmed it): a hard link to its outcome, a name and no new inode (on a
 * busy disk, making a file costs far more than naming one). Noting it
 * twice (a redelivery) is fine.
 */
export async function markSent(dir: string, index: number): Promise<void> {
  try {
    await link(outcomePath(dir, index), `${dir}/.done/${pad(index)}.sent`);
  } catch (err) {
    if ((err as { code?: string }).code !== "EEXIST") throw err;
  }
}

/**
 * An outcome this old without a `.sent` note counts as sent: it was written
 * before downloaders noted sent events (a job in flight across an upgrade),
 * or its event went out long ago.
 */
const SENT_GRACE_MS = 60_000;

/** How far the final events of a job's files are out: all, not yet all, or an outcome is missing (the folder is gone). */
async function sentState(dir: string, total: number, now: number): Promise<"all" | "waiting" | "missing"> {
  const names = new Set(await readdir(`${dir}/.done`).catch(() => [] as string[]));
  let state: "all" | "waiting" = "all";
  for (let i = 0; i < total; i++) {
    if (names.has(`${pad(i)}.sent`)) continue;
    if (!names.has(`${pad(i)}.json`)) return "missing";
    const written = await stat(outcomePath(dir, i)).then((st) => st.mtimeMs, () => now);
    if (written + SENT_GRACE_MS > now) state = "waiting";
  }
  return state;
}

/** Longest wait between two looks of `whenAllSent`. */
const SENT_POLL_MAX_MS = 50;

/**
 * Resolves true once every index 0..total-1 of the job in `dir` has its
 * final event out (`markSent`, which comes after its outcome), looking again after 1 ms, then 2, 4... up to
 * SENT_POLL_MAX_MS; false at once if an outcome is missing (the folder is
 * gone: nothing to wait for). The wait is bounded: an outcome counts as
 * sent SENT_GRACE_MS after it was written. Throws the signal's reason if
 * `signal` aborts first.
 */
export async function whenAllSent(dir: string, total: number, signal?: AbortSignal): Promise<boolean> {
  for (let wait = 1; ; wait = Math.min(SENT_POLL_MAX_MS, wait * 2)) {
    signal?.throwIfAborted();
    const state = await sentState(dir, total, Date.now());
    if (state !== "waiting") return state === "all";
    await sleep(wait, signal);
  }
}

/**
 * Whether the job in `dir` has an outcome for every index 0..total-1 and
 * none past it, by their names (one readdir), and the last one records that
 * file count too (one outcome read, not all): the quick check a compressor
 * answers a hand-over with. `allAccountedFor` checks every outcome before
 * the archive is built.
 */
export async function outcomesCover(dir: string, total: number): Promise<boolean> {
  const have = await outcomeIndexes(dir);
  if (have.size !== total) return false;
  for (let i = 0; i < total; i++) if (!have.has(i)) return false;
  const last = await readOutcome(dir, total - 1);
  return last !== null && (last.total === undefined || last.total === total);
}

/**
 * Whether `outcomes` account for every file of their job: the file count is
 * the one the outcomes record (or, for older outcomes without it, `claimed`),
 * they all agree, and every index below it has an outcome.
 */
export function allAccountedFor(outcomes: FileOutcome[], claimed?: number): boolean {
  const recorded = new Set(outcomes.map((o) => o.total).filter((t) => t !== undefined));
  if (recorded.size > 1 || (claimed !== undefined && recorded.size === 1 && !recorded.has(claimed))) return false;
  const total = recorded.size === 1 ? [...recorded][0]! : claimed;
  if (total === undefined || total < 1) return false;
  const seen = new Set(outcomes.map((o) => o.index));
  for (let i = 0; i < total; i++) if (!seen.has(i)) return false;
  return outcomes.every((o) => o.index < total);
}

/** Every finished outcome, by index. */
export async function readOutcomes(dir: string): Promise<FileOutcome[]> {
  // read at once (not one after another); one that cannot be read or parsed is being written: not finished
  const read = await Promise.all(
    (await outcomeNames(dir)).map((n) => readFile(`${dir}/.done/${n}`, "utf8").then((t) => JSON.parse(t) as FileOutcome).catch(() => null)),
  );
  return read.filter((o): o is FileOutcome => o !== null).sort((a, b) => a.index - b.index);
}
