/**
 * @module finishedjobs
 * The compressor's durable record of each finished job, one row per job in
 * the shared store (db.ts: SQLite under STATE_DIR, or PostgreSQL), so every
 * compressor and downloader on every machine sees the same answer. A row
 * means "this job is finished, never build it again"; `announced` says
 * whether its final events went out (a crash in between re-announces the
 * same link, never a new one). The first record of a job wins (`create`):
 * two compressors racing can never record two different endings.
 *
 * Older installations kept one JSON file per job under STATE_DIR/compressor/;
 * a migration step imports them, and `open` removes each imported file.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import { migrate, type Db, type Migration } from "./db.ts";

export interface JobRecord {
  jobId: string;
  state: "ready" | "failed" | "cancelled";
  /** signed link, its expiry (ISO), archive size and entry count, for "ready" */
  link: string | null;
  expiresAt: string | null;
  bytes: number;
  entries: number;
  error: string | null;
  announced: boolean;
  finishedAt: string;
  /** the archive was deleted because its link expired (sweeper.ts) */
  swept?: boolean;
}

/** Where the JSON records of older compressors were kept (under STATE_DIR). */
export const legacyRecordsDir = (stateDir: string) => `${stateDir}/compressor`;
const LEGACY_NAME = /^([0-9a-f]{32})\.json$/;

const toMs = (iso: string | null) => (iso === null ? null : Date.parse(iso));
const toIso = (ms: unknown) => (ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString());

function fromRow(r: Record<string, unknown>): JobRecord {
  return {
    jobId: String(r.job_id),
    state: r.state as JobRecord["state"],
    link: (r.link as string | null) ?? null,
    expiresAt: toIso(r.expires_at),
    bytes: Number(r.bytes),
    entries: Number(r.entries),
    error: (r.error as string | null) ?? null,
    announced: Number(r.announced) === 1,
    finishedAt: toIso(r.finished_at)!,
    swept: Number(r.swept) === 1,
  };
}

/** The row of `rec`, column by column (booleans as integers: portable SQL). */
function toRow(rec: JobRecord) {
  return {
    job_id: rec.jobId,
    state: rec.state,
    link: rec.link,
    expires_at: toMs(rec.expiresAt),
    bytes: rec.bytes,
    entries: rec.entries,
    error: rec.error,
    announced: rec.announced ? 1 : 0,
    finished_at: toMs(rec.finishedAt),
    swept: rec.swept ? 1 : 0,
  };
}

async function insert(sql: Db["sql"], rec: JobRecord): Promise<boolean> {
  const r = toRow(rec);
  const res = await sql`INSERT INTO compress_finished (job_id, state, link, expires_at, bytes, entries, error, announced, finished_at, swept)
    VALUES (${r.job_id}, ${r.state}, ${r.link}, ${r.expires_at}, ${r.bytes}, ${r.entries}, ${r.error}, ${r.announced}, ${r.finished_at}, ${r.swept})
    ON CONFLICT (job_id) DO NOTHING`;
  return (res.count ?? 0) > 0;
}

/** The schema; step 2 imports the JSON records found in `legacyDir`. */
function schema(legacyDir: string): Migration[] {
  return [
    [
      `CREATE TABLE compress_finished (
        job_id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        link TEXT,
        expires_at BIGINT,
        bytes BIGINT NOT NULL,
        entries INTEGER NOT NULL,
        error TEXT,
        announced INTEGER NOT NULL,
        finished_at BIGINT NOT NULL,
        swept INTEGER NOT NULL DEFAULT 0
      )`,
    ],
    async (sql) => {
      for (const name of await readdir(legacyDir).catch(() => [] as string[])) {
        if (!LEGACY_NAME.test(name)) continue;
        const rec = await readFile(`${legacyDir}/${name}`, "utf8").then((t) => JSON.parse(t) as JobRecord, () => null);
        if (rec?.jobId && rec.finishedAt) await insert(sql, rec); // an unreadable file was being written: the job was not finished
      }
    },
  ];
}

export class FinishedJobs {
  private constructor(private readonly db: Db) {}

  /**
   * The records in `db` (its schema brought up to date). `legacyDir`: the
   * folder of an older compressor's JSON records (`legacyRecordsDir`), to
   * import; every opener passes it, since whichever opens first migrates.
   */
  static async open(db: Db, legacyDir: string): Promise<FinishedJobs> {
    await migrate(db, "compressor", schema(legacyDir));
    // Imported (in the migration's committed transaction): the files can go.
    for (const name of await readdir(legacyDir).catch(() => [] as string[])) {
      const m = LEGACY_NAME.exec(name);
      if (m && (await db.sql`SELECT 1 AS x FROM compress_finished WHERE job_id = ${m[1]!}`).length > 0) await rm(`${legacyDir}/${name}`, { force: true });
    }
    return new FinishedJobs(db);
  }

  /** The job's record, or null if it is not finished. */
  async get(jobId: string): Promise<JobRecord | null> {
    const [row] = await this.db.sql`SELECT * FROM compress_finished WHERE job_id = ${jobId}`;
    return row ? fromRow(row) : null;
  }

  /** Whether the job is finished (downloaders drop its late messages). */
  async has(jobId: string): Promise<boolean> {
    return (await this.db.sql`SELECT 1 AS x FROM compress_finished WHERE job_id = ${jobId}`).length > 0;
  }

  /** The ids of every finished job on record. */
  async ids(): Promise<string[]> {
    const rows = await this.db.sql`SELECT job_id FROM compress_finished ORDER BY job_id`;
    return rows.map((r: { job_id: string }) => String(r.job_id));
  }

  /** Records the job as finished unless it already is; true if this record is the one kept. */
  create(rec: JobRecord): Promise<boolean> {
    return insert(this.db.sql, rec);
  }

  /** Its final events went out. */
  async markAnnounced(jobId: string): Promise<void> {
    await this.db.sql`UPDATE compress_finished SET announced = 1 WHERE job_id = ${jobId}`;
  }

  /** Its archive was deleted because its link expired. */
  async markSwept(jobId: string): Promise<void> {
    await this.db.sql`UPDATE compress_finished SET swept = 1 WHERE job_id = ${jobId}`;
  }

  /** Forgets the job (retention is over). */
  async remove(jobId: string): Promise<void> {
    await this.db.sql`DELETE FROM compress_finished WHERE job_id = ${jobId}`;
  }
}
