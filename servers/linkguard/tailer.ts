/**
 * @module tailer
 * Follows nginx's guard access log (a file, not lossy UDP) from the position
 * saved in the ledger: every poll reads the complete lines written since,
 * applies them and saves the new position in one transaction. A restart
 * resumes where the last one stopped.
 *
 * The log is kept small: once read to its end past `maxBytes`, it is moved
 * to `<log>.1`, a fresh one is made (mode 0600) and nginx is told to reopen
 * its logs (SIGUSR1). The rest of the old file (lines nginx wrote before it
 * reopened) is read first; the new file once the old one has been quiet for
 * a moment. A line lost anyway (a file replaced by hand) leaves its lease to
 * lapse, which counts as fully delivered.
 */
import { closeSync, openSync, readFileSync, renameSync, type Stats } from "node:fs";
import { open, stat } from "node:fs/promises";
import type { Logger } from "../shared/log.ts";
import { parseLine } from "./accesslog.ts";
import type { Ledger } from "./ledger.ts";

/** Most bytes read in one poll. */
const CHUNK = 1024 * 1024;
/** How long a moved-away log must have been untouched before the new one is read. */
const QUIET_MS = 2000;

export interface TailerOptions {
  /** the log file nginx writes */
  path: string;
  /** nginx's master pid file, to ask it to reopen its logs after a rotation */
  nginxPidFile: string;
  maxBytes: number;
  intervalMs?: number;
}

export class LogTailer {
  private timer: Timer | undefined;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly o: TailerOptions,
    private readonly ledger: Ledger,
    private readonly log: Logger,
    /** called with the links the lines just used up */
    private readonly onUsed: (keys: string[]) => Promise<void>,
  ) {}

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      this.running = this.poll().then(
        () => {},
        (err) => this.log.error("reading the access log failed", { path: this.o.path, err }),
      );
      await this.running;
      if (!this.stopped) this.timer = setTimeout(loop, this.o.intervalMs ?? 100);
    };
    void loop();
  }

  /** Reads everything written so far (one or more chunks), rotating the log when it is due; returns the lines applied. */
  async poll(): Promise<number> {
    let applied = 0;
    for (;;) {
      const n = await this.readChunk();
      if (n === null) break;
      applied += n;
    }
    await this.rotateIfDue();
    return applied;
  }

  /** The file to read next and where: the saved one while it has more (or may still get more), else the current one. */
  private async next(): Promise<{ file: string; st: Stats; pos: number } | null> {
    const st = await stat(this.o.path).catch(() => null);
    const saved = await this.ledger.logPosition(this.o.path);
    if (saved && st?.ino !== saved.inode) {
      const old = await stat(`${this.o.path}.1`).catch(() => null);
      if (old?.ino === saved.inode && (saved.pos < old.size || Date.now() - old.mtimeMs < QUIET_MS))
        return { file: `${this.o.path}.1`, st: old, pos: Math.min(saved.pos, old.size) };
      if (st && !(old?.ino === saved.inode)) this.log.warn("access log was replaced; reading the new one from the start", { path: this.o.path });
    }
    if (!st) return null;
    const pos = saved && saved.inode === st.ino && saved.pos <= st.size ? saved.pos : 0;
    if (saved && saved.inode === st.ino && saved.pos > st.size) this.log.warn("access log was truncated; reading it from the start", { path: this.o.path });
    return { file: this.o.path, st, pos };
  }

  /** Applies the next chunk of complete lines; null when there was nothing new. */
  private async readChunk(): Promise<number | null> {
    const at = await this.next();
    if (!at || at.pos >= at.st.size) return null;
    const fh = await open(at.file, "r");
    let text: string;
    try {
      const buf = Buffer.alloc(Math.min(CHUNK, at.st.size - at.pos));
      const { bytesRead } = await fh.read(buf, 0, buf.length, at.pos);
      text = buf.subarray(0, bytesRead).toString("latin1");
    } finally {
      await fh.close();
    }
    const end = text.lastIndexOf("\n");
    if (end < 0) return null; // a line still being written
    const lines = text.slice(0, end).split("\n");
    const finished = lines.map(parseLine).filter((l) => l !== null);
    const applied = await this.ledger.applyLines(this.o.path, at.st.ino, at.pos + end + 1, finished);
    for (const a of applied) this.log.info(a.used ? "link used up" : "download ended before the end", { key: a.key, delivered: a.delivered, size: a.size });
    if (finished.length > applied.length) this.log.info("ignored access log lines without a current lease", { n: finished.length - applied.length });
    const used = applied.filter((a) => a.used).map((a) => a.key);
    if (used.length) await this.onUsed(used);
    return lines.length;
  }

  /** Moves the log away once it is read to its end past `maxBytes`, and has nginx open a fresh one. */
  private async rotateIfDue(): Promise<void> {
    const saved = await this.ledger.logPosition(this.o.path);
    const st = await stat(this.o.path).catch(() => null);
    if (!saved || !st || saved.inode !== st.ino || saved.pos < this.o.maxBytes || saved.pos < st.size) return;
    let pid: number;
    try {
      pid = Number(readFileSync(this.o.nginxPidFile, "utf8").trim());
    } catch {
      return; // no nginx here to reopen it: leave the log as it is
    }
    renameSync(this.o.path, `${this.o.path}.1`);
    closeSync(openSync(this.o.path, "wx", 0o600));
    try {
      process.kill(pid, "SIGUSR1");
      this.log.info("access log rotated", { path: this.o.path, bytes: saved.pos });
    } catch (err) {
      // nginx would go on writing the moved file: put it back
      renameSync(`${this.o.path}.1`, this.o.path);
      this.log.warn("could not ask nginx to reopen its logs; not rotating", { pid, err });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
