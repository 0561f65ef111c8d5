/**
 * @module archive
 * Putting an archive in place. It is written under ARCHIVES_DIR/.partial/
 * (never served: nginx serves only the link paths of shared/link.ts),
 * fsynced, made world-readable and then renamed to
 * ARCHIVES_DIR/<folder>/<job id>.zip, so a partial archive is never served.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, readdir, rename, rm } from "node:fs/promises";
import type { Config } from "../shared/config.ts";

type Dirs = Pick<Config, "ARCHIVES_DIR">;

const partialDir = (c: Dirs) => `${c.ARCHIVES_DIR}/.partial`;

/** A fresh temporary path for the job's archive (the folder is created, mode 0700). */
export async function partialPath(c: Dirs, jobId: string): Promise<string> {
  await mkdir(partialDir(c), { recursive: true, mode: 0o700 });
  return `${partialDir(c)}/${jobId}-${process.pid}-${randomBytes(4).toString("hex")}.zip`;
}

/** Removes every leftover partial archive (run at start-up, before consuming); returns how many. */
export async function clearPartials(c: Dirs): Promise<number> {
  let names: string[];
  try {
    names = await readdir(partialDir(c));
  } catch {
    return 0;
  }
  await Promise.all(names.map((n) => rm(`${partialDir(c)}/${n}`, { force: true, recursive: true })));
  return names.length;
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

/** Moves a finished (already fsynced) partial archive into place; returns its final path. */
export async function publishArchive(c: Dirs, partial: string, folder: string, jobId: string): Promise<string> {
  const dir = `${c.ARCHIVES_DIR}/${folder}`;
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755);
  await chmod(partial, 0o644);
  const final = `${dir}/${jobId}.zip`;
  await rename(partial, final);
  await fsyncDir(dir);
  return final;
}
