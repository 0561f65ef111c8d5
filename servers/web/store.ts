/**
 * @module store
 * The web server's job store (db.ts: `STATE_DIR/web/jobs.sqlite`, or the
 * PostgreSQL database every web process shares): each job's `JobView`,
 * updated by folding in progress events, so `GET /jobs/<id>` answers at any
 * time, after a restart, on any web process, and for a client that arrives
 * late. An event is folded onto the view this store last wrote and written
 * only if the stored view is still that one (compare and set): one
 * statement per event while one process folds, as it normally does.
 *
 * It is also the outbox of job creation: a job is recorded unpublished, its
 * download messages go out, then it is marked published. A web process that
 * dies in between leaves the job unpublished, and a web process (this one
 * restarted, or another) claims it once it has waited `graceMs` and
 * publishes it (`claimUnpublished`), so an accepted job is never stranded,
 * and a job another process is publishing right now is left to it.
 *
 * It counts each client's recent and unfinished jobs for the per-client
 * limits, in the same transaction as the insert and under that client's
 * lock key, so concurrent posts — to any web process — cannot both slip
 * under a limit.
 */
import { int, migrate, openDb, tableExists, type Db, type Migration, type Sql } from "../shared/db.ts";
import { applyEvent, isFinal, type JobView } from "../shared/jobstate.ts";
import type { JobEvent } from "../shared/messages.ts";

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

/**
 * The jobs of a store file made before this one (the `jobs` table, which
 * bun:sqlite migrated with `PRAGMA user_version`), at whatever version it
 * was: each row moves to `web_jobs` with what the later versions derived
 * from its view. A job of a store from before the outbox was published
 * when it was made; one from before the limits belongs to no known client.
 */
async function takeOverOldTable(sql: Sql): Promise<void> {
  if (!(await tableExists(sql, "jobs"))) return;
  const cols = new Set((await sql`SELECT name FROM pragma_table_info('jobs')`).map((c: { name: string }) => c.name));
  for (const row of await sql`SELECT * FROM jobs`) {
    const job = JSON.parse(row.view) as JobView;
    const createdMs = Date.parse(job.created_at);
    const finished = isFinal(job.state);
    const finishedMs = finished ? (cols.has("finished_ms") && row.finished_ms != null ? int(row.finished_ms) : (job.finished_at ?? createdMs)) : null;
    await sql`INSERT INTO web_jobs (id, created_at, view, client, created_ms, finished, finished_ms, published, publish_ms)
              VALUES (${row.id}, ${row.created_at}, ${row.view}, ${cols.has("client") ? row.client : ""}, ${createdMs},
                      ${finished ? 1 : 0}, ${finishedMs}, ${cols.has("published") ? int(row.published) : 1}, ${createdMs})`;
  }
  await sql`DROP TABLE jobs`;
}

const SCHEMA: Migration[] = [
  async (sql, dialect) => {
    await sql`CREATE TABLE web_jobs (
      id TEXT PRIMARY KEY,
      created_at TEXT NOT NULL,
      view TEXT NOT NULL,
      client TEXT NOT NULL DEFAULT '',
      created_ms BIGINT NOT NULL,
      finished INTEGER NOT NULL DEFAULT 0,
      finished_ms BIGINT,
      published INTEGER NOT NULL DEFAULT 0,
      publish_ms BIGINT NOT NULL
    )`;
    // what the limits count, what retention counts from, what the outbox sweeps
    await sql`CREATE INDEX web_jobs_by_client_time ON web_jobs (client, created_ms)`;
    await sql`CREATE INDEX web_jobs_unfinished_by_client ON web_jobs (client) WHERE finished = 0`;
    await sql`CREATE INDEX web_jobs_finished_ms ON web_jobs (finished_ms) WHERE finished = 1`;
    await sql`CREATE INDEX web_jobs_unpublished ON web_jobs (publish_ms) WHERE published = 0`;
    // Old store files exist only as SQLite (a PostgreSQL database may hold someone else's `jobs`).
    if (dialect === "sqlite") await takeOverOldTable(sql);
  },
];

const view = (row: { view: string }) => JSON.parse(row.view) as JobView;
/** Jobs whose last written view a store keeps, to fold their next event onto without reading it back. */
const FOLDED_JOBS = 1000;

export class JobStore {
  private listeners = new Set<(job: JobView) => void>();
  /** What this store last wrote for a job: the next event is folded onto it without reading it back (the write checks it is still so). */
  private readonly folded = new Map<string, { text: string; job: JobView }>();

  /** Without `limits`, any client may create any number of jobs. The store owns `db` (closes it). */
  private constructor(
    private readonly db: Db,
    private readonly limits?: ClientLimits,
  ) {}

  static async open(db: Db, limits?: ClientLimits): Promise<JobStore> {
    await migrate(db, "web", SCHEMA);
    return new JobStore(db, limits);
  }

  async get(id: string): Promise<JobView | null> {
    const [row] = await this.db.sql`SELECT view FROM web_jobs WHERE id = ${id}`;
    return row ? view(row) : null;
  }

  /**
   * Records a new job of `client`, not yet published; throws `LimitReached`
   * (and records nothing) when that client is over a limit. Check and insert
   * are one transaction holding the client's lock key.
   */
  create(job: JobView, client = "", now = Date.now()): Promise<void> {
    const at = Date.parse(job.created_at);
    return this.db.tx(async (sql) => {
      if (this.limits) await this.checkLimits(sql, client, at, this.limits);
      await sql`INSERT INTO web_jobs (id, created_at, view, client, created_ms, published, publish_ms)
                VALUES (${job.id}, ${job.created_at}, ${JSON.stringify(job)}, ${client}, ${at}, 0, ${now})`;
    }, `web-client:${client}`);
  }

  private async checkLimits(sql: Sql, client: string, at: number, limits: ClientLimits): Promise<void> {
    const [active] = await sql`SELECT COUNT(*) AS n FROM web_jobs WHERE client = ${client} AND finished = 0`;
    if (int(active.n) >= limits.active) throw new LimitReached("active", limits.active);
    // The job that has to leave the window before one more fits: the `perMinute`-th newest in it.
    const [blocking] = await sql`SELECT created_ms FROM web_jobs WHERE client = ${client} AND created_ms > ${at - WINDOW_MS}
                                 ORDER BY created_ms DESC LIMIT 1 OFFSET ${limits.perMinute - 1}`;
    if (blocking) throw new LimitReached("perMinute", limits.perMinute, int(blocking.created_ms) + WINDOW_MS - at);
  }

  /** Notes that every download message of the job is with the broker. */
  async markPublished(id: string): Promise<void> {
    await this.db.sql`UPDATE web_jobs SET published = 1 WHERE id = ${id}`;
  }

  /** Jobs recorded but not (known to be) published, oldest first. */
  async unpublished(): Promise<JobView[]> {
    return (await this.db.sql`SELECT view FROM web_jobs WHERE published = 0 ORDER BY created_ms, id`).map(view);
  }

  /**
   * Takes on the unpublished jobs nobody has tried to publish for `graceMs`
   * (their process died, or is long stuck), oldest first: each is stamped
   * with `now` in the same statement, so another web process sweeping at
   * the same time does not take it too, and tries again only after another
   * `graceMs` should this one die as well.
   */
  async claimUnpublished(graceMs: number, now = Date.now()): Promise<JobView[]> {
    const rows = await this.db.sql`UPDATE web_jobs SET publish_ms = ${now}
      WHERE published = 0 AND publish_ms <= ${now - graceMs} RETURNING view, created_ms`;
    return [...rows].sort((a, b) => int(a.created_ms) - int(b.created_ms)).map(view);
  }

  /**
   * Folds `ev` into its job; returns the new view (null for an unknown job).
   * It folds onto the view this store last wrote for the job (else the
   * stored one, read) and writes the result only if the stored view is still
   * that one (compare and set, no transaction): one statement per event.
   * When another writer got in between, or the job is gone, it reads again.
   */
  async apply(ev: JobEvent): Promise<JobView | null> {
    for (let known = this.folded.get(ev.jobId); ; known = undefined) {
      const remembered = known !== undefined;
      if (!known) {
        const [row] = await this.db.sql`SELECT view FROM web_jobs WHERE id = ${ev.jobId}`;
        if (!row) return null;
        known = { text: row.view, job: view(row) };
      }
      const next = applyEvent(known.job, ev);
      if (next === known.job) {
        if (remembered) continue; // nothing to change (a late copy, say): answer with the stored view
        return next;
      }
      const text = JSON.stringify(next);
      const final = isFinal(next.state);
      const r = await this.db.sql`UPDATE web_jobs SET view = ${text}, finished = ${final ? 1 : 0},
                  finished_ms = ${final ? (next.finished_at ?? Date.now()) : null} WHERE id = ${next.id} AND view = ${known.text}`;
      if ((r.count ?? 0) === 0) continue; // changed since (or gone): read it again
      this.remember(next.id, { text, job: next });
      for (const l of this.listeners) l(next);
      return next;
    }
  }

  /** Notes what was written for job `id` (newest last), forgetting the oldest past FOLDED_JOBS. */
  private remember(id: string, v: { text: string; job: JobView }): void {
    this.folded.delete(id);
    this.folded.set(id, v);
    if (this.folded.size > FOLDED_JOBS) this.folded.delete(this.folded.keys().next().value!);
  }

  /**
   * Forgets jobs that finished before `before` (epoch ms), and unfinished
   * ones made before `staleBefore` (nothing will finish them now); returns
   * how many. Their ids then answer 410 (ids carry their creation time).
   */
  async prune(before: number, staleBefore: number): Promise<number> {
    const r = await this.db.sql`DELETE FROM web_jobs WHERE (finished = 1 AND finished_ms < ${before}) OR (finished = 0 AND created_ms < ${staleBefore})`;
    return r.count ?? 0;
  }

  /** Calls `fn` with every job this process changed (the SSE bridge, metrics). Returns an unsubscribe function. */
  onChange(fn: (job: JobView) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/**
 * Opens the job store in `dir` (`STATE_DIR/web`: the file `jobs.sqlite`), or
 * in the PostgreSQL database `databaseUrl` names.
 */
export async function openJobStore(dir: string, o: { limits?: ClientLimits; databaseUrl?: string } = {}): Promise<JobStore> {
  const db = await openDb(dir, "jobs", o.databaseUrl ?? "");
  try {
    return await JobStore.open(db, o.limits);
  } catch (err) {
    await db.close();
    throw err;
  }
}
