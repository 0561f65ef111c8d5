/**
 * @module dialect
 * The little that differs between SQLite and PostgreSQL under Bun's one SQL
 * client (db.ts): how a pool is prepared, how a read-then-write transaction
 * is serialised, and how to ask whether a table exists. Everything else (the
 * queries, `ON CONFLICT … DO UPDATE`, partial indexes, `RETURNING`) is
 * written once in the SQL both accept.
 */
import type { SQL } from "bun";

export type DialectName = "sqlite" | "postgres";

export interface Dialect {
  readonly name: DialectName;
  /** Prepares a newly opened client. */
  setup(sql: SQL): Promise<void>;
  /** Runs `fn` in a transaction; `lockKey`, when given, is held by one transaction at a time across every process on the database. */
  tx<T>(sql: SQL, fn: (sql: SQL) => Promise<T>, lockKey?: string): Promise<T>;
  /** Inside a transaction: holds `lockKey` too, until the transaction ends. */
  lock(tx: SQL, lockKey: string): Promise<void>;
  tableExists(sql: SQL, table: string): Promise<boolean>;
}

/** How often, and how far apart, a refused switch to WAL is tried (about busy_timeout's 10 s in all). */
const WAL_TRIES = 200;
const WAL_RETRY_MS = 50;

/**
 * SQLite: one file, one writer at a time. `BEGIN IMMEDIATE` takes the write
 * lock at the start, so a read-then-write never interleaves with another
 * process's (any lock key is thus implied).
 */
export const sqlite: Dialect = {
  name: "sqlite",
  async setup(sql) {
    // busy_timeout first: the other pragmas may already have to wait for another process
    await sql`PRAGMA busy_timeout = 10000`;
    // Two processes opening a new file at once (the downloader and the compressor both open the
    // compressor's): the switch to WAL can be refused with SQLITE_BUSY at once, without waiting.
    for (let tries = 1; ; tries++) {
      try {
        await sql`PRAGMA journal_mode = WAL`;
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== "SQLITE_BUSY" || tries >= WAL_TRIES) throw err;
        await Bun.sleep(WAL_RETRY_MS);
      }
    }
    await sql`PRAGMA synchronous = NORMAL`;
  },
  tx: (sql, fn) => sql.begin("IMMEDIATE", fn) as Promise<never>,
  lock: async () => {},
  async tableExists(sql, table) {
    return (await sql`SELECT name FROM sqlite_master WHERE type = 'table' AND name = ${table}`).length > 0;
  },
};

/**
 * PostgreSQL: many writers at once (READ COMMITTED). A read-then-write on one
 * key takes a transaction-scoped advisory lock on the key's 64-bit hash
 * first, so two processes (or machines) doing it on the same key run one
 * after the other; the lock ends with the transaction, also when the client
 * dies. A hash collision only serialises two unrelated keys.
 */
export const postgres: Dialect = {
  name: "postgres",
  async setup() {},
  tx: (sql, fn, lockKey) =>
    sql.begin(async (tx) => {
      if (lockKey !== undefined) await postgres.lock(tx, lockKey);
      return fn(tx);
    }) as Promise<never>,
  async lock(tx, lockKey) {
    await tx`SELECT pg_advisory_xact_lock(hashtextextended(${lockKey}, 0))`;
  },
  async tableExists(sql, table) {
    // to_regclass follows the search path, as unqualified table names in the queries do
    const [row] = await sql`SELECT to_regclass(${table}) IS NOT NULL AS found`;
    return row?.found === true;
  },
};
