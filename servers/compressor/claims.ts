/**
 * @module claims
 * Which compressor is building which job, in the shared store (db.ts), so
 * that two compressors on two machines given the same job at once build
 * one archive: a claim (job, owner, lease expiry) is taken in a transaction
 * locked on the job, only if the job has none or its lease has run out; the
 * owner renews it while it builds and releases it when the job is finished.
 * A compressor killed mid-archive renews nothing: its claim lapses after
 * `leaseMs` and the job's redelivered message is built by whoever comes
 * next — at once, if it runs on the same machine and sees that the
 * owner's process is gone (a restart after a crash). Each claim has its own
 * random owner token, which also names its partial archive, so a
 * compressor whose claim lapsed (a zombie) cannot write over its
 * successor's file.
 */
import { randomBytes } from "node:crypto";
import { migrate, type Db } from "../shared/db.ts";
import { ClaimLost } from "./errors.ts";

/** How long a claim holds without being renewed (renewed every third of it). */
export const CLAIM_LEASE_MS = 30_000;

export type Taken = { taken: true; owner: string } | { taken: false; owner: string; expiresAt: number };

const SCHEMA = [["CREATE TABLE compress_claims (job_id TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at BIGINT NOT NULL)"]];

const machinePart = (machine: string) => machine.replace(/[^A-Za-z0-9.-]/g, "_").slice(0, 40);

/** A fresh owner token: this machine and process, and a random part unique to the claim. */
export const newOwner = (machine: string) => `${machinePart(machine)}.${process.pid}.${randomBytes(6).toString("hex")}`;

/** Whether `owner` was a process of `machine` that has ended (then its claim need not lapse first). */
export function ownerGoneHere(owner: string, machine: string): boolean {
  const m = /^(.*)\.(\d+)\.[0-9a-f]+$/.exec(owner);
  if (!m || m[1] !== machinePart(machine)) return false;
  try {
    process.kill(Number(m[2]), 0);
    return false; // alive (or a new process got its pid: waiting for the lease is the safe side)
  } catch (err) {
    return (err as { code?: string }).code === "ESRCH";
  }
}

export class Claims {
  private constructor(
    private readonly db: Db,
    readonly leaseMs: number,
  ) {}

  static async open(db: Db, leaseMs = CLAIM_LEASE_MS): Promise<Claims> {
    await migrate(db, "compressor-claims", SCHEMA);
    return new Claims(db, leaseMs);
  }

  /** Claims `jobId` for `owner` unless another owner's lease is still running and `gone` does not say it has ended. */
  take(jobId: string, owner: string, now = Date.now(), gone: (owner: string) => boolean = () => false): Promise<Taken> {
    return this.db.tx(async (sql): Promise<Taken> => {
      const [row] = await sql`SELECT owner, expires_at FROM compress_claims WHERE job_id = ${jobId}`;
      if (row && row.owner !== owner && Number(row.expires_at) > now && !gone(String(row.owner))) return { taken: false, owner: String(row.owner), expiresAt: Number(row.expires_at) };
      await sql`INSERT INTO compress_claims (job_id, owner, expires_at) VALUES (${jobId}, ${owner}, ${now + this.leaseMs})
                ON CONFLICT (job_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at`;
      return { taken: true, owner };
    }, `compress:${jobId}`);
  }

  /** Extends `owner`'s lease; false if the claim is no longer its own (it lapsed and was taken over). */
  async renew(jobId: string, owner: string, now = Date.now()): Promise<boolean> {
    const r = await this.db.sql`UPDATE compress_claims SET expires_at = ${now + this.leaseMs} WHERE job_id = ${jobId} AND owner = ${owner}`;
    return (r.count ?? 0) > 0;
  }

  /** Gives the claim up (the job is finished, or its attempt failed). */
  async release(jobId: string, owner: string): Promise<void> {
    await this.db.sql`DELETE FROM compress_claims WHERE job_id = ${jobId} AND owner = ${owner}`;
  }

  /** The owners whose lease is still running, by job (to tell live partial archives from dead ones). */
  async live(now = Date.now()): Promise<Map<string, string>> {
    const rows = await this.db.sql`SELECT job_id, owner FROM compress_claims WHERE expires_at > ${now}`;
    return new Map(rows.map((r: { job_id: string; owner: string }) => [String(r.job_id), String(r.owner)]));
  }

  /** Forgets claims whose lease ran out long ago (a compressor died holding them). */
  async prune(now = Date.now()): Promise<number> {
    const r = await this.db.sql`DELETE FROM compress_claims WHERE expires_at < ${now - this.leaseMs}`;
    return r.count ?? 0;
  }
}

/**
 * Keeps `owner`'s claim on `jobId` alive while `fn` runs, renewing it every
 * third of the lease; if a renewal finds the claim gone (this process
 * stalled past its lease and another took over), `fn`'s signal is aborted
 * with `ClaimLost`. The claim is released afterwards either way.
 */
export async function holding<T>(claims: Claims, jobId: string, owner: string, signal: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const lost = new AbortController();
  const both = signal ? AbortSignal.any([signal, lost.signal]) : lost.signal;
  const timer = setInterval(() => {
    void claims.renew(jobId, owner).then(
      (ok) => ok || lost.abort(new ClaimLost(jobId)),
      () => {}, // the store is away for a moment: the lease has room for the next try
    );
  }, Math.max(10, Math.floor(claims.leaseMs / 3)));
  try {
    return await fn(both);
  } finally {
    clearInterval(timer);
    await claims.release(jobId, owner).catch(() => {}); // if this fails the lease runs out by itself
  }
}
