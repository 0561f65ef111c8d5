/**
 * @module tailer
 * Follows nginx's guard access log (a file, not lossy UDP) from the position
 * saved in the ledger: every poll reads the complete lines written since,
 * applies them and saves the new position in one transaction. A restart
 * resumes where the last one stopped; a replaced file (another inode) or a
 * truncated one is read from its start. A line never read (lost with a
 * replaced file) leaves its lease to lapse, which counts as fully delivered.
 */
import { open, stat } from "node:fs/promises";
import type { Logger } from "../shared/log.ts";
import { parseLine } from "./accesslog.ts";
import type { Ledger } from "./ledger.ts";

/** Most bytes read in one poll. */
const CHUNK = 1024 * 1024;

export class LogTailer {
  private timer: Timer | undefined;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly path: string,
    private readonly ledger: Ledger,
    private readonly log: Logger,
    /** called with the links the lines just used up */
    private readonly onUsed: (keys: string[]) => Promise<void>,
    private readonly intervalMs = 100,
  ) {}

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      this.running = this.poll().then(
        () => {},
        (err) => this.log.error("reading the access log failed", { path: this.path, err }),
      );
      await this.running;
      if (!this.stopped) this.timer = setTimeout(loop, this.intervalMs);
    };
    void loop();
  }

  /** Reads everything written so far (one or more chunks); returns the lines applied. */
  async poll(): Promise<number> {
    let applied = 0;
    for (;;) {
      const n = await this.readChunk();
      if (n === null) return applied;
      applied += n;
    }
  }

  /** Applies the next chunk of complete lines; null when there was nothing new. */
  private async readChunk(): Promise<number | null> {
    const st = await stat(this.path).catch(() => null);
    if (!st) return null;
    const saved = await this.ledger.logPosition(this.path);
    let pos = saved && saved.inode === st.ino && saved.pos <= st.size ? saved.pos : 0;
    if (saved && pos === 0 && saved.pos > 0) this.log.warn("access log was replaced or truncated; reading it from the start", { path: this.path });
    if (pos >= st.size) return null;
    const fh = await open(this.path, "r");
    let text: string;
    try {
      const buf = Buffer.alloc(Math.min(CHUNK, st.size - pos));
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      text = buf.subarray(0, bytesRead).toString("latin1");
    } finally {
      await fh.close();
    }
    const end = text.lastIndexOf("\n");
    if (end < 0) return null; // a line still being written
    const lines = text.slice(0, end).split("\n");
    pos += end + 1;
    const finished = lines.map(parseLine).filter((l) => l !== null);
    const applied = await this.ledger.applyLines(this.path, st.ino, pos, finished);
    for (const a of applied) this.log.info(a.used ? "link used up" : "download ended before the end", { key: a.key, delivered: a.delivered, size: a.size });
    if (finished.length > applied.length) this.log.info("ignored access log lines without a current lease", { n: finished.length - applied.length });
    const used = applied.filter((a) => a.used).map((a) => a.key);
    if (used.length) await this.onUsed(used);
    return lines.length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
