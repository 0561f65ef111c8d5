/**
 * @module deflateworker
 * One thread of the deflate pool (deflatepool.ts): deflates what it is sent
 * with deflate.ts's functions and sends the result back, moving the buffers
 * (transfer, no copy) both ways. A failure is answered, never thrown.
 */
import { crc32 } from "node:zlib";
import { deflateChunk, deflateWhole } from "./deflate.ts";
import type { DeflateTask, DeflateReply } from "./deflatepool.ts";

declare const self: Worker;

/** `b` alone in its own ArrayBuffer (a Buffer may be a slice of a shared one), so it can be transferred. */
const own = (b: Uint8Array): Uint8Array<ArrayBuffer> =>
  b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? (b as Uint8Array<ArrayBuffer>) : new Uint8Array(b);

self.onmessage = (e: MessageEvent<DeflateTask>) => {
  const { id, kind, input } = e.data;
  let reply: DeflateReply;
  try {
    const out = own(kind === "whole" ? deflateWhole(input) : deflateChunk(input));
    reply = { id, input, out, crc: kind === "whole" ? crc32(input) >>> 0 : null };
  } catch (err) {
    reply = { id, input, out: null, crc: null, error: String(err instanceof Error ? err.message : err) };
  }
  self.postMessage(reply, reply.out ? [reply.input.buffer, reply.out.buffer] : [reply.input.buffer]);
};
