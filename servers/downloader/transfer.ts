/**
 * @module transfer
 * Streams a response body into a file, chunk by chunk (never the whole file
 * in memory), computing its CRC-32 on the way (`Bun.hash.crc32` with the
 * previous value as seed continues the checksum). Enforces the size limit
 * while streaming, the idle timeout between chunks, and the declared
 * Content-Length both ways: a shorter body fails, a longer one is cut.
 */
import { open, type FileHandle } from "node:fs/promises";
import { DownloadFailed } from "../shared/errors.ts";
import { diskFailure } from "./reasons.ts";
import { seconds, type Watchdog } from "./watchdog.ts";

export interface SaveOptions {
  watchdog: Watchdog;
  idleTimeoutMs: number;
  /** Content-Length, or null */
  declared: number | null;
  /** most bytes this file may have, and the message when it has more */
  limit: { bytes: number; message: string };
  /** called after every chunk with the bytes so far (throttled by the caller) */
  onProgress?: (bytes: number) => void;
  /** called every `checkEvery` bytes before writing more; throws `DownloadFailed` to stop (the job's byte budget) */
  check?: (bytesAfterChunk: number) => Promise<void>;
  checkEvery?: number;
}

export interface Saved {
  bytes: number;
  crc32: number;
}

async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  for (let off = 0; off < chunk.length; ) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
}

/** Writes `body` to `path` (created or truncated); throws `DownloadFailed` with a readable reason. */
export async function saveBody(body: ReadableStream<Uint8Array> | null, path: string, o: SaveOptions): Promise<Saved> {
  let fh: FileHandle;
  try {
    fh = await open(path, "w");
  } catch (err) {
    throw diskFailure(err);
  }
  let bytes = 0;
  let crc = 0;
  o.watchdog.arm("idle", o.idleTimeoutMs, `no data received for ${seconds(o.idleTimeoutMs)}`);
  try {
    const reader = body?.getReader();
    while (reader) {
      const { done, value } = await reader.read();
      if (done) break;
      o.watchdog.refresh("idle");
      let chunk = value;
      if (o.declared !== null && bytes + chunk.length > o.declared) chunk = chunk.subarray(0, o.declared - bytes);
      if (bytes + chunk.length > o.limit.bytes) {
        void reader.cancel().catch(() => {});
        throw new DownloadFailed(o.limit.message);
      }
      if (o.check && Math.floor((bytes + chunk.length) / (o.checkEvery ?? 256 * 1024)) > Math.floor(bytes / (o.checkEvery ?? 256 * 1024))) {
        try {
          await o.check(bytes + chunk.length);
        } catch (err) {
          void reader.cancel().catch(() => {});
          throw err;
        }
      }
      crc = Bun.hash.crc32(chunk, crc);
      try {
        await writeAll(fh, chunk);
      } catch (err) {
        void reader.cancel().catch(() => {});
        throw diskFailure(err);
      }
      bytes += chunk.length;
      o.onProgress?.(bytes);
      if (o.declared !== null && bytes >= o.declared) {
        void reader.cancel().catch(() => {}); // never accept more than declared
        break;
      }
    }
  } catch (err) {
    if (o.watchdog.reason) throw o.watchdog.reason;
    if (err instanceof DownloadFailed) throw err;
    throw new DownloadFailed(o.declared !== null ? `connection closed after ${bytes} of ${o.declared} bytes` : `connection lost after ${bytes} bytes`);
  } finally {
    o.watchdog.disarm("idle");
    await fh.close().catch(() => {});
  }
  if (o.declared !== null && bytes < o.declared) throw new DownloadFailed(`connection closed after ${bytes} of ${o.declared} bytes`);
  return { bytes, crc32: crc };
}
