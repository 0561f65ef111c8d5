/**
 * @module names
 * Zip entry names: each one safe to extract anywhere (no path separators, no
 * `..`, no control characters, not too long) and unique within its archive,
 * also for case-insensitive file systems (`cat.jpg`, `Cat (2).jpg`).
 */

/** Longest entry name in UTF-8 bytes (most file systems allow 255). */
const MAX_NAME_BYTES = 200;

const utf8Length = (s: string) => Buffer.byteLength(s, "utf8");

/** `name` split into stem and extension (`"a.tar.gz"` → `["a.tar", ".gz"]`; a leading dot is part of the stem). */
function splitExt(name: string): [string, string] {
  const dot = name.lastIndexOf(".");
  if (dot <= 0 || dot === name.length - 1 || name.length - dot > 16) return [name, ""];
  return [name.slice(0, dot), name.slice(dot)];
}

/** Cuts `stem` so that `stem + ext` fits in `max` UTF-8 bytes, never inside a character. */
function fit(stem: string, ext: string, max = MAX_NAME_BYTES): string {
  let s = stem;
  while (s.length > 0 && utf8Length(s + ext) > max) s = Array.from(s).slice(0, -1).join("");
  return s + ext;
}

/**
 * A safe version of `name`: separators and control characters become `_`,
 * runs of dots collapse to one, surrounding spaces and dots go. Falls back to
 * `file-<n>` (n = index + 1) when nothing usable is left.
 */
export function safeEntryName(name: string | null, index: number): string {
  let s = (name ?? "")
    .normalize("NFC")
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029/\\]/g, "_")
    .replace(/\.{2,}/g, ".")
    .replace(/^[\s.]+|[\s.]+$/g, "");
  if (!/[^._\s]/.test(s)) s = `file-${index + 1}`;
  const [stem, ext] = splitExt(s);
  return fit(stem, ext);
}

/** True if `name` is a safe entry name (what `safeEntryName` guarantees). */
export function isSafeEntryName(name: string): boolean {
  // eslint-disable-next-line no-control-regex
  return name.length > 0 && !/[\u0000-\u001f\u007f-\u009f/\\]/.test(name) && !name.includes("..") && utf8Length(name) <= MAX_NAME_BYTES;
}

/** Hands out unique names for one archive, in the order asked. */
export class EntryNames {
  private readonly taken = new Set<string>();

  /** A safe name for `name`, with ` (2)`, ` (3)`... before the extension if it is taken. */
  take(name: string | null, index: number): string {
    const base = safeEntryName(name, index);
    const [stem, ext] = splitExt(base);
    let candidate = base;
    for (let n = 2; this.taken.has(candidate.toLowerCase()); n++) candidate = fit(stem, ` (${n})${ext}`);
    this.taken.add(candidate.toLowerCase());
    return candidate;
  }
}
