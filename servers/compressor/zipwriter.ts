/**
 * @module zipwriter
 * Streams files into a zip on disk with fflate's `Zip` container and native
 * deflate (see deflate.ts) on every core (deflatepool.ts). A reader runs a
 * few entries ahead of the writer: it opens each file, decides its method
 * and hands compressible files (whole, up to ONE_SHOT_MAX) to the pool, while
 * the writer puts the finished entries into the container strictly in order;
 * a big compressible file is deflated as 1 MiB chunks, a few in the pool at
 * once, and a big stored one is read a chunk ahead of the one being written
 * (two buffers, used in turn). Memory stays bounded (AHEAD_BYTES read ahead,
 * CHUNKS_AHEAD chunks) whatever the archive size: each piece fflate emits is
 * written, awaited, before the next is added. CRC-32 and sizes are computed while streaming
 * (a stored chunk's CRC while the chunk is being written),
 * so every entry is checked by unzip as written. The disk is asked to write
 * each megabyte as soon as it is written (KICK_BYTES), and a big archive is
 * datasynced in the background as it grows (shared/writeback.ts).
 */
import { open, type FileHandle } from "node:fs/promises";
import { crc32 } from "node:zlib";
import { Zip, type ZipInputFile } from "fflate";
import { ONE_SHOT_MAX, STREAM_END } from "./deflate.ts";
import { sharedPool, type DeflatePool } from "./deflatepool.ts";
import { methodByName, methodFor, saves, type Method } from "./method.ts";
import { ArchiveTooLarge } from "./errors.ts";
import { startWriteback } from "./fileranges.ts";
import { BackgroundSync } from "../shared/writeback.ts";

/** Largest zip without zip64: every offset and size must fit in 32 bits. */
export const ZIP32_LIMIT = 0xffff_ffff;
export const ZIP32_MAX_ENTRIES = 0xffff;

/** The archive would be past `limit` bytes. */
export const tooLarge = (limit: number) => new ArchiveTooLarge(`the archive would exceed ${limit} bytes (zip64 is not supported)`);
/** Throws `ArchiveTooLarge` if `entries` entries are more than a zip without zip64 holds. */
export function checkEntries(entries: number): void {
  if (entries > ZIP32_MAX_ENTRIES) throw new ArchiveTooLarge(`${entries} entries is more than a zip without zip64 holds`);
}
const CHUNK = 1024 * 1024;
/**
 * Bytes written between two nudges to the kernel to start writing them to
 * disk (sync_file_range WRITE, no wait; fileranges.ts): the disk writes a
 * small archive while the rest of it is copied, so the final fsync finds
 * less left (photos, 40-job A/B x3: first compress event to link 43/35/39 ->
 * 33/29/33 ms).
 */
export const KICK_BYTES = 1024 * 1024;
/** Input bytes the reader may hold ahead of the entry being written (the current entry always proceeds). */
const AHEAD_BYTES = 32 * 1024 * 1024;
/** Entries the reader may be ahead of the writer. */
const AHEAD_ENTRIES = 16;
/** Chunks of one big compressible file in the pool at once. */
const CHUNKS_AHEAD = 4;

/** What one write asks of the pool. */
type Deflater = Pick<DeflatePool, "deflate">;

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
  /** where compressible files are deflated (the process's shared pool by default) */
  pool?: DeflatePool;
}

/** Where the container's bytes go: `accept` is fflate's callback, `flush` puts what it gave out (in order) and fails as the output does. */
export interface EntrySink {
  readonly accept: (err: Error | null, chunk: Uint8Array | null, final: boolean) => void;
  flush(): Promise<void>;
}

/** Collects what fflate emits and writes it out in order, counting bytes against the limit. */
class Sink implements EntrySink {
  private pending: Uint8Array[] = [];
  private error: Error | null = null;
  private kicked = 0;
  private readonly writeBack: BackgroundSync;
  bytes = 0;
  constructor(private readonly out: FileHandle, private readonly limit: number) {
    this.writeBack = new BackgroundSync(out);
  }
  readonly accept = (err: Error | null, chunk: Uint8Array | null) => {
    if (err) this.error ??= err;
    else if (chunk && chunk.length > 0) this.pending.push(chunk);
  };
  async flush(): Promise<void> {
    if (this.error) throw this.error;
    if (this.writeBack.failure) throw this.writeBack.failure;
    for (const chunk of this.pending.splice(0)) {
      this.bytes += chunk.length;
      if (this.bytes > this.limit) throw tooLarge(this.limit);
      for (let off = 0; off < chunk.length; ) off += (await this.out.write(chunk, off, chunk.length - off)).bytesWritten;
      if (this.bytes - this.kicked >= KICK_BYTES) {
        startWriteback(this.out.fd, this.kicked, this.bytes - this.kicked);
        this.kicked = this.bytes;
      }
      this.writeBack.wrote(this.bytes);
    }
  }

  /** Resolves once no background datasync uses the file (before it is closed). */
  idle(): Promise<void> {
    return this.writeBack.idle();
  }

  /** Writes what is pending, then makes the whole file durable (fsync). */
  async sync(): Promise<void> {
    await this.flush();
    await this.writeBack.idle();
    if (this.writeBack.failure) throw this.writeBack.failure;
    await this.out.sync();
  }
}

/** fflate writes DOS dates of 1980-2099 only (it throws outside): another file time becomes "now". */
export const dosSafe = (d: Date) => (d.getFullYear() >= 1980 && d.getFullYear() <= 2099 ? d : new Date());

type Bytes = Uint8Array<ArrayBuffer>;
const EMPTY: Bytes = new Uint8Array(0);

/** A buffer of `n` bytes of its own (not zeroed: only what is read into it is ever used). */
const fresh = (n: number): Bytes => new Uint8Array(Buffer.allocUnsafeSlow(n).buffer as ArrayBuffer, 0, n);

/** Reads up to `max` bytes at the file position into `reuse` (if it is big enough) or a fresh buffer; returns what was read. */
async function readChunk(fh: FileHandle, max: number, reuse?: Bytes): Promise<Bytes> {
  const buf = reuse && reuse.length >= max ? reuse : fresh(max);
  let n = 0;
  while (n < max) {
    const { bytesRead } = await fh.read(buf, n, max - n, null);
    if (bytesRead === 0) break;
    n += bytesRead;
  }
  return n === max ? buf : buf.subarray(0, n);
}

/** An entry the reader has prepared: all of it in memory (deflated or not), or a file to stream from its first chunk. */
type Ready =
  | { kind: "memory"; name: string; method: Method; mtime: Date; size: number; crc: number; out: Bytes }
  | { kind: "stream"; name: string; method: Method; mtime: Date; fh: FileHandle; first: Bytes };

/** Progress across entries. */
export interface Counter {
  done: number;
}

/**
 * Prepares one entry. The method is decided before the entry starts (its
 * local header names it): by extension, else a small file is deflated whole
 * (in the pool) and kept deflated only if that saves enough, else a big
 * file's first chunk is sampled. A stored file that fits in its first chunk
 * is then whole in memory and its file closed: the writer puts it out in
 * one write. `held` receives an open file handle.
 */
async function prepare(src: ZipSource, pool: Deflater, held: Set<FileHandle>): Promise<{ ready: Promise<Ready>; cost: number }> {
  const byName = methodByName(src.name);
  let input: Bytes, mtime: Date;
  if ("data" in src) {
    input = new Uint8Array(src.data); // a copy: the pool moves its input
    mtime = new Date();
  } else {
    const fh = await open(src.path, "r");
    held.add(fh);
    const st = await fh.stat();
    mtime = dosSafe(st.mtime);
    if (byName !== null || st.size > ONE_SHOT_MAX) {
      // a small file's first chunk is the whole file: no bigger buffer than it needs
      const first = await readChunk(fh, Math.min(CHUNK, Math.max(1, st.size)));
      const method = methodFor(src.name, first);
      if (method === "store" && first.length === st.size) {
        // all of it, as long as fstat said: an entry in memory (written in one piece, its file closed now)
        held.delete(fh);
        await fh.close();
        return { ready: Promise.resolve({ kind: "memory", name: src.name, method, mtime, size: first.length, crc: crc32(first) >>> 0, out: first }), cost: first.length };
      }
      return { ready: Promise.resolve({ kind: "stream", name: src.name, method, mtime, fh, first }), cost: first.length };
    }
    input = await readChunk(fh, st.size);
    held.delete(fh);
    await fh.close();
  }
  const stored = (data: Bytes, crc: number): Ready => ({ kind: "memory", name: src.name, method: "store", mtime, size: data.length, crc, out: data });
  if (byName !== null || input.length < 64) return { ready: Promise.resolve(stored(input, crc32(input) >>> 0)), cost: input.length };
  const ready = pool.deflate("whole", input).then((d): Ready =>
    saves(d.input.length, d.out.length)
      ? { kind: "memory", name: src.name, method: "deflate", mtime, size: d.input.length, crc: d.crc!, out: d.out }
      : stored(d.input, d.crc!),
  );
  return { ready, cost: input.length };
}

/**
 * Adds one prepared entry to `zip`, streaming it through `sink`; a streamed
 * compressible file goes through the pool CHUNKS_AHEAD chunks at a time,
 * written back in file order; a streamed stored one reads its next chunk
 * while the last is written.
 */
async function addEntry(zip: Zip, sink: EntrySink, r: Ready, pool: Deflater, opts: WriteOptions, counter: Counter): Promise<WrittenEntry> {
  const file: ZipInputFile = { filename: r.name, size: 0, crc: 0, compression: r.method === "deflate" ? 8 : 0, mtime: r.mtime };
  zip.add(file);
  const emit = async (out: Bytes, inputBytes: number) => {
    file.ondata!(null, out, false);
    await sink.flush();
    counter.done += inputBytes;
    opts.onProgress?.(counter.done);
  };
  let size = 0, crc = 0, compressed = 0;
  if (r.kind === "memory") {
    opts.signal?.throwIfAborted();
    (size = r.size), (crc = r.crc), (compressed = r.out.length);
    // fflate reads size and CRC when the final chunk arrives (data descriptor and central directory).
    (file.size = size), (file.crc = crc);
    file.ondata!(null, r.out, false);
    file.ondata!(null, EMPTY, true);
    await sink.flush();
    counter.done += size;
    opts.onProgress?.(counter.done);
  } else if (r.method === "store") {
    // The next chunk is read while this one is written, into the other of two buffers.
    const spare: Bytes[] = [];
    let chunk = r.first;
    while (chunk.length > 0) {
      opts.signal?.throwIfAborted();
      size += chunk.length;
      const next = readChunk(r.fh, CHUNK, spare.pop());
      next.catch(() => {}); // seen below, after the write
      compressed += chunk.length;
      // the CRC is computed while the chunk is being written (off this thread), not before
      const written = emit(chunk, chunk.length);
      crc = crc32(chunk, crc);
      await written;
      if (chunk.buffer.byteLength === CHUNK) spare.push(new Uint8Array(chunk.buffer));
      chunk = await next;
    }
    (file.size = size), (file.crc = crc);
    file.ondata!(null, EMPTY, true);
    await sink.flush();
  } else {
    const inflight: Promise<{ input: Bytes; out: Bytes }>[] = [];
    // Chunk buffers are used again once written (or back from the pool): a 1 GiB file
    // churns through a few buffers, not a thousand that wait for the garbage collector.
    const spare: Bytes[] = [];
    const recycle = (b: Bytes) => b.buffer.byteLength === CHUNK && spare.length <= CHUNKS_AHEAD && spare.push(new Uint8Array(b.buffer));
    let chunk = r.first;
    for (;;) {
      opts.signal?.throwIfAborted();
      while (chunk.length > 0 && inflight.length < CHUNKS_AHEAD) {
        size += chunk.length;
        crc = crc32(chunk, crc);
        const piece = pool.deflate("chunk", chunk);
        piece.catch(() => {}); // dropped if this write fails first; else awaited below
        inflight.push(piece);
        chunk = await readChunk(r.fh, CHUNK, spare.pop());
      }
      const piece = inflight.shift();
      if (!piece) break;
      const { input, out } = await piece;
      compressed += out.length;
      await emit(out, input.length);
      recycle(input);
    }
    compressed += STREAM_END.length;
    (file.size = size), (file.crc = crc);
    file.ondata!(null, STREAM_END, true);
    await sink.flush();
  }
  return { name: r.name, method: r.method, size, compressedSize: compressed, crc32: crc >>> 0 };
}

/**
 * Writes `sources` (in order) as a zip to `outPath` (created, must not
 * exist), fsyncs it and returns the entries and archive size. Throws
 * `ArchiveTooLarge` past `limit`; on any error the partial file is left for
 * the caller to remove.
 */
export async function writeZip(outPath: string, sources: ZipSource[], opts: WriteOptions = {}): Promise<{ bytes: number; entries: WrittenEntry[] }> {
  checkEntries(sources.length);
  const out = await open(outPath, "wx", 0o644);
  const writer = new EntryWriter(sources, opts);
  const sink = new Sink(out, opts.limit ?? ZIP32_LIMIT);
  try {
    const zip = new Zip(sink.accept);
    const entries = await writer.writeAll(zip, sink, { done: 0 });
    zip.end();
    await sink.sync();
    return { bytes: sink.bytes, entries };
  } finally {
    await writer.close();
    await sink.idle();
    await out.close();
  }
}

/**
 * Puts `sources` into a container, in order: a reader prepares them ahead
 * (ReadAhead) and deflates in the pool, this writes them one by one.
 * `close()` stops the reader, drops its deflates still waiting and closes
 * the files it left open (always call it, also after a failure).
 */
export class EntryWriter {
  private readonly over = new AbortController();
  private readonly pool: Deflater;
  private readonly held = new Set<FileHandle>();
  private readonly ahead: ReadAhead;

  constructor(private readonly sources: ZipSource[], private readonly opts: WriteOptions) {
    const shared = opts.pool ?? sharedPool();
    // this write's tasks that still wait in the pool when it ends (it failed) are dropped
    this.pool = { deflate: (kind, input) => shared.deflate(kind, input, this.over.signal) };
    this.ahead = new ReadAhead(sources, this.pool, this.held);
  }

  async writeAll(zip: Zip, sink: EntrySink, counter: Counter): Promise<WrittenEntry[]> {
    const entries: WrittenEntry[] = [];
    for (let i = 0; i < this.sources.length; i++) {
      const r = await this.ahead.get(i);
      try {
        entries.push(await addEntry(zip, sink, r, this.pool, this.opts, counter));
      } finally {
        // (not waited for: nothing was written through it, and the next entry need not wait)
        if (r.kind === "stream") this.held.delete(r.fh), void r.fh.close().catch(() => {});
      }
      this.ahead.written(i);
    }
    return entries;
  }

  async close(): Promise<void> {
    this.over.abort();
    await this.ahead.stop();
    await Promise.allSettled([...this.held].map((fh) => fh.close()));
  }
}

/**
 * The reader: prepares entries in order, at most AHEAD_ENTRIES and
 * AHEAD_BYTES ahead of the writer (the entry being written is always
 * prepared, so one file larger than the budget still goes through).
 */
class ReadAhead {
  private readonly slots: PromiseWithResolvers<Ready>[];
  private readonly costs: number[];
  private writing = 0;
  private aheadBytes = 0;
  private stopped = false;
  private wake: (() => void) | null = null;
  private readonly loop: Promise<void>;

  constructor(private readonly sources: ZipSource[], private readonly pool: Deflater, private readonly held: Set<FileHandle>) {
    this.slots = sources.map(() => {
      const d = Promise.withResolvers<Ready>();
      d.promise.catch(() => {}); // a failure is seen by the writer when it gets there
      return d;
    });
    this.costs = sources.map(() => 0);
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    for (let i = 0; i < this.sources.length && !this.stopped; i++) {
      while (!this.stopped && i > this.writing && (i - this.writing >= AHEAD_ENTRIES || this.aheadBytes >= AHEAD_BYTES)) await new Promise<void>((r) => (this.wake = r));
      if (this.stopped) break;
      try {
        const { ready, cost } = await prepare(this.sources[i]!, this.pool, this.held);
        this.costs[i] = cost;
        this.aheadBytes += cost;
        this.slots[i]!.resolve(ready);
      } catch (err) {
        this.slots[i]!.reject(err);
        break;
      }
    }
  }

  /** Entry `i`, once prepared. */
  get(i: number): Promise<Ready> {
    return this.slots[i]!.promise;
  }

  /** Entry `i` is in the archive: its budget goes back to the reader. */
  written(i: number): void {
    this.aheadBytes -= this.costs[i]!;
    this.writing = i + 1;
    this.wake?.();
  }

  /** Stops reading ahead and waits for the reader to stop (the caller closes what it left open). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    // entries prepared but never written: their files are in `held`, their deflates are dropped
  }
}
