/**
 * @module disposition
 * The file name a server suggests in `Content-Disposition` (RFC 6266):
 * `filename*` (RFC 5987/8187, percent-encoded with a charset) wins over
 * `filename` (token or quoted string). The result is raw and untrusted:
 * `filename.ts` sanitises it.
 */

const PARAM = /;\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;

function unquote(v: string): string {
  const t = v.trim();
  return t.startsWith('"') && t.endsWith('"') && t.length >= 2 ? t.slice(1, -1).replace(/\\(.)/g, "$1") : t;
}

/** Decodes an RFC 5987 ext-value (`UTF-8'en'na%C3%AFve.txt`), or null if it is not one. */
export function decodeExtValue(value: string): string | null {
  const m = /^([\w!#$%&+^`{}~-]+)'[\w-]*'(.*)$/.exec(unquote(value));
  if (!m) return null;
  const charset = m[1]!.toLowerCase();
  const bytes: number[] = [];
  const text = m[2]!;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "%" && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(text[i]!, "utf8"));
  }
  try {
    if (charset === "utf-8" || charset === "utf8") return new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(bytes));
    if (charset === "iso-8859-1" || charset === "latin1" || charset === "us-ascii") return String.fromCharCode(...bytes);
  } catch {
    return null;
  }
  return null;
}

/** HTTP header values arrive as Latin-1; a raw UTF-8 name (common, non-standard) is decoded back. */
function fixRawUtf8(s: string): string {
  if (!/[\x80-\xff]/.test(s) || /[^\x00-\xff]/.test(s)) return s;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(s, "latin1"));
  } catch {
    return s;
  }
}

/** The suggested file name from a Content-Disposition header, or null. */
export function dispositionFilename(header: string | null | undefined): string | null {
  if (!header) return null;
  let plain: string | null = null;
  let ext: string | null = null;
  for (const m of `;${header}`.matchAll(PARAM)) {
    const name = m[1]!.toLowerCase();
    if (name === "filename*" && ext === null) ext = decodeExtValue(m[2]!);
    else if (name === "filename" && plain === null) plain = fixRawUtf8(unquote(m[2]!));
  }
  const chosen = ext ?? plain;
  return chosen && chosen.trim() ? chosen : null;
}
