/**
 * A process of its own on a test's database (db.test.ts): `migrate` runs the
 * test's migrations, `bump <n>` does n read-then-write increments under one
 * lock key. Several of these at once are what several servers starting or
 * working at once do. `migrate-at <epoch ms>` waits (spinning) until then
 * before it opens the database, so processes open a new file at the same
 * instant. Usage: bun dbworker.ts <stateDir> <databaseUrl|""> migrate|migrate-at|bump [n]
 */
import { int, migrate, openDb, type Migration } from "../../servers/shared/db.ts";

/** The test's schema: step 2 is not idempotent (run twice, it would insert twice). */
export const WORKER_STEPS: Migration[] = [
  ["CREATE TABLE dbtest_runs (n INTEGER NOT NULL)", "CREATE TABLE dbtest_counters (k TEXT PRIMARY KEY, n BIGINT NOT NULL)"],
  async (sql) => void (await sql`INSERT INTO dbtest_runs (n) VALUES (1)`),
  ["INSERT INTO dbtest_counters (k, n) VALUES ('c', 0)", "ALTER TABLE dbtest_runs ADD COLUMN at BIGINT"],
];

if (import.meta.main) {
  const [stateDir, databaseUrl, action, n] = process.argv.slice(2);
  if (action === "migrate-at") while (Date.now() < Number(n)) {}
  const db = await openDb(stateDir!, "dbtest", databaseUrl);
  try {
    if (action === "migrate" || action === "migrate-at") await migrate(db, "dbtest", WORKER_STEPS);
    else
      for (let i = 0; i < Number(n); i++)
        await db.tx(async (sql) => {
          const [row] = await sql`SELECT n FROM dbtest_counters WHERE k = 'c'`;
          await Bun.sleep(1); // another process may read meanwhile, were it not for the lock
          await sql`UPDATE dbtest_counters SET n = ${int(row.n) + 1} WHERE k = 'c'`;
        }, "dbtest:c");
  } finally {
    await db.close();
  }
}
