/**
 * @module deflate
 * Raw DEFLATE for zip entries, native either way (run on the deflate pool's
 * threads, deflatepool.ts):
 * - a file that fits in ONE_SHOT_MAX is read whole and deflated by libdeflate
 *   (Bun.deflateSync), about twice as fast as zlib and a little smaller;
 * - a bigger file is deflated chunk by chunk with zlib, each chunk ending in a
 *   sync flush (byte-aligned, not final) and the stream in an empty final
 *   block, so memory stays at a few chunks whatever the file size. libdeflate
 *   cannot do this: it only makes whole, final streams.
 */
import { constants, deflateRawSync } from "node:zlib";

/** Level for libdeflate (whole files and samples). */
export const DEFLATE_LEVEL = 6;
/** Level for zlib streaming: 5 is about twice as fast as 6 for ~3% more bytes. */
const STREAM_LEVEL = 5;
/** Largest file deflated in one piece (it and its output are in memory at once). */
export const ONE_SHOT_MAX = 16 * 1024 * 1024;

/** `data` as one raw DEFLATE stream. */
export function deflateWhole(data: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  return Bun.deflateSync(data, { library: "libdeflate", level: DEFLATE_LEVEL });
}

/**
 * One chunk of a streamed entry as raw DEFLATE ending in a sync flush
 * (byte-aligned, not final): each chunk is a stream of its own (back-references
 * stay within it), so chunks can be deflated on any thread, in any order, and
 * concatenated in file order.
 */
export function deflateChunk(chunk: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  if (chunk.length === 0) return new Uint8Array(0);
  return deflateRawSync(chunk, { level: STREAM_LEVEL, finishFlush: constants.Z_SYNC_FLUSH });
}

/** The bytes that end a stream of `deflateChunk` chunks: an empty final fixed-Huffman block. */
export const STREAM_END: Uint8Array<ArrayBuffer> = new Uint8Array([0x03, 0x00]);
