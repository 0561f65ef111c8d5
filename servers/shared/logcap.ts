/**
 * @module logcap
 * Keeps a process's log file under a size. `bun run start` points each
 * part's output (stdout and stderr, one file opened for appending) at
 * `RUN_DIR/logs/<name>.log`; past `maxBytes` the process copies it to
 * `<name>.log.1` (replacing the previous one) and empties it, so a log
 * never holds more than about twice the cap. Appending writes carry on at
 * the new end, from this process and any other holding the file.
 */
import { copyFileSync, fstatSync, ftruncateSync, readlinkSync } from "node:fs";

/** Rotates the file behind stdout once it is past `maxBytes`; true if it did. Not a file (a terminal, a pipe): nothing. */
export function capLog(maxBytes: number, fd = 1): boolean {
  let st;
  try {
    st = fstatSync(fd);
  } catch {
    return false;
  }
  if (!st.isFile() || st.size <= maxBytes) return false;
  const path = readlinkSync(`/proc/self/fd/${fd}`);
  copyFileSync(path, `${path}.1`);
  ftruncateSync(fd, 0);
  return true;
}

/** Checks every `everyMs` (the timer does not keep the process alive). */
export function keepLogUnder(maxBytes: number, everyMs = 5000): () => void {
  const t = setInterval(() => {
    try {
      capLog(maxBytes);
    } catch {
      /* the log is not ours to rotate (permissions): leave it */
    }
  }, everyMs);
  t.unref();
  return () => clearInterval(t);
}
