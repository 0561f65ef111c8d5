/**
 * @module finishedjobs
 * The compressor's durable record of each finished job, one small JSON file
 * per job under STATE_DIR/compressor/. Its existence means "this job is
 * finished, never build it again"; `announced` says whether its final events
 * went out (a crash in between re-announces the same link, never a new one).
 */
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import type { Config } from "../shared/config.ts";
import { finishedJobRecord, finishedJobsDir } from "../shared/jobfiles.ts";

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

export class FinishedJobs {
  private readonly dir: string;

  constructor(private readonly config: Pick<Config, "STATE_DIR">) {
    this.dir = finishedJobsDir(config);
  }

  private path(jobId: string): string {
    return finishedJobRecord(this.config, jobId);
  }

  /** The job's record, or null if it is not finished. */
  async get(jobId: string): Promise<JobRecord | null> {
    try {
      return JSON.parse(await readFile(this.path(jobId), "utf8")) as JobRecord;
    } catch {
      return null;
    }
  }

  /** The ids of every finished job on record. */
  async ids(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.filter((n) => /^[0-9a-f]{32}\.json$/.test(n)).map((n) => n.slice(0, 32));
  }

  /** Forgets the job (retention is over). */
  async remove(jobId: string): Promise<void> {
    await rm(this.path(jobId), { force: true });
  }

  /** Writes the record durably and atomically (temporary file, fsync, rename). */
  async put(rec: JobRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.path(rec.jobId)}.${process.pid}.tmp`;
    const fh = await open(tmp, "w", 0o600);
    try {
      await fh.writeFile(JSON.stringify(rec));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path(rec.jobId));
  }
}
