/**
 * @module store
 * The web server's job store (bun:sqlite under STATE_DIR): each job's
 * `JobView`, updated by folding in progress events, so `GET /jobs/<id>`
 * answers at any time, after a restart, and for a client that arrives late.
 *
 * It is also the outbox of job creation: a job is recorded unpublished, its
 * download messages go out, then it is marked published. A web process that
 * dies in between leaves the job unpublished, and the next one publishes it
 * (`unpublished()`), so an accepted job is never stranded.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { applyEvent, type JobView } from "../shared/jobstate.ts";
import type { JobEvent } from "../shared/messages.ts";

export class JobStore {
  private db: Database;
  private getStmt;
  private putStmt;
  private insertStmt;
  private listeners = new Set<(job: JobView) => void>();

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.db = new Database(`${dir}/jobs.sqlite`, { create: true });
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    this.db.exec("CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, view TEXT NOT NULL, published INTEGER NOT NULL DEFAULT 1)");
    // A store from before the outbox: its jobs were published when they were made.
    const cols = this.db.query<{ name: string }, []>("PRAGMA table_info(jobs)").all();
    if (!cols.some((c) => c.name === "published")) this.db.exec("ALTER TABLE jobs ADD COLUMN published INTEGER NOT NULL DEFAULT 1");
    this.getStmt = this.db.query<{ view: string }, [string]>("SELECT view FROM jobs WHERE id = ?");
    this.putStmt = this.db.query("UPDATE jobs SET view = ?2 WHERE id = ?1");
    this.insertStmt = this.db.query("INSERT INTO jobs (id, created_at, view, published) VALUES (?1, ?2, ?3, 0)");
  }

  get(id: string): JobView | null {
    const row = this.getStmt.get(id);
    return row ? (JSON.parse(row.view) as JobView) : null;
  }

  /** Records a new job, not yet published. */
  create(job: JobView): void {
    this.insertStmt.run(job.id, job.created_at, JSON.stringify(job));
  }

  /** Notes that every download message of the job is with the broker. */
  markPublished(id: string): void {
    this.db.run("UPDATE jobs SET published = 1 WHERE id = ?", [id]);
  }

  /** Jobs recorded but not (known to be) published, oldest first. */
  unpublished(): JobView[] {
    return this.db
      .query<{ view: string }, []>("SELECT view FROM jobs WHERE published = 0 ORDER BY created_at")
      .all()
      .map((r) => JSON.parse(r.view) as JobView);
  }

  /** Folds `ev` into its job; returns the new view (null for an unknown job). */
  apply(ev: JobEvent): JobView | null {
    const job = this.get(ev.jobId);
    if (!job) return null;
    const next = applyEvent(job, ev);
    if (next !== job) {
      this.putStmt.run(next.id, JSON.stringify(next));
      for (const l of this.listeners) l(next);
    }
    return next;
  }

  /** Calls `fn` with every changed job (used by the SSE bridge). Returns an unsubscribe function. */
  onChange(fn: (job: JobView) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  close(): void {
    this.db.close();
  }
}
