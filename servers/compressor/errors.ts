/**
 * @module compressor/errors
 * Errors that fail a job for good (as opposed to a passing fault, which is retried).
 */
import { LinkpackError } from "../shared/errors.ts";

/** The archive would not fit in a zip without zip64 (4 GiB, 65535 entries), which fflate cannot write. */
export class ArchiveTooLarge extends LinkpackError {
  override name = "ArchiveTooLarge";
}
