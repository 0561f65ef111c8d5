/**
 * @module archive
 * Putting an archive in place. It is written under ARCHIVES_DIR/.partial/
 * (never served: nginx serves only the link paths of shared/link.ts) in a
 * file named after the job and the claim it is built under (claims.ts), so
 * two compressors never write the same partial file, fsynced, made
 * world-readable and then hard-linked to ARCHIVES_DIR/<folder>/<job id>.zip,
 * which fails if an archive is there already: a partial archive is never
 * served, and a finished one is never replaced (by a compressor whose claim
 * lapsed, say) under a download that is reading it.
 */
import { chmod, link, mkdir, open, readdir, rm, stat } from "node:fs/promises";
import type { Config } from "../shared/config.ts";

type Dirs = Pick<Config, "ARCHIVES_DIR">;

const partialDir = (c: Dirs) => `${c.ARCHIVES_DIR}/.partial`;

/** The temporary path of the job's archive built under claim `owner` (the folder is created, mode 0700). */
export async function partialPath(c: Dirs, jobId: string, owner: string): Promise<string> {
  await mkdir(partialDir(c), { recursive: true, mode: 0o700 });
  return `${partialDir(c)}/${jobId}-${owner}.zip`;
}

/**
 * Removes leftover partial archives: every one not built under the live
 * claim of its job in `live` (job id → owner), which another compressor may
 * be writing right now (ARCHIVES_DIR may be shared). `onlyJob`: just that
 * job's. Returns how many went.
 */
export async function clearPartials(c: Dirs, live: Map<string, string>, onlyJob?: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(partialDir(c));
  } catch {
    return 0;
  }
  const dead = names.filter((n) => {
    const jobId = n.slice(0, 32);
    if (onlyJob !== undefined && jobId !== onlyJob) return false;
    return n !== `${jobId}-${live.get(jobId)}.zip`;
  });
  await Promise.all(dead.map((n) => rm(`${partialDir(c)}/${n}`, { force: true, recursive: true })));
  return dead.length;
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } catch {
    /* some file systems cannot fsync a folder; the rename is still atomic */
  } finally {
    await fh.close();
  }
}

/**
 * Puts a finished (already fsynced) partial archive in place, unless the
 * job's archive is there already (an earlier attempt put it there and then
 * stopped short of recording it): then that one stays and this one goes.
 * Returns the final path and its size.
 */
export async function publishArchive(c: Dirs, partial: string, folder: string, jobId: string): Promise<{ path: string; bytes: number; existed: boolean }> {
  const dir = `${c.ARCHIVES_DIR}/${folder}`;
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755);
  await chmod(partial, 0o644);
  const path = `${dir}/${jobId}.zip`;
  let existed = false;
  try {
    await link(partial, path);
  } catch (err) {
    if ((err as { code?: string }).code !== "EEXIST") throw err;
    existed = true;
  }
  await rm(partial, { force: true });
  await fsyncDir(dir);
  return { path, bytes: (await stat(path)).size, existed };
}
