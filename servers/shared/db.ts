/**
 * @module db
 * Durable state through Bun's SQL client, one code path for two databases:
 * an SQLite file under STATE_DIR by default (nothing to install), or the
 * PostgreSQL database `DATABASE_URL` names, shared by every component on
 * every machine (so each component's tables carry its prefix). What truly
 * differs lives in dialect.ts.
 *
 * Each store module owns its tables and brings its schema as numbered
 * migrations, run at start-up in one transaction holding the migration lock,
 * so several processes starting at once apply each step once. `tx` is the
 * one way to run a read-then-write atomically (short of a single
 * compare-and-set statement, as the web's job store folds events).
 *
 * PostgreSQL hands `int8`/`bigint` (and `COUNT(*)`) to JavaScript as
 * strings: read such columns through `int()`.
 */
import { SQL } from "bun";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { postgres, sqlite, type Dialect, type DialectName } from "./dialect.ts";

export type Sql = SQL;
export type { DialectName };

export interface Db {
  readonly sql: SQL;
  readonly dialect: DialectName;
  /**
   * Runs `fn` in one transaction. SQLite: `BEGIN IMMEDIATE` (the file's
   * write lock from the start; `lockKey` is implied). PostgreSQL: `BEGIN`,
   * then, with `lockKey`, an advisory lock on it, so read-then-write
   * transactions on one key are serialised across processes and machines.
   */
  tx<T>(fn: (sql: SQL) => Promise<T>, lockKey?: string): Promise<T>;
  /**
   * Inside `tx`: holds one more lock key until the transaction ends (a no-op
   * on SQLite). Take several in a fixed order (sorted), so two transactions
   * never wait for each other's.
   */
  lock(tx: SQL, lockKey: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * SQLite files open in this process, shared by every `openDb` of the same
 * file. Bun runs SQLite on the JavaScript thread: a second handle's
 * `BEGIN IMMEDIATE` waiting (busy_timeout) for the first's write lock would
 * block the very thread the first needs to finish, so two handles on one
 * file in one process could only wait for each other. One handle queues
 * its transactions instead.
 */
const sqliteFiles = new Map<string, { sql: Promise<SQL>; refs: number }>();

async function openSqlite(path: string): Promise<SQL> {
  const sql = new SQL(`sqlite://${path}`);
  await sqlite.setup(sql);
  return sql;
}

/** A handle on the SQLite file at `path` (":memory:": a private database); `release` closes it with its last user. */
async function sqliteHandle(path: string): Promise<{ sql: SQL; release(): Promise<void> }> {
  if (path === ":memory:") {
    const sql = await openSqlite(path);
    return { sql, release: () => sql.close() };
  }
  let entry = sqliteFiles.get(path);
  if (!entry) sqliteFiles.set(path, (entry = { sql: openSqlite(path), refs: 0 }));
  entry.refs++;
  const opened = entry;
  let sql: SQL;
  try {
    sql = await opened.sql;
  } catch (err) {
    if (--opened.refs === 0 && sqliteFiles.get(path) === opened) sqliteFiles.delete(path);
    throw err;
  }
  return {
    sql,
    release: async () => {
      if (--opened.refs > 0) return;
      if (sqliteFiles.get(path) === opened) sqliteFiles.delete(path);
      await sql.close();
    },
  };
}

/**
 * Opens the database: PostgreSQL at `databaseUrl` when it is set (`name` is
 * then only the client's label), else (creating) `STATE_DIR/<name>.sqlite`;
 * `":memory:"` as `stateDir` gives a private in-memory SQLite database.
 * Every `Db` is closed on its own (`close` is idempotent).
 */
export async function openDb(stateDir: string, name: string, databaseUrl = ""): Promise<Db> {
  let sql: SQL;
  let dialect: Dialect;
  let release: () => Promise<void>;
  if (databaseUrl) {
    dialect = postgres;
    sql = new SQL(databaseUrl, { adapter: "postgres", max: 10, idleTimeout: 60, connection: { application_name: `linkpack-${name}` } });
    await dialect.setup(sql);
    release = () => sql.close();
  } else {
    dialect = sqlite;
    if (stateDir !== ":memory:") mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    ({ sql, release } = await sqliteHandle(stateDir === ":memory:" ? ":memory:" : resolve(stateDir, `${name}.sqlite`)));
  }
  let closed: Promise<void> | null = null;
  return {
    sql,
    dialect: dialect.name,
    tx: (fn, lockKey) => dialect.tx(sql, fn, lockKey),
    lock: (tx, lockKey) => dialect.lock(tx, lockKey),
    close: () => (closed ??= release()),
  };
}

/** One schema step: statements run in order, or a function for a step that must look first. */
export type Migration = string[] | ((sql: SQL, dialect: DialectName) => Promise<void>);

/** Held while migrating: components sharing one PostgreSQL database migrate one at a time. */
const MIGRATION_LOCK = "linkpack:migrate";

/**
 * Brings `component`'s tables up to date: applies the steps after the
 * recorded version, in one transaction with the version bump, under the
 * migration lock (schema_versions is made inside it too: two PostgreSQL
 * clients creating a table at once can collide even with IF NOT EXISTS).
 * Write schemas in types both accept: `BIGINT` for epoch ms and byte counts
 * (PostgreSQL's `INTEGER` is 32-bit; SQLite's is 64-bit either way).
 */
export async function migrate(db: Db, component: string, steps: Migration[]): Promise<void> {
  await db.tx(async (sql) => {
    await sql`CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)`;
    const [row] = await sql`SELECT version FROM schema_versions WHERE component = ${component}`;
    const from = Number(row?.version ?? 0);
    for (const step of steps.slice(from)) {
      if (typeof step === "function") await step(sql, db.dialect);
      else for (const stmt of step) await sql.unsafe(stmt);
    }
    if (from < steps.length)
      await sql`INSERT INTO schema_versions (component, version) VALUES (${component}, ${steps.length})
                ON CONFLICT (component) DO UPDATE SET version = excluded.version`;
  }, MIGRATION_LOCK);
}

/** Whether `table` exists (for a migration that takes over an older store's rows). */
export function tableExists(sql: SQL, table: string, dialect: DialectName = "sqlite"): Promise<boolean> {
  return (dialect === "postgres" ? postgres : sqlite).tableExists(sql, table);
}

/** An integer column as a number (PostgreSQL sends `int8` as a string); null stays null. */
export function int(v: unknown): number;
export function int(v: unknown, nullable: true): number | null;
export function int(v: unknown, nullable = false): number | null {
  if (v === null || v === undefined) {
    if (nullable) return null;
    throw new TypeError("expected an integer, got null");
  }
  return Number(v);
}

/** SQLSTATE classes and codes that mean "the database is not there right now", not "this query is wrong". */
const UNAVAILABLE_SQLSTATE = /^(08|57P0[1-3]|53300)/;

/**
 * Whether `err` says the database cannot be reached for the moment (a
 * connection refused, closed or timed out, the server shutting down or out
 * of connections; SQLite's lock still held after its busy timeout), rather
 * than that the work is wrong. The consumer runtime retries such work
 * without counting it as a failed attempt: an outage of the database costs
 * time, never a job.
 */
export function storeUnavailable(err: unknown): boolean {
  const code = String((err as { code?: unknown; errno?: unknown } | null)?.code ?? "");
  if (/^ERR_POSTGRES_(CONNECTION_|.*TIMEOUT)/.test(code)) return true;
  if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") return true;
  return UNAVAILABLE_SQLSTATE.test(code);
}
