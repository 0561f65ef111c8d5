/**
 * @module spreadfolders
 * A folder that holds one sub-folder per job (DOWNLOADS_DIR, ARCHIVES_DIR)
 * is marked as the top of a directory hierarchy (`chattr +T`, ext4's
 * EXT4_TOPDIR_FL): a hint to ext4's Orlov allocator that its sub-folders
 * are unrelated, so it spreads them over the disk's block groups instead of
 * packing every job into its parent's group. Jobs make and delete files
 * all the time; in one shared group each new file's inode is searched for
 * past the inodes freed by the jobs before it (an ext4 without a journal
 * skips recently freed ones), and a create was measured at 0.5-1.1 ms.
 * Spread out, it cost 50-67 us (a script making 23 files per job folder,
 * deleting the folder four jobs back). Best effort: on another file system,
 * or without `chattr`, nothing changes.
 */
import { mkdirSync } from "node:fs";
import type { Logger } from "./log.ts";

/** Creates `dir` if need be and asks the file system to spread its sub-folders; says why not at debug level. */
export function spreadSubfolders(dir: string, log: Pick<Logger, "debug">): void {
  try {
    mkdirSync(dir, { recursive: true });
    const r = Bun.spawnSync(["chattr", "+T", dir], { stdout: "ignore", stderr: "pipe" });
    if (r.exitCode !== 0) log.debug("cannot mark the folder's sub-folders as unrelated (chattr +T)", { dir, err: r.stderr.toString().trim() });
  } catch (err) {
    log.debug("cannot mark the folder's sub-folders as unrelated (chattr +T)", { dir, err });
  }
}
