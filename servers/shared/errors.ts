/**
 * @module errors
 * The few error classes whose type decides what happens next. Code branches
 * on `instanceof`, never on message text: a `MalformedMessage` is
 * dead-lettered, a `DownloadFailed` fails its file with a message for
 * people (a `RetryableDownload` after retries), and anything else thrown while handling a message (a
 * `TransientError`, or a bug) is retried by the consumer runtime.
 */

/** Base class of linkpack's own errors. */
export class LinkpackError extends Error {}

/** A broker message that does not match its schema: dead-letter it. */
export class MalformedMessage extends LinkpackError {
  override name = "MalformedMessage";
}

/** One URL cannot be fetched (refused address, HTTP error, too large...): fail that file, message is for people. */
export class DownloadFailed extends LinkpackError {
  override name = "DownloadFailed";
}

/**
 * A download that may work if tried again (a 503, a connection reset or cut
 * short, a timeout): the downloader retries it with a backoff before the
 * file fails. `retryAfterMs`: what the server asked for (Retry-After).
 */
export class RetryableDownload extends DownloadFailed {
  override name = "RetryableDownload";
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message);
  }
}

/** A passing fault (broker down, compressor unreachable, shutting down): try again later. */
export class TransientError extends LinkpackError {
  override name = "TransientError";
}
