/**
 * @module burner
 * A used link is burned, not just refused: its archive is deleted from disk
 * (and its folder, once empty). `sweep` also ends lapsed leases (a GET whose
 * log line never came counts as fully delivered) and retries any used link
 * whose archive is still there, so a crash between "used" and the delete
 * leaves nothing behind. Deleting a file nginx is still sending is safe: the
 * open descriptor keeps its data until the send ends.
 */
import { rm, rmdir } from "node:fs/promises";
import { dirname } from "node:path";
import { archiveFile } from "../shared/link.ts";
import type { Logger } from "../shared/log.ts";
import type { Ledger } from "./ledger.ts";

export class Burner {
  constructor(
    private readonly ledger: Ledger,
    private readonly archivesDir: string,
    private readonly log: Logger,
  ) {}

  /** Deletes the archives of `keys` (already marked used) and records it. */
  async burn(keys: string[]): Promise<void> {
    for (const key of keys) {
      const file = archiveFile(this.archivesDir, key);
      try {
        await rm(file, { force: true });
        await rmdir(dirname(file)).catch(() => {}); // not empty or already gone: fine
        await this.ledger.markBurned(key);
        this.log.info("archive deleted: its link is used up", { key });
      } catch (err) {
        this.log.warn("could not delete a used archive; will retry", { key, err });
      }
    }
  }

  /** Lapses stale leases and burns every used link's archive still on disk. */
  async sweep(now = Date.now()): Promise<void> {
    const lapsed = await this.ledger.lapse(now);
    for (const key of lapsed) this.log.warn("a lease ended without a log line; the link counts as fully delivered", { key });
    await this.burn(await this.ledger.unburned());
  }
}
