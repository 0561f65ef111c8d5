/**
 * @module deflatepool
 * Deflate on every core: a few worker threads (one per core by default), each
 * running deflateworker.ts. `deflate` moves the input to a free worker (no
 * copy) and resolves with the deflated bytes and the input back; when every
 * worker is busy, tasks wait biggest first (equal ones in order), so that
 * the work of a job ends on all cores at about the same time. The caller bounds how much it sends at
 * once (zipwriter.ts keeps a few MiB in flight), so memory stays flat.
 *
 * Workers start on first need (an archive of stored files never starts one)
 * and end after IDLE_MS without work, so an idle or storing compressor keeps
 * no thread's memory. A worker that dies fails only its own task
 * (DeflateWorkerFailed); `close()` ends every worker and fails what is left.
 * Idle workers do not keep the process alive.
 */
import { availableParallelism } from "node:os";

export type DeflateKind = "whole" | "chunk";
export interface DeflateTask {
  id: number;
  /** "whole": one final raw DEFLATE stream (libdeflate) and the input's CRC-32; "chunk": a sync-flushed piece of a stream (zlib) */
  kind: DeflateKind;
  input: Uint8Array<ArrayBuffer>;
}
export interface DeflateReply {
  id: number;
  /** the input, moved back */
  input: Uint8Array<ArrayBuffer>;
  out: Uint8Array<ArrayBuffer> | null;
  /** CRC-32 of the input ("whole" only) */
  crc: number | null;
  error?: string;
}
export interface Deflated {
  input: Uint8Array<ArrayBuffer>;
  out: Uint8Array<ArrayBuffer>;
  crc: number | null;
}

/** A worker died, or the pool was closed, before the task was done. */
export class DeflateWorkerFailed extends Error {
  override name = "DeflateWorkerFailed";
}

interface Pending {
  task: DeflateTask;
  resolve: (d: Deflated) => void;
  reject: (e: Error) => void;
  /** stops watching the caller's signal (once the task runs) */
  unwatch?: () => void;
}

interface Slot {
  worker: Worker;
  busy: Pending | null;
  /** ends the worker once it has been idle IDLE_MS */
  idleTimer: ReturnType<typeof setTimeout> | null;
}

/** A worker with nothing to do for this long ends (a new one starts on the next task). */
const IDLE_MS = 10_000;

const WORKER_URL = new URL("./deflateworker.ts", import.meta.url);

/** Bun's Worker can stop holding the process open (ref/unref; not in the DOM typings). */
const holdOpen = (w: Worker, yes: boolean) => (w as unknown as { ref(): void; unref(): void })[yes ? "ref" : "unref"]();

export class DeflatePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  /** Up to `size` workers running `workerUrl` (deflateworker.ts; another script in tests), started as needed. */
  constructor(readonly size = availableParallelism(), private readonly workerUrl: URL | string = WORKER_URL, private readonly idleMs = IDLE_MS) {}

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(this.workerUrl), busy: null, idleTimer: null };
    holdOpen(slot.worker, false);
    slot.worker.onmessage = (e: MessageEvent<DeflateReply>) => this.done(slot, e.data);
    slot.worker.onerror = (e) => this.died(slot, e.message || "deflate worker failed");
    slot.worker.addEventListener("close", () => this.died(slot, "deflate worker exited"));
    return slot;
  }

  /**
   * Deflates `input` (moved to a worker: the caller must not use it until it
   * comes back in the result). If `signal` aborts while the task still waits,
   * it is dropped (rejected) and no worker runs it.
   */
  deflate(kind: DeflateKind, input: Uint8Array<ArrayBuffer>, signal?: AbortSignal): Promise<Deflated> {
    if (this.closed) return Promise.reject(new DeflateWorkerFailed("the deflate pool is closed"));
    if (signal?.aborted) return Promise.reject(new DeflateWorkerFailed("dropped before it ran"));
    return new Promise((resolve, reject) => {
      // Bigger tasks first (ties in order): the last of a job's files is not a big one left alone
      // on one core while the other idles. The writer takes the results in its own order.
      const p: Pending = { task: { id: this.nextId++, kind, input }, resolve, reject };
      const at = this.queue.findIndex((q) => q.task.input.length < input.length);
      if (at < 0) this.queue.push(p);
      else this.queue.splice(at, 0, p);
      if (signal) {
        const drop = () => {
          const i = this.queue.indexOf(p);
          if (i >= 0) this.queue.splice(i, 1), reject(new DeflateWorkerFailed("dropped before it ran"));
        };
        signal.addEventListener("abort", drop, { once: true });
        p.unwatch = () => signal.removeEventListener("abort", drop);
      }
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.busy);
      if (!slot) {
        if (this.slots.length >= this.size) return;
        this.slots.push((slot = this.spawn()));
      }
      const p = this.queue.shift()!;
      p.unwatch?.();
      if (slot.idleTimer) clearTimeout(slot.idleTimer), (slot.idleTimer = null);
      slot.busy = p;
      holdOpen(slot.worker, true);
      // the input's own buffer is moved; a view of part of a larger buffer is copied first
      const input = p.task.input.byteOffset === 0 && p.task.input.byteLength === p.task.input.buffer.byteLength ? p.task.input : new Uint8Array(p.task.input);
      slot.worker.postMessage({ ...p.task, input }, [input.buffer]);
    }
  }

  private done(slot: Slot, reply: DeflateReply): void {
    const p = slot.busy;
    slot.busy = null;
    holdOpen(slot.worker, false);
    if (p && p.task.id === reply.id) {
      if (reply.out) p.resolve({ input: reply.input, out: reply.out, crc: reply.crc });
      else p.reject(new DeflateWorkerFailed(`deflate failed: ${reply.error}`));
    }
    this.pump();
    if (!slot.busy) (slot.idleTimer = setTimeout(() => this.retire(slot), this.idleMs)).unref();
  }

  /** Ends a worker that had nothing to do for a while. */
  private retire(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i < 0 || slot.busy) return;
    this.slots.splice(i, 1);
    slot.worker.terminate();
  }

  /** A worker died: its task fails, a new worker takes its place (unless the pool is closing). */
  private died(slot: Slot, why: string): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return; // already replaced (error, then close)
    const p = slot.busy;
    slot.busy = null;
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    this.slots.splice(i, 1);
    slot.worker.terminate();
    p?.reject(new DeflateWorkerFailed(why));
    if (!this.closed) this.pump(); // a new worker takes the next task
  }

  /** Ends every worker; tasks not done fail. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new DeflateWorkerFailed("the deflate pool is closed"));
    const slots = this.slots.splice(0);
    for (const s of slots) {
      s.busy?.reject(new DeflateWorkerFailed("the deflate pool is closed"));
      s.busy = null;
      if (s.idleTimer) clearTimeout(s.idleTimer);
      s.worker.terminate();
    }
  }

  /** Live workers (for tests: none after close). */
  get workers(): number {
    return this.slots.length;
  }
}

let shared: DeflatePool | null = null;

/** The process's pool, made on first use. */
export function sharedPool(): DeflatePool {
  return (shared ??= new DeflatePool());
}

/** Closes the process's pool if it was made (graceful shutdown). */
export async function closeSharedPool(): Promise<void> {
  const p = shared;
  shared = null;
  await p?.close();
}
