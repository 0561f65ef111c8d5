/**
 * @module dialects
 * The store tests run once per database: `describeEachDialect` repeats a
 * block for SQLite and for PostgreSQL (the run's private cluster,
 * support/postgres.ts), and `place()` gives each test somewhere of its own
 * to keep state — a temporary STATE_DIR, and for PostgreSQL a fresh
 * database too — removed after the block. Without PostgreSQL the second
 * block is skipped (and named so), except in CI, where that fails.
 */
import { afterAll, describe } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import type { DialectName } from "../../servers/shared/db.ts";
import { freshDatabase, postgresAvailable, type TestDatabase } from "./postgres.ts";

/** Where one test keeps its state: pass both to `openDb(stateDir, name, databaseUrl)`. */
export interface Place {
  stateDir: string;
  /** "" for SQLite */
  databaseUrl: string;
}

let available: boolean | undefined;

export function describeEachDialect(title: string, body: (place: () => Promise<Place>, dialect: DialectName) => void): void {
  for (const dialect of ["sqlite", "postgres"] as const) {
    const run = dialect === "sqlite" || (available ??= postgresAvailable());
    (run ? describe : describe.skip)(`${title} [${dialect}]`, () => {
      const dirs: string[] = [];
      const dbs: TestDatabase[] = [];
      body(async () => {
        const stateDir = mkdtempSync(`${tmpdir()}/linkpack-state-`);
        dirs.push(stateDir);
        if (dialect === "sqlite") return { stateDir, databaseUrl: "" };
        const db = await freshDatabase();
        dbs.push(db);
        return { stateDir, databaseUrl: db.url };
      }, dialect);
      // after the block's own hooks (which close what they opened)
      afterAll(async () => {
        for (const d of dbs) await d.drop();
        for (const d of dirs) rmSync(d, { recursive: true, force: true });
      });
    });
  }
}
