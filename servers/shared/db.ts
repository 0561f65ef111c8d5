/**
 * @module db
 * Durable state through Bun's SQL client: an SQLite file under STATE_DIR
 * (nothing to install). Each store module owns its tables and brings its
 * schema as numbered migrations, run at start-up inside one immediate
 * transaction, so several processes starting at once apply each step once.
 * `tx` is the one way to run a read-then-write atomically.
 */
import { SQL } from "bun";
import { mkdirSync } from "node:fs";

export type Sql = SQL;

export interface Db {
  readonly sql: SQL;
  /**
   * Runs `fn` in a transaction that holds the write lock from its start
   * (SQLite `BEGIN IMMEDIATE`). `lockKey` names what it serialises on (on
   * PostgreSQL an advisory transaction lock; SQLite's write lock covers it).
   */
  tx<T>(fn: (sql: SQL) => Promise<T>, lockKey?: string): Promise<T>;
  close(): Promise<void>;
}

/**
 * Opens (creating) `STATE_DIR/<name>.sqlite`; `":memory:"` as `stateDir` gives
 * a private in-memory database. `databaseUrl` (DATABASE_URL) is where
 * PostgreSQL support plugs in; this SQLite-only version ignores it.
 */
export async function openDb(stateDir: string, name: string, _databaseUrl = ""): Promise<Db> {
  let url = "sqlite://:memory:";
  if (stateDir !== ":memory:") {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    url = `sqlite://${stateDir}/${name}.sqlite`;
  }
  const sql = new SQL(url);
  // busy_timeout first: the other pragmas may already have to wait for another process
  await sql`PRAGMA busy_timeout = 10000`;
  await sql`PRAGMA journal_mode = WAL`;
  await sql`PRAGMA synchronous = NORMAL`;
  return {
    sql,
    tx: (fn, _lockKey) => sql.begin("IMMEDIATE", fn) as Promise<never>,
    close: () => sql.close(),
  };
}

/** One schema step: statements run in order, or a function for a step that must look first. */
export type Migration = string[] | ((sql: SQL) => Promise<void>);

/**
 * Brings `component`'s tables up to date: applies the steps after the
 * recorded version, in one transaction with the version bump.
 */
export async function migrate(db: Db, component: string, steps: Migration[]): Promise<void> {
  await db.sql`CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)`;
  await db.tx(async (sql) => {
    const [row] = await sql`SELECT version FROM schema_versions WHERE component = ${component}`;
    const from = Number(row?.version ?? 0);
    for (const step of steps.slice(from)) {
      if (typeof step === "function") await step(sql);
      else for (const stmt of step) await sql.unsafe(stmt);
    }
    if (from < steps.length)
      await sql`INSERT INTO schema_versions (component, version) VALUES (${component}, ${steps.length})
                ON CONFLICT (component) DO UPDATE SET version = excluded.version`;
  });
}

/** Whether `table` exists (for a migration that takes over an older store's rows). */
export async function tableExists(sql: SQL, table: string): Promise<boolean> {
  const rows = await sql`SELECT name FROM sqlite_master WHERE type = 'table' AND name = ${table}`;
  return rows.length > 0;
}
