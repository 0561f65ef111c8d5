/**
 * @module ledger
 * What each link has delivered, so every byte of an archive leaves nginx at
 * most once (up to `overlapBytes`, for bytes the kernel sent but the client
 * never got). Per link: the archive size, `delivered` (the end of what went
 * out), whether it is used up, and at most one lease (one GET at a time).
 *
 *   take    a GET asks to start at byte S: granted (a lease token) only if no
 *           lease is held, the link is not used, and S >= delivered - overlap
 *   finish  nginx's log line of that GET (found by its token): the lease
 *           ends, delivered grows by what was sent; all of it sent = used
 *   lapse   a lease older than `leaseMs` with no line: when in doubt the
 *           link counts as fully delivered (used), never as free
 *
 * A used link is refused for good and its archive is burned (deleted) by the
 * caller. A link's row is kept until its signed expiry (plus the clock skew
 * allowed between machines) has passed: from then on nginx refuses the link
 * before asking, so `prune` forgets it. State is in the database (db.ts:
 * SQLite, or PostgreSQL shared by the guards of several machines), so it
 * survives a restart. On PostgreSQL every read-then-write of a link holds
 * that link's lock key, so two guards never both grant a lease on one link;
 * writes that end a lease also match its token, so a lease another guard
 * lapsed meanwhile is never revived.
 *
 * Where each machine's guard stopped reading its nginx log is kept per
 * machine (`machine`, MACHINE_NAME) and log path: every machine's log may
 * have the same path.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { int, migrate, tableExists, type Db, type Migration } from "../shared/db.ts";

export type TakeResult =
  | { state: "granted"; token: string }
  | { state: "used" }
  | { state: "busy"; retryAfterMs: number }
  | { state: "behind"; delivered: number; resumeFrom: number; size: number };

/** A GET's end as nginx logged it. */
export interface Finished {
  token: string;
  status: number;
  bytes: number;
}

/** What one applied line did to its link. */
export interface Applied {
  key: string;
  delivered: number;
  size: number;
  used: boolean;
}

/** The lock key of one link's row. */
const linkLock = (key: string) => `guard-link:${key}`;

/** The schema; `machine` owns the log positions saved before they were kept per machine. */
const schema = (machine: string): Migration[] => [
  [
    `CREATE TABLE guard_links (
      key TEXT PRIMARY KEY,
      size BIGINT NOT NULL DEFAULT 0,
      delivered BIGINT NOT NULL DEFAULT 0,
      used_at BIGINT,
      burned_at BIGINT,
      lease_token TEXT UNIQUE,
      lease_start BIGINT,
      leased_at BIGINT,
      updated_at BIGINT NOT NULL
    )`,
    "CREATE INDEX guard_links_leased ON guard_links (leased_at) WHERE leased_at IS NOT NULL",
    "CREATE INDEX guard_links_unburned ON guard_links (used_at) WHERE used_at IS NOT NULL AND burned_at IS NULL",
    "CREATE TABLE guard_log_offsets (log TEXT PRIMARY KEY, inode BIGINT NOT NULL, pos BIGINT NOT NULL)",
  ],
  // A store of the older lease-only guard (only ever an SQLite file): its used links stay used, and a lease it held counts as used (fail closed).
  async (sql, dialect) => {
    if (dialect !== "sqlite" || !(await tableExists(sql, "links"))) return;
    await sql`INSERT INTO guard_links (key, used_at, updated_at)
              SELECT key, COALESCE(used_at, leased_at), updated_at FROM links WHERE used_at IS NOT NULL OR leased_at IS NOT NULL`;
    await sql`DROP TABLE links`;
  },
  // When each link expires (epoch ms), so its row is forgotten once nginx refuses it anyway.
  ["ALTER TABLE guard_links ADD COLUMN expires_at BIGINT", "CREATE INDEX guard_links_expires ON guard_links (expires_at)"],
  // Log positions per machine: the positions saved so far are this machine's.
  async (sql) => {
    await sql`CREATE TABLE guard_log_positions (machine TEXT NOT NULL, log TEXT NOT NULL, inode BIGINT NOT NULL, pos BIGINT NOT NULL, PRIMARY KEY (machine, log))`;
    await sql`INSERT INTO guard_log_positions (machine, log, inode, pos) SELECT ${machine}, log, inode, pos FROM guard_log_offsets`;
    await sql`DROP TABLE guard_log_offsets`;
  },
];

export class Ledger {
  private constructor(
    private readonly db: Db,
    private readonly o: { leaseMs: number; overlapBytes: number },
    private readonly machine: string,
  ) {}

  /** `machine`: whose log positions this guard reads and saves (MACHINE_NAME; default the host name). */
  static async open(db: Db, o: { leaseMs: number; overlapBytes: number; machine?: string }): Promise<Ledger> {
    const machine = o.machine || hostname();
    await migrate(db, "linkguard", schema(machine));
    return new Ledger(db, o, machine);
  }

  /**
   * A GET of `key` that nginx will serve from byte `start` of an archive of
   * `size` bytes, through a link that expires at `expiresAt` (epoch ms).
   */
  take(key: string, start: number, size: number, now = Date.now(), expiresAt: number | null = null): Promise<TakeResult> {
    return this.db.tx(async (sql): Promise<TakeResult> => {
      const [row] = await sql`SELECT delivered, used_at, leased_at FROM guard_links WHERE key = ${key}`;
      if (row?.used_at != null) return { state: "used" };
      if (row?.leased_at != null) {
        const left = int(row.leased_at) + this.o.leaseMs - now;
        if (left > 0) return { state: "busy", retryAfterMs: left };
        await sql`UPDATE guard_links SET used_at = ${now}, lease_token = NULL, lease_start = NULL, leased_at = NULL, updated_at = ${now} WHERE key = ${key}`;
        return { state: "used" };
      }
      const delivered = int(row?.delivered ?? 0);
      const resumeFrom = Math.max(0, delivered - this.o.overlapBytes);
      if (start < resumeFrom) return { state: "behind", delivered, resumeFrom, size };
      const token = randomBytes(16).toString("hex");
      await sql`INSERT INTO guard_links (key, size, lease_token, lease_start, leased_at, updated_at, expires_at)
                VALUES (${key}, ${size}, ${token}, ${start}, ${now}, ${now}, ${expiresAt})
                ON CONFLICT (key) DO UPDATE SET size = excluded.size, lease_token = excluded.lease_token,
                  lease_start = excluded.lease_start, leased_at = excluded.leased_at, updated_at = excluded.updated_at,
                  expires_at = CASE WHEN excluded.expires_at > COALESCE(guard_links.expires_at, 0) THEN excluded.expires_at ELSE guard_links.expires_at END`;
      return { state: "granted", token };
    }, linkLock(key));
  }

  /** Whether `key` is used up (HEAD answers 410 for it). */
  async used(key: string): Promise<boolean> {
    const [row] = await this.db.sql`SELECT used_at FROM guard_links WHERE key = ${key}`;
    return row?.used_at != null;
  }

  /**
   * Applies finished GETs (their log lines) and saves the log position in
   * the same transaction, so a restart neither misses nor repeats a line.
   * Lines whose token the ledger did not grant (or granted to a lease that
   * has since lapsed) are ignored. Returns what each applied line did.
   */
  applyLines(log: string, inode: number, pos: number, lines: Finished[], now = Date.now()): Promise<Applied[]> {
    return this.db.tx(async (sql) => {
      // Lock every link the lines end (sorted: two guards never wait for each other's), then read them afresh.
      const tokens = lines.map((l) => l.token);
      const keys = tokens.length ? await sql`SELECT key FROM guard_links WHERE lease_token IN ${sql(tokens)}` : [];
      for (const k of keys.map((r: { key: string }) => r.key).sort()) await this.db.lock(sql, linkLock(k));
      const applied: Applied[] = [];
      for (const l of lines) {
        const [row] = await sql`SELECT key, size, delivered, lease_start FROM guard_links WHERE lease_token = ${l.token}`;
        if (!row) continue;
        // Only a 200 (from 0) or a 206 (from the granted start) carried archive bytes; error pages did not.
        const from = l.status === 200 ? 0 : l.status === 206 ? int(row.lease_start) : null;
        const delivered = from === null ? int(row.delivered) : Math.max(int(row.delivered), from + l.bytes);
        const whole = delivered >= int(row.size);
        const r = await sql`UPDATE guard_links SET delivered = ${delivered}, used_at = ${whole ? now : null},
                    lease_token = NULL, lease_start = NULL, leased_at = NULL, updated_at = ${now} WHERE key = ${row.key} AND lease_token = ${l.token}`;
        if (r.count) applied.push({ key: String(row.key), delivered, size: int(row.size), used: whole });
      }
      await sql`INSERT INTO guard_log_positions (machine, log, inode, pos) VALUES (${this.machine}, ${log}, ${inode}, ${pos})
                ON CONFLICT (machine, log) DO UPDATE SET inode = excluded.inode, pos = excluded.pos`;
      return applied;
    });
  }

  /** Where reading `log` stopped (its inode, so a replaced file is read from its start). */
  async logPosition(log: string): Promise<{ inode: number; pos: number } | null> {
    const [row] = await this.db.sql`SELECT inode, pos FROM guard_log_positions WHERE machine = ${this.machine} AND log = ${log}`;
    return row ? { inode: int(row.inode), pos: int(row.pos) } : null;
  }

  /**
   * Leases older than the lease time with no line: their links count as
   * fully delivered. Returns those keys. One statement, so each row is
   * checked and changed at once (a lease ended meanwhile is left alone).
   */
  async lapse(now = Date.now()): Promise<string[]> {
    const rows = await this.db.sql`UPDATE guard_links SET used_at = ${now}, lease_token = NULL, lease_start = NULL, leased_at = NULL, updated_at = ${now}
      WHERE leased_at IS NOT NULL AND leased_at <= ${now - this.o.leaseMs} RETURNING key`;
    return rows.map((r: { key: string }) => r.key);
  }

  /** Used links whose archive has not been deleted yet. */
  async unburned(limit = 100): Promise<string[]> {
    const rows = await this.db.sql`SELECT key FROM guard_links WHERE used_at IS NOT NULL AND burned_at IS NULL LIMIT ${limit}`;
    return rows.map((r: { key: string }) => r.key);
  }

  async markBurned(key: string, now = Date.now()): Promise<void> {
    await this.db.sql`UPDATE guard_links SET burned_at = ${now}, updated_at = ${now} WHERE key = ${key}`;
  }

  /** What the ledger knows of `key` (tests, logs). */
  async get(key: string): Promise<{ size: number; delivered: number; used: boolean; leased: boolean } | null> {
    const [r] = await this.db.sql`SELECT size, delivered, used_at, leased_at FROM guard_links WHERE key = ${key}`;
    return r ? { size: int(r.size), delivered: int(r.delivered), used: r.used_at != null, leased: r.leased_at != null } : null;
  }

  /**
   * Forgets links that expired before `before` (epoch ms): nginx refuses them
   * before asking. A row with no known expiry (an older guard's) counts as
   * expiring `maxTtlMs` after it last changed. Held leases and used links
   * whose archive is not deleted yet are kept whatever their age.
   */
  async prune(before: number, maxTtlMs: number): Promise<number> {
    const r = await this.db.sql`DELETE FROM guard_links
      WHERE COALESCE(NULLIF(expires_at, 0), updated_at + ${maxTtlMs}) < ${before}
        AND leased_at IS NULL AND (used_at IS NULL OR burned_at IS NOT NULL)`;
    return r.count ?? 0;
  }
}
