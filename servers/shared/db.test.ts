/**
 * db.ts on both databases: migrations when several processes start at once,
 * the lock key of `tx` across processes, integers as numbers, rollback.
 */
import { afterEach, expect, test } from "bun:test";
import { describeEachDialect, type Place } from "../../test/support/dialects.ts";
import { WORKER_STEPS } from "../../test/support/dbworker.ts";
import { int, migrate, openDb, tableExists, type Db } from "./db.ts";

let opened: Db[] = [];
afterEach(async () => {
  for (const d of opened) await d.close();
  opened = [];
});

const WORKER = `${import.meta.dir}/../../test/support/dbworker.ts`;

/** Runs `n` worker processes at once on `p`, each with `args`; resolves when all have exited 0. */
async function processes(n: number, p: Place, ...args: string[]): Promise<void> {
  const procs = Array.from({ length: n }, () => Bun.spawn([process.execPath, WORKER, p.stateDir, p.databaseUrl, ...args], { stdout: "inherit", stderr: "pipe" }));
  for (const proc of procs) {
    const code = await proc.exited;
    if (code !== 0) throw new Error(`worker exited ${code}: ${await new Response(proc.stderr).text()}`);
  }
}

describeEachDialect("db", (place, dialect) => {
  const open = async (p: Place) => {
    const db = await openDb(p.stateDir, "dbtest", p.databaseUrl);
    opened.push(db);
    return db;
  };

  test("four processes starting at once apply each migration step once", async () => {
    const p = await place();
    await processes(4, p, "migrate");
    const db = await open(p);
    expect(db.dialect).toBe(dialect);
    expect(int((await db.sql`SELECT COUNT(*) AS n FROM dbtest_runs`)[0].n)).toBe(1);
    expect(int((await db.sql`SELECT version FROM schema_versions WHERE component = ${"dbtest"}`)[0].version)).toBe(3);
    expect(await tableExists(db.sql, "dbtest_runs", dialect)).toBe(true);
    expect(await tableExists(db.sql, "dbtest_nothing", dialect)).toBe(false);
    // one more step later: only it runs
    await migrate(db, "dbtest", [...WORKER_STEPS, async (sql) => void (await sql`INSERT INTO dbtest_runs (n) VALUES (2)`)]);
    await processes(2, p, "migrate"); // an older version starting now changes nothing
    expect((await db.sql`SELECT n FROM dbtest_runs ORDER BY n`).map((r: { n: unknown }) => int(r.n))).toEqual([1, 2]);
  }, 60_000);

  test.if(dialect === "sqlite")("processes opening a new SQLite file at the same instant all open it (its switch to WAL can be refused at once)", async () => {
    for (let round = 0; round < 12; round++) {
      const p = await place();
      await processes(2, p, "migrate-at", String(Date.now() + 250));
      expect(int((await (await open(p)).sql`SELECT COUNT(*) AS n FROM dbtest_runs`)[0].n)).toBe(1);
    }
  }, 60_000);

  test("read-then-write transactions on one lock key, from several processes, never lose an update", async () => {
    const p = await place();
    await migrate(await open(p), "dbtest", WORKER_STEPS);
    await processes(3, p, "bump", "15");
    const [row] = await (await open(p)).sql`SELECT n FROM dbtest_counters WHERE k = 'c'`;
    expect(int(row.n)).toBe(45);
  }, 60_000);

  test("two Dbs on one database in one process (two stores, or two tests' servers) run read-then-write transactions at once", async () => {
    const p = await place();
    const [a, b] = [await open(p), await open(p)];
    await migrate(a, "dbtest", WORKER_STEPS);
    const bump = (db: Db) =>
      db.tx(async (sql) => {
        const [row] = await sql`SELECT n FROM dbtest_counters WHERE k = 'c'`;
        await Bun.sleep(1);
        await sql`UPDATE dbtest_counters SET n = ${int(row.n) + 1} WHERE k = 'c'`;
      }, "dbtest:c");
    await Promise.all(Array.from({ length: 20 }, (_, i) => bump(i % 2 ? a : b)));
    await a.close();
    expect(int((await b.sql`SELECT n FROM dbtest_counters WHERE k = 'c'`)[0].n)).toBe(20); // closing one leaves the other open
  });

  test("integers come back as numbers through int(), epoch milliseconds included", async () => {
    const db = await open(await place());
    await migrate(db, "dbtest-int", [["CREATE TABLE dbtest_ints (at BIGINT, small INTEGER)"]]);
    const at = Date.parse("2030-01-01T00:00:00Z");
    await db.sql`INSERT INTO dbtest_ints (at, small) VALUES (${at}, ${7}), (${null}, ${null})`;
    const rows = await db.sql`SELECT at, small, COUNT(*) OVER () AS n FROM dbtest_ints ORDER BY at IS NULL, at`;
    expect(rows.map((r: Record<string, unknown>) => [int(r.at, true), int(r.small, true), int(r.n)])).toEqual([
      [at, 7, 2],
      [null, null, 2],
    ]);
  });

  test("a failed transaction leaves nothing behind", async () => {
    const db = await open(await place());
    await migrate(db, "dbtest-rollback", [["CREATE TABLE dbtest_rb (k TEXT PRIMARY KEY)"]]);
    const failing = db.tx(async (sql) => {
      await sql`INSERT INTO dbtest_rb (k) VALUES ('x')`;
      throw new Error("changed my mind");
    }, "dbtest:rb");
    await expect(failing).rejects.toThrow("changed my mind");
    expect(await db.sql`SELECT k FROM dbtest_rb`).toHaveLength(0);
  });
});
