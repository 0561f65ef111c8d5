/**
 * @module migrate
 * The job store's schema, as numbered steps. `PRAGMA user_version` records
 * how many a file has had, so a store file from any earlier version is
 * brought up to date when it is opened, and a new file goes the same way.
 */
import type { Database } from "bun:sqlite";
import { isFinal, type JobView } from "../shared/jobstate.ts";

const hasColumn = (db: Database, name: string) => db.query<{ name: string }, []>("PRAGMA table_info(jobs)").all().some((c) => c.name === name);

const steps: ((db: Database) => void)[] = [
  // 1. The outbox flag. A store from before it: its jobs were published when they were made.
  (db) => {
    if (!hasColumn(db, "published")) db.exec("ALTER TABLE jobs ADD COLUMN published INTEGER NOT NULL DEFAULT 1");
  },
  // 2. Who made each job, when (ms) and whether it has finished: what the per-client limits count.
  (db) => {
    db.exec("ALTER TABLE jobs ADD COLUMN client TEXT NOT NULL DEFAULT ''");
    db.exec("ALTER TABLE jobs ADD COLUMN created_ms INTEGER NOT NULL DEFAULT 0");
    db.exec("ALTER TABLE jobs ADD COLUMN finished INTEGER NOT NULL DEFAULT 0");
    const set = db.query("UPDATE jobs SET created_ms = ?2, finished = ?3 WHERE id = ?1");
    for (const { id, view } of db.query<{ id: string; view: string }, []>("SELECT id, view FROM jobs").all()) {
      const job = JSON.parse(view) as JobView;
      set.run(id, Date.parse(job.created_at), isFinal(job.state) ? 1 : 0);
    }
    db.exec("CREATE INDEX jobs_by_client_time ON jobs (client, created_ms)");
    db.exec("CREATE INDEX jobs_unfinished_by_client ON jobs (client) WHERE finished = 0");
  },
  // 3. When each job finished (ms): what retention counts from.
  (db) => {
    db.exec("ALTER TABLE jobs ADD COLUMN finished_ms INTEGER");
    const set = db.query("UPDATE jobs SET finished_ms = ?2 WHERE id = ?1");
    for (const { id, view } of db.query<{ id: string; view: string }, []>("SELECT id, view FROM jobs WHERE finished = 1").all()) {
      const job = JSON.parse(view) as JobView;
      set.run(id, job.finished_at ?? Date.parse(job.created_at));
    }
    db.exec("CREATE INDEX jobs_finished_ms ON jobs (finished_ms) WHERE finished = 1");
  },
];

/** Creates or upgrades the `jobs` table; each step is one transaction (two processes opening a file at once cannot both run it). */
export function migrate(db: Database): void {
  db.exec("CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, view TEXT NOT NULL)");
  const version = () => db.query<{ user_version: number }, []>("PRAGMA user_version").get()!.user_version;
  for (let v = version(); v < steps.length; v = version())
    db.transaction(() => {
      if (version() !== v) return; // another process got there first
      steps[v]!(db);
      db.exec(`PRAGMA user_version = ${v + 1}`);
    }).immediate();
}
