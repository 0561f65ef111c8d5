/**
 * @module link
 * The one home of the signed download link: where an archive lives, the path
 * nginx serves it at, how that path is signed for nginx's
 * `secure_link_md5 "$secure_link_expires$uri <secret>"` and how a link is
 * checked. The nginx template's `location` is rendered from `LINK_LOCATION`,
 * the compressor signs with `signLink`, the guard keys its ledger by
 * `linkKey`, and the web server accepts a link only if `verifyLink` agrees.
 *
 *   PUBLIC_URL/d/<folder>/<job id>.zip?md5=<sig>&expires=<epoch s>
 *
 * <folder> is an HMAC of the job id under the link secret: unguessable, yet
 * the same on every attempt, so a redo after a crash replaces the same file.
 */
import { createHash, createHmac } from "node:crypto";
import { isId } from "./ids.ts";
import { tokenMatches } from "./secrets.ts";

/** nginx's location regex for archives (also the only keys the guard keeps state for). */
export const LINK_LOCATION = "^/d/([0-9a-f]{32})/([0-9a-f]{32})\\.zip$";
const LINK_PATH = new RegExp(LINK_LOCATION);

/** The job's unguessable, deterministic archive folder (32 hex characters). */
export function archiveFolder(secret: string, jobId: string): string {
  return createHmac("sha256", secret).update(`archive:${jobId}`).digest("hex").slice(0, 32);
}

/** The path nginx serves the job's archive at (the signed part of the link). */
export const archiveUri = (folder: string, jobId: string) => `/d/${folder}/${jobId}.zip`;

/** Where an archive path (`/d/<folder>/<job>.zip`) lives on disk under ARCHIVES_DIR. */
export const archiveFile = (archivesDir: string, uri: string) => `${archivesDir}${uri.slice("/d".length)}`;

/** The link path of a request URI (query dropped), or null if it is not an archive path. */
export function linkKey(uri: string | null | undefined): string | null {
  if (!uri) return null;
  const path = uri.split("?", 1)[0]!;
  return LINK_PATH.test(path) ? path : null;
}

/** A link's `expires` (epoch seconds, as nginx checked it) in epoch ms, or null if it is not one. */
export function linkExpiry(expires: string | null | undefined): number | null {
  const n = Number(expires ?? NaN);
  return Number.isSafeInteger(n) && n > 0 ? n * 1000 : null;
}

/** The signature nginx recomputes for `uri` valid until `expires` (epoch seconds): unpadded base64url MD5. */
export function signature(uri: string, expires: number, secret: string): string {
  return createHash("md5").update(`${expires}${uri} ${secret}`).digest("base64url");
}

/** A full signed link: `origin + uri?md5=...&expires=...`. */
export function signLink(origin: string, uri: string, expires: number, secret: string): string {
  return `${origin}${uri}?md5=${signature(uri, expires, secret)}&expires=${expires}`;
}

/** The link of job `jobId`'s archive, valid until `expires` (epoch seconds). */
export function jobLink(o: { publicUrl: string; secret: string; jobId: string; expires: number }): string {
  return signLink(o.publicUrl, archiveUri(archiveFolder(o.secret, o.jobId), o.jobId), o.expires, o.secret);
}

/**
 * True if `link` is exactly job `jobId`'s archive link under `publicUrl`,
 * signed with `secret`, expiring at `expiresAt` (ISO) when given.
 */
export function verifyLink(link: string, o: { publicUrl: string; secret: string; jobId: string; expiresAt?: string }): boolean {
  if (!isId(o.jobId) || !link.startsWith(`${o.publicUrl}/`)) return false;
  let u: URL;
  try {
    u = new URL(link);
  } catch {
    return false;
  }
  const expires = Number(u.searchParams.get("expires"));
  if (!Number.isSafeInteger(expires) || expires <= 0) return false;
  if (o.expiresAt !== undefined && Date.parse(o.expiresAt) !== expires * 1000) return false;
  return tokenMatches(link, jobLink({ publicUrl: o.publicUrl, secret: o.secret, jobId: o.jobId, expires })); // constant time
}
