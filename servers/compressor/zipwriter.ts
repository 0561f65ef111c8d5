/**
 * @module zipwriter
 * Streams files into a zip on disk with fflate's `Zip` container and native
 * deflate (see deflate.ts). Memory stays at about one chunk per entry (or one
 * ONE_SHOT_MAX file), whatever the archive size: each piece fflate emits is
 * written, awaited, before the next piece of input is read. CRC-32 and sizes
 * are computed while streaming, so every entry is checked by unzip as written.
 */
import { open, type FileHandle } from "node:fs/promises";
import { crc32 } from "node:zlib";
import { Zip, type ZipInputFile } from "fflate";
import { ChunkDeflater, deflateWhole, ONE_SHOT_MAX } from "./deflate.ts";
import { methodByName, SAMPLE_BYTES, saves, worthDeflating, type Method } from "./method.ts";
import { ArchiveTooLarge } from "./errors.ts";

/** Largest zip without zip64: every offset and size must fit in 32 bits. */
export const ZIP32_LIMIT = 0xffff_ffff;
export const ZIP32_MAX_ENTRIES = 0xffff;
const CHUNK = 1024 * 1024;

/** One entry: a file to read, or bytes in memory (the archive's own small files). */
export type ZipSource = { name: string; path: string } | { name: string; data: Uint8Array<ArrayBuffer> };

export interface WrittenEntry {
  name: string;
  method: Method;
  size: number;
  compressedSize: number;
  crc32: number;
}

export interface WriteOptions {
  /** called with the input bytes processed so far (all entries) */
  onProgress?: (bytesDone: number) => void;
  /** checked between chunks: an aborted write throws the signal's reason */
  signal?: AbortSignal;
  /** largest archive in bytes (ZIP32_LIMIT; smaller in tests) */
  limit?: number;
}

/** Collects what fflate emits and writes it out in order, counting bytes against the limit. */
class Sink {
  private pending: Uint8Array[] = [];
  private error: Error | null = null;
  bytes = 0;
  constructor(private readonly out: FileHandle, private readonly limit: number) {}
  readonly accept = (err: Error | null, chunk: Uint8Array | null) => {
    if (err) this.error ??= err;
    else if (chunk && chunk.length > 0) this.pending.push(chunk);
  };
  async flush(): Promise<void> {
    if (this.error) throw this.error;
    for (const chunk of this.pending.splice(0)) {
      this.bytes += chunk.length;
      if (this.bytes > this.limit) throw new ArchiveTooLarge(`the archive would exceed ${this.limit} bytes (zip64 is not supported)`);
      for (let off = 0; off < chunk.length; ) off += (await this.out.write(chunk, off, chunk.length - off)).bytesWritten;
    }
  }
}

/** fflate writes DOS dates of 1980-2099 only (it throws outside): another file time becomes "now". */
const dosSafe = (d: Date) => (d.getFullYear() >= 1980 && d.getFullYear() <= 2099 ? d : new Date());

type Bytes = Uint8Array<ArrayBuffer>;
const EMPTY: Bytes = new Uint8Array(0);

/** Reads up to `max` bytes at the file position into a fresh buffer; returns what was read. */
async function readChunk(fh: FileHandle, max: number): Promise<Bytes> {
  const buf = new Uint8Array(max);
  let n = 0;
  while (n < max) {
    const { bytesRead } = await fh.read(buf, n, max - n, null);
    if (bytesRead === 0) break;
    n += bytesRead;
  }
  return buf.subarray(0, n);
}

/** Progress across entries. */
interface Counter {
  done: number;
}

/**
 * Adds one file to `zip`, streaming it through `sink`. The method is decided
 * before the entry starts (its local header names it): by extension, else a
 * small file is deflated whole and kept deflated only if that saves enough,
 * else a big file's first chunk is sampled.
 */
async function addEntry(zip: Zip, sink: Sink, src: ZipSource, opts: WriteOptions, counter: Counter): Promise<WrittenEntry> {
  const data = "data" in src ? src.data : null;
  const fh = "path" in src ? await open(src.path, "r") : null;
  try {
    const st = fh ? await fh.stat() : { size: data!.length, mtime: new Date() };
    const byName = methodByName(src.name);
    const oneShot = byName === null && st.size <= ONE_SHOT_MAX;
    let chunk = fh ? await readChunk(fh, oneShot ? st.size : CHUNK) : data!;
    let method: Method = byName ?? "store";
    let whole: Bytes | null = null;
    if (oneShot) {
      const deflated = deflateWhole(chunk);
      if (saves(chunk.length, deflated.length)) (method = "deflate"), (whole = deflated);
    } else if (byName === null && worthDeflating(chunk.subarray(0, SAMPLE_BYTES))) method = "deflate";

    const file: ZipInputFile = { filename: src.name, size: 0, crc: 0, compression: method === "deflate" ? 8 : 0, mtime: dosSafe(st.mtime) };
    zip.add(file);
    const deflater = method === "deflate" && !whole ? new ChunkDeflater() : null;
    let size = 0;
    let crc = 0;
    let compressed = 0;
    for (;;) {
      opts.signal?.throwIfAborted();
      size += chunk.length;
      crc = crc32(chunk, crc);
      const out = whole ?? (deflater ? deflater.push(chunk) : chunk);
      const next = !fh || oneShot || chunk.length === 0 ? EMPTY : await readChunk(fh, CHUNK);
      const last = next.length === 0;
      const tail = last && deflater ? deflater.finish() : EMPTY;
      compressed += out.length + tail.length;
      if (last) {
        // fflate reads size and CRC when the final chunk arrives (data descriptor and central directory).
        file.size = size;
        file.crc = crc;
      }
      file.ondata!(null, out, false);
      if (last) file.ondata!(null, tail, true);
      await sink.flush();
      counter.done += chunk.length;
      opts.onProgress?.(counter.done);
      if (last) break;
      chunk = next;
    }
    return { name: src.name, method, size, compressedSize: compressed, crc32: crc >>> 0 };
  } finally {
    await fh?.close();
  }
}

/**
 * Writes `sources` (in order) as a zip to `outPath` (created, must not
 * exist), fsyncs it and returns the entries and archive size. Throws
 * `ArchiveTooLarge` past `limit`; on any error the partial file is left for
 * the caller to remove.
 */
export async function writeZip(outPath: string, sources: ZipSource[], opts: WriteOptions = {}): Promise<{ bytes: number; entries: WrittenEntry[] }> {
  if (sources.length > ZIP32_MAX_ENTRIES) throw new ArchiveTooLarge(`${sources.length} entries is more than a zip without zip64 holds`);
  const out = await open(outPath, "wx", 0o644);
  try {
    const sink = new Sink(out, opts.limit ?? ZIP32_LIMIT);
    const zip = new Zip(sink.accept);
    const counter: Counter = { done: 0 };
    const entries: WrittenEntry[] = [];
    for (const src of sources) entries.push(await addEntry(zip, sink, src, opts, counter));
    zip.end();
    await sink.flush();
    await out.sync();
    return { bytes: sink.bytes, entries };
  } finally {
    await out.close();
  }
}
