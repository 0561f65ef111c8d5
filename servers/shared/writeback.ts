/**
 * @module writeback
 * Lets the disk write a growing file while more of it is made: every
 * EARLY_SYNC bytes, a datasync in the background (one at a time, never
 * awaited by the writer), so the file's final fsync (or an archive made of
 * it in place, compressor/inplace.ts) finds little left to write. A small
 * file never waits for the disk here. Its failure is kept for the writer
 * to throw. The one home of this rule: the downloader's file writer, the
 * compressor's zip writer and the bench's floor use it.
 */

/** Bytes written between two background datasyncs. */
export const EARLY_SYNC = 32 * 1024 * 1024;

export class BackgroundSync {
  private syncedAt: number;
  private running: Promise<void> | null = null;
  /** the first datasync failure, if any (the file's: the writer throws it) */
  failure: unknown = null;

  /** For `file`, which holds `from` bytes already (a resumed download). */
  constructor(private readonly file: { datasync(): Promise<void> }, from = 0) {
    this.syncedAt = from;
  }

  /** The file now holds `bytes`: starts a datasync if EARLY_SYNC more were written since the last one began and none runs. */
  wrote(bytes: number): void {
    if (this.running || bytes - this.syncedAt < EARLY_SYNC) return;
    this.syncedAt = bytes;
    this.running = this.file
      .datasync()
      .catch((err: unknown) => void (this.failure ??= err))
      .finally(() => (this.running = null));
  }

  /** Resolves once no datasync uses the file (before it is synced for good or closed). */
  async idle(): Promise<void> {
    await this.running;
  }
}
