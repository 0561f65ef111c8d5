/**
 * @module inplace
 * An archive made of a downloaded file itself: when a job's first file is
 * big and stored, its bytes are already on disk where the archive needs
 * them, after a local header. Instead of copying them into a new file, a
 * gap of IN_PLACE_GAP bytes is opened at the start of the file (an extent
 * shift, fileranges.ts), the entry's local header fills it (padded with an
 * extra field to exactly that size), and the rest of the archive (that
 * entry's data descriptor, the other entries, the central directory) is
 * appended. The downloaded bytes are written to disk once, not twice, and
 * are never read again: their CRC-32 was computed while they downloaded.
 *
 * The rest of the archive is built in memory first (at most
 * IN_PLACE_TAIL_MAX), so the file changes in one short synchronous step
 * that starts right after the caller's `guard` (the compressor renews its
 * claim on the job: another compressor could take the job over only after
 * that whole lease). Until then nothing in the file has changed, and any
 * refusal (`InPlaceRefused`: another file system, a file not as it was
 * downloaded) leaves it untouched for the caller to copy instead. A file
 * changed and then left (a crash before the archive was put in place) is
 * recognised by its header and put back as it was downloaded by
 * `restoreInPlace`.
 */
import { open } from "node:fs/promises";
import { writeSync } from "node:fs";
import { Zip, type ZipInputFile } from "fflate";
import { collapseAtStart, insertAtStart, RangesUnsupported } from "./fileranges.ts";
import { checkEntries, dosSafe, EntryWriter, tooLarge, ZIP32_LIMIT, type Counter, type EntrySink, type WriteOptions, type WrittenEntry, type ZipSource } from "./zipwriter.ts";

/** Bytes opened at the start of the file for the first entry's local header (a multiple of the block size). */
export const IN_PLACE_GAP = 4096;
/** Most bytes the archive after the first entry's data may have (built in memory). */
export const IN_PLACE_TAIL_MAX = 16 * 1024 * 1024;
/** Smallest first file worth it: below this, copying it costs a few milliseconds. */
export const IN_PLACE_MIN_BYTES = 16 * 1024 * 1024;

/** The extra field that pads the local header, and what its data starts with (to recognise a changed file). */
const PAD_ID = 0x6c70;
const MAGIC = new TextEncoder().encode("linkpack: archive written in place\n");
const LOCAL_HEADER = 0x04034b50;

/** The downloaded file that is the archive's first entry. */
export interface InPlaceFirst {
  name: string;
  path: string;
  /** its bytes and CRC-32 as downloaded */
  size: number;
  crc32: number;
}

/** File systems (device numbers) found unable to insert a range: their files are not tried again. */
const unable = new Set<number>();

/** Whether a file on device `dev` may be tried (false once one there was refused by the file system). */
export const mayTryOn = (dev: number) => !unable.has(dev);

/** The file cannot become the archive; nothing in it was changed (build a new archive instead). */
export class InPlaceRefused extends Error {
  override name = "InPlaceRefused";
}

/** What fflate emits after the first entry's data, in memory, and that first entry's local header. */
class TailSink implements EntrySink {
  header: Uint8Array | null = null;
  private readonly chunks: Uint8Array[] = [];
  private error: Error | null = null;
  length = 0;
  /** stands for the first entry's data, which is in the file already */
  readonly inFile: Uint8Array<ArrayBuffer>;
  constructor(firstSize: number, private readonly max: number, private readonly limitMessage: () => Error) {
    this.inFile = { length: firstSize } as Uint8Array<ArrayBuffer>;
  }
  readonly accept = (err: Error | null, chunk: Uint8Array | null) => {
    if (err) this.error ??= err;
    else if (chunk === this.inFile) return;
    else if (!this.header) this.header = chunk;
    else if (chunk && chunk.length > 0) this.chunks.push(chunk), (this.length += chunk.length);
  };
  async flush(): Promise<void> {
    if (this.error) throw this.error;
    if (this.length > this.max) throw this.limitMessage();
  }
  /** Writes what it holds (after the header) to `fd` from `position` on, synchronously. */
  writeSync(fd: number, position: number): void {
    for (const chunk of this.chunks) writeAllSync(fd, chunk, position), (position += chunk.length);
  }
}

/** A local header of exactly IN_PLACE_GAP bytes for `name`: an extra field of ours pads it. */
function padding(name: string): Record<number, Uint8Array> {
  const size = IN_PLACE_GAP - 30 - Buffer.byteLength(name) - 4;
  if (size < MAGIC.length) throw new InPlaceRefused("the entry name is too long for the header's room");
  const pad = new Uint8Array(size);
  pad.set(MAGIC);
  return { [PAD_ID]: pad };
}

/** Whether `head` (the file's first IN_PLACE_GAP bytes) is a local header written by `writeZipInPlace`. */
function isOurHeader(head: Buffer): boolean {
  if (head.length < IN_PLACE_GAP || head.readUInt32LE(0) !== LOCAL_HEADER) return false;
  const nameLen = head.readUInt16LE(26), extraLen = head.readUInt16LE(28);
  if (30 + nameLen + extraLen !== IN_PLACE_GAP || head.readUInt16LE(30 + nameLen) !== PAD_ID) return false;
  const at = 30 + nameLen + 4;
  return head.subarray(at, at + MAGIC.length).equals(MAGIC);
}

function writeAllSync(fd: number, data: Uint8Array, position: number): void {
  for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off, position + off);
}

/**
 * Makes the file `first.path` the zip of `first` followed by `rest` (see
 * the module doc), fsynced; returns the archive's size and entries. Throws
 * `InPlaceRefused` with the file unchanged when it cannot; `guard` is
 * awaited right before the file changes and throws to stop it.
 */
export async function writeZipInPlace(first: InPlaceFirst, rest: ZipSource[], opts: WriteOptions & { guard: () => Promise<void> }): Promise<{ bytes: number; entries: WrittenEntry[] }> {
  checkEntries(rest.length + 1);
  const limit = opts.limit ?? ZIP32_LIMIT;
  const room = limit - IN_PLACE_GAP - first.size;
  if (room <= 0) throw tooLarge(limit);
  const fh = await open(first.path, "r+").catch((err) => Promise.reject(new InPlaceRefused(`cannot open the file for writing: ${err}`)));
  let writer: EntryWriter | null = null;
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.size !== first.size || st.nlink !== 1) throw new InPlaceRefused("the file is not as it was downloaded");
    writer = new EntryWriter(rest, opts);
    const tail = new TailSink(first.size, Math.min(room, IN_PLACE_TAIL_MAX), () =>
      room <= IN_PLACE_TAIL_MAX ? tooLarge(limit) : new InPlaceRefused("the other entries are too big to hold in memory"),
    );
    const zip = new Zip(tail.accept);
    const file: ZipInputFile = { filename: first.name, size: first.size, crc: first.crc32, compression: 0, mtime: dosSafe(st.mtime), extra: padding(first.name) };
    zip.add(file);
    file.ondata!(null, tail.inFile, true);
    const counter: Counter = { done: first.size };
    opts.onProgress?.(counter.done);
    const entries: WrittenEntry[] = [{ name: first.name, method: "store", size: first.size, compressedSize: first.size, crc32: first.crc32 >>> 0 }];
    entries.push(...(await writer.writeAll(zip, tail, counter)));
    zip.end();
    await tail.flush();
    if (tail.header?.length !== IN_PLACE_GAP) throw new Error("the first entry's local header is not the size of the gap");
    // The downloaded bytes reach the disk off this thread: the insert below (on it) then finds little to write.
    await fh.datasync();
    await opts.guard();
    opts.signal?.throwIfAborted();
    try {
      insertAtStart(fh.fd, IN_PLACE_GAP);
    } catch (err) {
      if (err instanceof RangesUnsupported) {
        if (err.never) unable.add(st.dev);
        throw new InPlaceRefused(err.message);
      }
      throw err;
    }
    writeAllSync(fh.fd, tail.header, 0);
    tail.writeSync(fh.fd, IN_PLACE_GAP + first.size);
    await fh.datasync();
    return { bytes: IN_PLACE_GAP + first.size + tail.length, entries };
  } finally {
    await writer?.close();
    await fh.close();
  }
}

/**
 * Puts a file that `writeZipInPlace` changed, and that was never put in
 * place as an archive (one name only), back as it was downloaded (`bytes`
 * long). Returns whether it did; any other file is left alone.
 */
export async function restoreInPlace(path: string, bytes: number): Promise<boolean> {
  const fh = await open(path, "r+");
  try {
    const st = await fh.stat();
    if (st.nlink !== 1 || st.size < bytes + IN_PLACE_GAP) return false;
    const head = Buffer.alloc(IN_PLACE_GAP);
    await fh.read(head, 0, IN_PLACE_GAP, 0);
    if (!isOurHeader(head)) return false;
    collapseAtStart(fh.fd, IN_PLACE_GAP);
    await fh.truncate(bytes);
    await fh.datasync();
    return true;
  } finally {
    await fh.close();
  }
}
