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
 *
 * It counts each client's recent and unfinished jobs for the per-client
 * limits, in the same transaction as the insert, so concurrent posts cannot
 * both slip under a limit. (The limit queries live here so that a shared
 * store can take them over.)
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { applyEvent, isFinal, type JobView } from "../shared/jobstate.ts";
import type { JobEvent } from "../shared/messages.ts";
import { migrate } from "./migrate.ts";

/** Per client: most new jobs per minute, and most unfinished jobs. */
export interface ClientLimits {
  perMinute: number;
  active: number;
}

/** A client may not create a job now; `retryAfterMs` says when it may (when the store can tell). */
export class LimitReached extends Error {
  override name = "LimitReached";
  constructor(
    readonly limit: "perMinute" | "active",
    readonly max: number,
    readonly retryAfterMs?: number,
  ) {
    super(`client limit reached: ${limit} ${max}`);
  }
}

const WINDOW_MS = 60_000;

export class JobStore {
  private db: Database;
  private getStmt;
  private putStmt;
  private insertStmt;
  private activeStmt;
  private recentStmt;
  private listeners = new Set<(job: JobView) => void>();

  /** Without `limits`, any client may create any number of jobs. */
  constructor(
    dir: string,
    private readonly limits?: ClientLimits,
  ) {
    mkdirSync(dir, { recursive: true });
    this.db = new Database(`${dir}/jobs.sqlite`, { create: true });
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    migrate(this.db);
    this.getStmt = this.db.query<{ view: string }, [string]>("SELECT view FROM jobs WHERE id = ?");
    this.putStmt = this.db.query("UPDATE jobs SET view = ?2, finished = ?3, finished_ms = ?4 WHERE id = ?1");
    this.insertStmt = this.db.query("INSERT INTO jobs (id, created_at, view, published, client, created_ms) VALUES (?1, ?2, ?3, 0, ?4, ?5)");
    this.activeStmt = this.db.query<{ n: number }, [string]>("SELECT COUNT(*) AS n FROM jobs WHERE client = ? AND finished = 0");
    // The job that has to leave the window before one more fits: the `perMinute`-th newest in it.
    this.recentStmt = this.db.query<{ created_ms: number }, [string, number, number]>(
      "SELECT created_ms FROM jobs WHERE client = ?1 AND created_ms > ?2 ORDER BY created_ms DESC LIMIT 1 OFFSET ?3",
    );
  }

  get(id: string): JobView | null {
    const row = this.getStmt.get(id);
    return row ? (JSON.parse(row.view) as JobView) : null;
  }

  /**
   * Records a new job of `client`, not yet published; throws `LimitReached`
   * (and records nothing) when that client is over a limit. Check and insert
   * are one `BEGIN IMMEDIATE` transaction.
   */
  create(job: JobView, client = ""): void {
    const at = Date.parse(job.created_at);
    this.db
      .transaction(() => {
        if (this.limits) this.checkLimits(client, at, this.limits);
        this.insertStmt.run(job.id, job.created_at, JSON.stringify(job), client, at);
      })
      .immediate();
  }

  private checkLimits(client: string, at: number, limits: ClientLimits): void {
    if (this.activeStmt.get(client)!.n >= limits.active) throw new LimitReached("active", limits.active);
    const blocking = this.recentStmt.get(client, at - WINDOW_MS, limits.perMinute - 1);
    if (blocking) throw new LimitReached("perMinute", limits.perMinute, blocking.created_ms + WINDOW_MS - at);
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
      const final = isFinal(next.state);
      this.putStmt.run(next.id, JSON.stringify(next), final ? 1 : 0, final ? (next.finished_at ?? Date.now()) : null);
      for (const l of this.listeners) l(next);
    }
    return next;
  }

  /**
   * Forgets jobs that finished before `before` (epoch ms), and unfinished
   * ones made before `staleBefore` (nothing will finish them now); returns
   * how many. Their ids then answer 410 (ids carry their creation time).
   */
  prune(before: number, staleBefore: number): number {
    return this.db.run("DELETE FROM jobs WHERE (finished = 1 AND finished_ms < ?1) OR (finished = 0 AND created_ms < ?2)", [before, staleBefore]).changes;
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
