/**
 * @module errors
 * The few error classes whose type decides what happens next. Code branches
 * on `instanceof` (or `recoverable`), never on message text.
 */

/** Base class: `recoverable` means "try again later", otherwise fail that unit of work. */
export class LinkpackError extends Error {
  readonly recoverable: boolean = false;
}

/** A broker message that does not match its schema: dead-letter it. */
export class MalformedMessage extends LinkpackError {
  override name = "MalformedMessage";
}

/** One URL cannot be fetched (refused address, HTTP error, too large...): fail that file, message is for people. */
export class DownloadFailed extends LinkpackError {
  override name = "DownloadFailed";
}

/** A passing fault (broker down, compressor unreachable): retry later. */
export class TransientError extends LinkpackError {
  override name = "TransientError";
  override readonly recoverable = true;
}
