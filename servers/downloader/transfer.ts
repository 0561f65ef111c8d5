/**
 * @module transfer
 * Streams a response body into a file, chunk by chunk (never the whole file
 * in memory), computing its CRC-32 (for the zip) and SHA-256 (for the
 * archive's manifest) on the way. A resumed download appends to what an
 * earlier attempt saved and carries on with its checksums, so the file is
 * never read again. Chunks go through Bun's buffered file writer, so a
 * 64 KiB body chunk costs no system call of its own: the file is written a
 * megabyte at a time; a big file is datasynced in the background as it
 * grows (shared/writeback.ts). Enforces the size limit while streaming, the idle
 * timeout between chunks, and the declared Content-Length both ways: a
 * shorter body fails (another attempt may resume it), a longer one is cut.
 */
import { createHash, type Hash } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";
import { DownloadFailed, RetryableDownload } from "../shared/errors.ts";
import { diskFailure } from "./reasons.ts";
import { BackgroundSync } from "../shared/writeback.ts";
import { seconds, type Watchdog } from "./watchdog.ts";

/** What is in the file so far: its bytes and their running checksums. Updated as chunks are written. */
export interface Written {
  bytes: number;
  crc32: number;
  sha256: Hash;
}

export const nothingWritten = (): Written => ({ bytes: 0, crc32: 0, sha256: createHash("sha256") });

export interface SaveOptions {
  watchdog: Watchdog;
  idleTimeoutMs: number;
  /** this body's Content-Length, or null */
  declared: number | null;
  /** most bytes the whole file may have, and the message when it has more */
  limit: { bytes: number; message: string };
  /** what the file holds already: with bytes, the body is appended (a resumed download); it is updated as chunks are written */
  into: Written;
  /** called after every chunk with the file's bytes so far (throttled by the caller) */
  onProgress?: (bytes: number) => void;
  /** the job's byte budget: `check` is called every `every` bytes before more is written, and throws `DownloadFailed` to stop */
  budget?: { every: number; check: (bytesAfterChunk: number) => Promise<void> };
}

/** Bytes gathered before one write(2): fewer, bigger writes, no thread hop per body chunk. */
const WRITE_BUFFER = 1024 * 1024;

/**
 * Writes `body` to `path` (created, or appended to when `o.into` has
 * bytes); resolves with what the file holds. Throws a `DownloadFailed` with
 * a readable reason; `o.into` always says what is safely in the file, so a
 * later attempt can resume from it.
 */
export async function saveBody(body: ReadableStream<Uint8Array> | null, path: string, o: SaveOptions): Promise<Written> {
  const w = o.into;
  let fh: FileHandle;
  try {
    fh = await open(path, w.bytes > 0 ? "a" : "w");
  } catch (err) {
    throw diskFailure(err);
  }
  const start = w.bytes;
  // Bun's buffered file writer on our descriptor: a chunk is handed over at once, written out
  // WRITE_BUFFER at a time; `flush` before anything relies on `w` saying what is in the file.
  const sink = Bun.file(fh.fd).writer({ highWaterMark: WRITE_BUFFER });
  const flush = async () => {
    try {
      await sink.flush();
    } catch (err) {
      throw diskFailure(err);
    }
  };
  // the disk writes a big file while it downloads; a datasync's failure is the file's (seen at the end)
  const writeBack = new BackgroundSync(fh, w.bytes);
  o.watchdog.arm("idle", o.idleTimeoutMs, `no data received for ${seconds(o.idleTimeoutMs)}`, true);
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const stop = () => void reader?.cancel().catch(() => {});
  try {
    reader = body?.getReader();
    while (reader) {
      const { done, value } = await reader.read();
      if (done) break;
      o.watchdog.refresh("idle");
      let chunk = value;
      const got = w.bytes - start;
      if (o.declared !== null && got + chunk.length > o.declared) chunk = chunk.subarray(0, o.declared - got);
      if (w.bytes + chunk.length > o.limit.bytes) {
        stop();
        throw new DownloadFailed(o.limit.message);
      }
      const b = o.budget;
      if (b && Math.floor((w.bytes + chunk.length) / b.every) > Math.floor(w.bytes / b.every)) {
        try {
          await b.check(w.bytes + chunk.length);
        } catch (err) {
          stop();
          throw err;
        }
      }
      try {
        await sink.write(chunk);
      } catch (err) {
        stop();
        throw diskFailure(err);
      }
      w.crc32 = Bun.hash.crc32(chunk, w.crc32);
      w.sha256.update(chunk);
      w.bytes += chunk.length;
      writeBack.wrote(w.bytes);
      o.onProgress?.(w.bytes);
      if (o.declared !== null && w.bytes - start >= o.declared) {
        stop(); // never accept more than declared
        break;
      }
    }
    await flush();
  } catch (err) {
    // What was handed over goes out first, so `w` says what is in the file (if it cannot, the file fails: a disk failure).
    await flush();
    if (o.watchdog.reason) throw o.watchdog.reason;
    if (err instanceof DownloadFailed) throw err;
    throw new RetryableDownload(o.declared !== null ? `connection closed after ${w.bytes} of ${start + o.declared} bytes` : `connection lost after ${w.bytes} bytes`);
  } finally {
    o.watchdog.disarm("idle");
    await Promise.resolve()
      .then(() => sink.end())
      .catch(() => {});
    await writeBack.idle();
    await fh.close().catch(() => {});
  }
  if (writeBack.failure) throw diskFailure(writeBack.failure);
  if (o.declared !== null && w.bytes - start < o.declared) throw new RetryableDownload(`connection closed after ${w.bytes} of ${start + o.declared} bytes`);
  return w;
}
