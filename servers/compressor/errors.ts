/**
 * @module compressor/errors
 * What decides a compress request's fate: a job that fails for good (as
 * opposed to a passing fault, which is retried), a job another compressor
 * is building (handed back for later, not counted as a failed attempt), and
 * a claim lost mid-build (retried).
 */
import { LinkpackError, TransientError } from "../shared/errors.ts";

/** The archive would not fit in a zip without zip64 (4 GiB, 65535 entries), which fflate cannot write. */
export class ArchiveTooLarge extends LinkpackError {
  override name = "ArchiveTooLarge";
}

/** Another compressor holds a live claim on the job (claims.ts): try again once its lease may have run out. */
export class JobBusy extends LinkpackError {
  override name = "JobBusy";
  constructor(readonly jobId: string, readonly owner: string, readonly retryInMs: number) {
    super(`job ${jobId} is being built by ${owner}`);
  }
}

/** This compressor's claim on a job lapsed while it was building it: another compressor has it now. */
export class ClaimLost extends TransientError {
  override name = "ClaimLost";
  constructor(readonly jobId: string) {
    super(`the claim on job ${jobId} lapsed and was taken over`);
  }
}
