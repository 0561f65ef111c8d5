/**
 * @module content
 * The cluster test's files: every byte follows from the URL path, so the
 * file host serves them without storing anything and the test checks each
 * archive entry against the same function (sha256). A path says the file's
 * size and how long its body takes: `/f/<tag>/<size>/<ms>/<name>`.
 * The text is hex of a hash chain: it deflates (so the compressor really
 * compresses it) yet no two files are alike.
 */
import { createHash } from "node:crypto";

export interface FileSpec {
  tag: string;
  size: number;
  ms: number;
  name: string;
}

export const filePath = (f: FileSpec) => `/f/${f.tag}/${f.size}/${f.ms}/${f.name}`;

export function parsePath(path: string): FileSpec | null {
  const m = /^\/f\/([\w-]+)\/(\d+)\/(\d+)\/([\w.-]+)$/.exec(path);
  return m ? { tag: m[1]!, size: Number(m[2]), ms: Number(m[3]), name: m[4]! } : null;
}

/** The bytes of the file at `path` (its size as the path says). */
export function fileBytes(path: string): Uint8Array {
  const spec = parsePath(path);
  if (!spec) throw new Error(`not a fixture path: ${path}`);
  const out = new Uint8Array(spec.size);
  let block = createHash("sha256").update(path).digest();
  let at = 0;
  while (at < spec.size) {
    // 64 hex characters and a newline per link of the chain
    const line = Buffer.from(`${block.toString("hex")}\n`);
    out.set(line.subarray(0, Math.min(line.length, spec.size - at)), at);
    at += line.length;
    block = createHash("sha256").update(block).digest();
  }
  return out;
}

export const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
