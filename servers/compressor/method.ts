/**
 * @module method
 * Whether an entry is stored or deflated. Files in formats that are already
 * compressed are stored (deflating them costs time and gains nothing); any
 * other file is deflated only if a sample of it shrinks by a few percent.
 */
import { extname } from "node:path";
import { DEFLATE_LEVEL } from "./deflate.ts";

/** Extensions of formats that are already compressed. */
const COMPRESSED_EXTENSIONS = new Set([
  "jpg", "jpeg", "png", "gif", "webp", "avif", "heic", "heif", "jxl",
  "mp4", "m4v", "mov", "mkv", "webm", "avi",
  "mp3", "m4a", "aac", "ogg", "opus", "flac",
  "zip", "gz", "tgz", "bz2", "xz", "7z", "rar", "zst", "lz4", "br",
  "jar", "apk", "docx", "xlsx", "pptx", "odt", "ods", "epub", "woff", "woff2",
]);

/** Deflate only if it saves at least this fraction of the sample. */
const MIN_SAVING = 0.03;
/** Bytes looked at to decide. */
export const SAMPLE_BYTES = 128 * 1024;

export type Method = "store" | "deflate";

/** "store" for a name whose extension says the content is already compressed. */
export function methodByName(name: string): Method | null {
  return COMPRESSED_EXTENSIONS.has(extname(name).slice(1).toLowerCase()) ? "store" : null;
}

/** The rule: deflated output is kept only if it saves at least MIN_SAVING of its input (and the input is not tiny). */
export function saves(inputBytes: number, deflatedBytes: number): boolean {
  return inputBytes >= 64 && deflatedBytes <= inputBytes * (1 - MIN_SAVING);
}

/** True if deflating `sample` (the start of a big file) would be kept. */
export function worthDeflating(sample: Uint8Array<ArrayBuffer>): boolean {
  if (sample.length < 64) return false;
  return saves(sample.length, Bun.deflateSync(sample, { library: "libdeflate", level: DEFLATE_LEVEL } as Bun.LibdeflateCompressionOptions).length);
}

/** The method of a file named `name` whose first bytes are `sample` (SAMPLE_BYTES, or all of a smaller file). */
export function methodFor(name: string, sample: Uint8Array<ArrayBuffer>): Method {
  return methodByName(name) ?? (worthDeflating(sample.subarray(0, SAMPLE_BYTES)) ? "deflate" : "store");
}
