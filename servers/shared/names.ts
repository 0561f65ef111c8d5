/**
 * @module names
 * The one file-name sanitiser, for downloaded files and zip entries alike: a
 * name can never leave its folder nor make an unsafe zip entry — no path,
 * no `..`, no control or invisible characters (bidi overrides, zero-width),
 * no Windows device name or character Windows refuses, no leading or
 * trailing dot or space — NFC-normalised and at most MAX_NAME_BYTES UTF-8
 * bytes with its extension kept. The downloader names files with it; the
 * compressor applies it again to every entry (a second check) and makes the
 * entries unique.
 */

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
export function fit(stem: string, ext: string, max = MAX_NAME_BYTES): string {
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

/** Cleans an untrusted name. Returns "" when nothing usable is left (the caller then names the file `file-N`). */
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
    s = fit(st, ex);
  }
  return s.replace(/^[. ]+/, "");
}

/** True if `name` is what `sanitizeName` makes (a safe file and entry name). */
export function isSafeName(name: string): boolean {
  return name !== "" && sanitizeName(name) === name;
}

/** Entry names the archive keeps for itself (its manifest and its list of failed URLs): a downloaded file never gets one. */
export const MANIFEST_NAME = "MANIFEST.sha256";
export const FAILED_NAME = "FAILED.txt";

/** Hands out unique, safe entry names for one archive, in the order asked, also for case-insensitive file systems. */
export class EntryNames {
  private readonly taken = new Set<string>([MANIFEST_NAME, FAILED_NAME].map((n) => n.toLowerCase()));

  /** A safe name for `name` (`file-<index+1>` if nothing usable), with ` (2)`, ` (3)`... before the extension if taken. */
  take(name: string | null, index: number): string {
    const base = sanitizeName(name ?? "") || `file-${index + 1}`;
    const [stem, ext] = splitExtension(base);
    let candidate = base;
    for (let n = 2; this.taken.has(candidate.toLowerCase()); n++) candidate = fit(stem, ` (${n})${ext}`);
    this.taken.add(candidate.toLowerCase());
    return candidate;
  }
}
