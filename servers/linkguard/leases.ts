/**
 * @module leases
 * The one-time-link state machine, kept in bun:sqlite so it survives a
 * restart. A link (its path) is free, leased (one GET is being served) or
 * used (one GET went out whole). A GET takes the lease of a free link; the
 * end of that GET, as nginx logs it, either uses the link up or frees it. A
 * lease nobody reported on (a lost log line) lapses after `leaseMs`.
 */
import { Database } from "bun:sqlite";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

export type TakeResult = { state: "granted"; token: string } | { state: "used" } | { state: "busy" };

export class LeaseStore {
  private readonly db: Database;

  constructor(path: string, private readonly leaseMs: number) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.db = new Database(path, { create: true, strict: true });
    this.db.run("PRAGMA journal_mode = WAL");
    this.db.run("PRAGMA synchronous = NORMAL");
    this.db.run(`CREATE TABLE IF NOT EXISTS links (
      key TEXT PRIMARY KEY,
      used_at INTEGER,
      lease_token TEXT,
      leased_at INTEGER,
      updated_at INTEGER NOT NULL
    )`);
  }

  /** Tries to take the lease of `key` for one GET. */
  take(key: string, now = Date.now()): TakeResult {
    return this.db.transaction((): TakeResult => {
      const row = this.db.query<{ used_at: number | null; leased_at: number | null }, [string]>("SELECT used_at, leased_at FROM links WHERE key = ?").get(key);
      if (row?.used_at != null) return { state: "used" };
      if (row?.leased_at != null && now - row.leased_at < this.leaseMs) return { state: "busy" };
      const token = randomBytes(12).toString("hex");
      this.db
        .query("INSERT INTO links (key, lease_token, leased_at, updated_at) VALUES (?1, ?2, ?3, ?3) ON CONFLICT(key) DO UPDATE SET lease_token = ?2, leased_at = ?3, updated_at = ?3")
        .run(key, token, now);
      return { state: "granted", token };
    }).immediate();
  }

  /** The whole body went out: the link is used up for good. */
  markUsed(key: string, now = Date.now()): void {
    this.db
      .query("INSERT INTO links (key, used_at, updated_at) VALUES (?1, ?2, ?2) ON CONFLICT(key) DO UPDATE SET used_at = COALESCE(used_at, ?2), lease_token = NULL, leased_at = NULL, updated_at = ?2")
      .run(key, now);
  }

  /**
   * The GET ended without the whole body: frees the lease so the link can be
   * tried again. With a `token`, only that lease is freed (a later holder's is kept).
   */
  release(key: string, token: string | null, now = Date.now()): void {
    if (token === null) this.db.query("UPDATE links SET lease_token = NULL, leased_at = NULL, updated_at = ?2 WHERE key = ?1 AND used_at IS NULL").run(key, now);
    else this.db.query("UPDATE links SET lease_token = NULL, leased_at = NULL, updated_at = ?3 WHERE key = ?1 AND lease_token = ?2 AND used_at IS NULL").run(key, token, now);
  }

  /** The state of `key` (for tests and logs). */
  state(key: string, now = Date.now()): "free" | "leased" | "used" {
    const row = this.db.query<{ used_at: number | null; leased_at: number | null }, [string]>("SELECT used_at, leased_at FROM links WHERE key = ?").get(key);
    if (row?.used_at != null) return "used";
    return row?.leased_at != null && now - row.leased_at < this.leaseMs ? "leased" : "free";
  }

  /** Forgets links untouched since `before` (epoch ms): they have long expired, so nginx refuses them first. */
  prune(before: number): number {
    return this.db.query("DELETE FROM links WHERE updated_at < ?").run(before).changes;
  }

  close(): void {
    this.db.close();
  }
}
