/**
 * @module store
 * The web server's job store (bun:sqlite under STATE_DIR): each job's
 * `JobView`, updated by folding in progress events, so `GET /jobs/<id>`
 * answers at any time, after a restart, and for a client that arrives late.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { applyEvent, type JobView } from "../shared/jobstate.ts";
import type { JobEvent } from "../shared/messages.ts";

export class JobStore {
  private db: Database;
  private getStmt;
  private putStmt;
  private listeners = new Set<(job: JobView) => void>();

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.db = new Database(`${dir}/jobs.sqlite`, { create: true });
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    this.db.exec("CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, view TEXT NOT NULL)");
    this.getStmt = this.db.query<{ view: string }, [string]>("SELECT view FROM jobs WHERE id = ?");
    this.putStmt = this.db.query("INSERT INTO jobs (id, created_at, view) VALUES (?1, ?2, ?3) ON CONFLICT(id) DO UPDATE SET view = excluded.view");
  }

  get(id: string): JobView | null {
    const row = this.getStmt.get(id);
    return row ? (JSON.parse(row.view) as JobView) : null;
  }

  /** Records a new job. */
  create(job: JobView): void {
    this.putStmt.run(job.id, job.created_at, JSON.stringify(job));
  }

  /** Folds `ev` into its job; returns the new view (null for an unknown job). */
  apply(ev: JobEvent): JobView | null {
    const job = this.get(ev.jobId);
    if (!job) return null;
    const next = applyEvent(job, ev);
    if (next !== job) {
      this.putStmt.run(next.id, next.created_at, JSON.stringify(next));
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
