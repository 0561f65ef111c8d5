/**
 * @module filename
 * A safe file name for a download: taken from Content-Disposition or the last
 * URL path segment, then cleaned so that it can never leave the job folder
 * nor make an unsafe zip entry (no path, no `..`, no control or invisible
 * characters, no Windows device name), at most ~150 UTF-8 bytes with its
 * extension kept. The compressor makes names unique; this keeps them safe.
 */
import { dispositionFilename } from "./disposition.ts";

export const MAX_NAME_BYTES = 150;

const RESERVED = /^(con|prn|aux|nul|com[1-9¹²³]|lpt[1-9¹²³])$/i;
/** Control (Cc) and format (Cf: bidi overrides, zero-width, BOM, soft hyphen) characters, line/paragraph separators. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;
/** Characters Windows refuses in names (the zip may be unpacked there). */
const WINDOWS_BAD = /[<>:"|?*]/g;

const utf8Length = (s: string) => Buffer.byteLength(s, "utf8");

/** Splits off a plausible extension (".tar.gz" counts as ".gz"; the stem keeps ".tar"). */
export function splitExtension(name: string): [stem: string, ext: string] {
  const m = /^(.+?)(\.[\p{L}\p{N}_+-]{1,16})$/u.exec(name);
  return m ? [m[1]!, m[2]!] : [name, ""];
}

/** Cuts `stem` (by whole code points) so that `stem + ext` fits in `max` UTF-8 bytes. */
function fit(stem: string, ext: string, max: number): string {
  if (utf8Length(ext) > max / 2) ext = "";
  const room = max - utf8Length(ext);
  let out = "";
  let used = 0;
  for (const ch of stem) {
    const n = utf8Length(ch);
    if (used + n > room) break;
    out += ch;
    used += n;
  }
  return out.replace(/[. ]+$/, "") + ext;
}

/**
 * Cleans an untrusted name. Returns "" when nothing usable is left (the
 * caller then names the file `file-N`).
 */
export function sanitizeName(raw: string): string {
  let s = raw.normalize("NFC").replace(INVISIBLE, "");
  // keep only the last path segment, whatever the separator
  s = s.split(/[/\\]/).filter((p) => p.trim() !== "").pop() ?? "";
  s = s.replace(WINDOWS_BAD, "_").replace(/\s+/gu, " ");
  s = s.replace(/\.{2,}/g, ".").replace(/^[. ]+/, "").replace(/[. ]+$/, "");
  if (!s) return "";
  // Windows treats "con.txt" and "CON .tar.gz" as the device too
  if (RESERVED.test(s.split(".")[0]!.trim())) s = `_${s}`;
  if (utf8Length(s) > MAX_NAME_BYTES) {
    const [st, ex] = splitExtension(s);
    s = fit(st, ex, MAX_NAME_BYTES);
  }
  return s.replace(/^[. ]+/, "");
}

const TYPES: Record<string, string> = {
  "image/jpeg": ".jpg",
  "image/png": ".png",
  "image/gif": ".gif",
  "image/webp": ".webp",
  "image/avif": ".avif",
  "image/svg+xml": ".svg",
  "image/tiff": ".tif",
  "application/pdf": ".pdf",
  "application/zip": ".zip",
  "application/gzip": ".gz",
  "application/x-gzip": ".gz",
  "application/x-tar": ".tar",
  "application/json": ".json",
  "application/xml": ".xml",
  "text/xml": ".xml",
  "text/plain": ".txt",
  "text/html": ".html",
  "text/css": ".css",
  "text/csv": ".csv",
  "text/markdown": ".md",
  "text/javascript": ".js",
  "application/javascript": ".js",
  "audio/mpeg": ".mp3",
  "audio/ogg": ".ogg",
  "audio/wav": ".wav",
  "video/mp4": ".mp4",
  "video/webm": ".webm",
};

/** The usual extension for a Content-Type ("" if unknown or generic). */
export function extensionFor(contentType: string | null | undefined): string {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  return TYPES[type] ?? "";
}

/** The last path segment of a URL, percent-decoded (kept raw if the encoding is broken). */
export function urlName(url: URL): string {
  const seg = url.pathname.split("/").pop() ?? "";
  try {
    return decodeURIComponent(seg);
  } catch {
    return seg;
  }
}

/**
 * The safe name for URL `index` of a job: Content-Disposition's name, else
 * the URL's last segment, else `file-<index+1>`; an extension from
 * Content-Type is added when the name has none.
 */
export function chooseName(o: { disposition?: string | null; url: URL; contentType?: string | null; index: number }): string {
  const ext = extensionFor(o.contentType);
  const name = sanitizeName(dispositionFilename(o.disposition) ?? "") || sanitizeName(urlName(o.url));
  if (!name) return `file-${o.index + 1}${ext}`;
  if (!splitExtension(name)[1] && ext) return sanitizeName(name + ext);
  return name;
}
