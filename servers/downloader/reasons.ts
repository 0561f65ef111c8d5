/**
 * @module reasons
 * Turns low-level errors (fetch, sockets, TLS, the file system) into a
 * `DownloadFailed` whose message a person understands. Decided by the
 * error's `code`, never by its message text.
 */
import { DownloadFailed, RetryableDownload } from "../shared/errors.ts";

const code = (err: unknown): string => String((err as { code?: unknown } | null)?.code ?? "");

const TLS_TEXT: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: "self-signed certificate",
  SELF_SIGNED_CERT_IN_CHAIN: "self-signed certificate in the chain",
  CERT_HAS_EXPIRED: "certificate has expired",
  CERT_NOT_YET_VALID: "certificate is not yet valid",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "certificate issuer is unknown",
  UNABLE_TO_GET_ISSUER_CERT: "certificate issuer is unknown",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "certificate issuer is unknown",
  CERT_REVOKED: "certificate was revoked",
  CERT_UNTRUSTED: "certificate is not trusted",
  ERR_TLS_CERT_ALTNAME_INVALID: "certificate does not match the host name",
  HOSTNAME_MISMATCH: "certificate does not match the host name",
};

const NET_TEXT: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by the server",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
  EPIPE: "connection closed by the server",
  ConnectionClosed: "connection closed by the server",
  ConnectionRefused: "connection refused",
  FailedToOpenSocket: "could not open a connection",
  UnexpectedEOF: "connection closed by the server",
  HTTP2Unsupported: "server does not speak a supported HTTP version",
};

/** Connection-level failures where trying the host's next address makes sense. */
export function isConnectFailure(err: unknown): boolean {
  return ["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL", "ConnectionRefused", "FailedToOpenSocket"].includes(code(err));
}

/** Network failures that may pass: the connection was refused, reset or cut, or timed out; DNS answered "try again". */
const PASSING = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ConnectionClosed", "ConnectionRefused", "UnexpectedEOF", "EAI_AGAIN"]);

/**
 * A fetch/socket error as a `DownloadFailed` (an existing one passes
 * through): a `RetryableDownload` for failures that may pass, a plain one
 * for the others (TLS, an unknown host).
 */
export function networkFailure(err: unknown, host: string): DownloadFailed {
  if (err instanceof DownloadFailed) return err;
  const c = code(err);
  if (TLS_TEXT[c]) return new DownloadFailed(`TLS certificate error: ${TLS_TEXT[c]}${c === "ERR_TLS_CERT_ALTNAME_INVALID" ? ` (${host})` : ""}`);
  if (/CERT|TLS|SSL/.test(c)) return new DownloadFailed(`TLS certificate error: ${c.toLowerCase().replaceAll("_", " ")}`);
  if (NET_TEXT[c]) return PASSING.has(c) ? new RetryableDownload(NET_TEXT[c]!) : new DownloadFailed(NET_TEXT[c]!);
  if (c === "EAI_AGAIN") return new RetryableDownload(`could not resolve host ${host} (the name server said: try again)`);
  if (c === "ENOTFOUND" || c === "DNSResolutionFailed") return new DownloadFailed(`could not resolve host ${host}`);
  return new DownloadFailed(`could not download: ${c || (err instanceof Error ? err.message : String(err))}`);
}

const DISK_TEXT: Record<string, string> = {
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is used up",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "the file system is read-only",
  EIO: "an input/output error",
  EMFILE: "too many open files",
  ENOENT: "its folder disappeared",
  ENOTDIR: "its folder is not a folder",
  EISDIR: "a folder is in the way",
};

/** A file-system error while saving as a `DownloadFailed`. */
export function diskFailure(err: unknown): DownloadFailed {
  const c = code(err);
  return new DownloadFailed(`could not save the file: ${DISK_TEXT[c] ?? "file system error"}${c ? ` (${c})` : ""}`);
}
