/**
 * @module consumer
 * Turns deliveries from DOWNLOAD_QUEUE into work and decides ack or nack:
 *   - malformed message → nack without requeue (dead-lettered), logged;
 *   - work finished (file done or failed, outcome written, event confirmed,
 *     compressor told if the job is complete) → ack;
 *   - `TransientError` (disk, shutting down) → requeue after a pause, or
 *     nothing during shutdown (closing the channel hands it back);
 *   - anything else is a bug: requeue once, dead-letter if it was already a
 *     redelivery, so a poison message cannot loop forever.
 * A second delivery of a file this process is still working on (the broker
 * redelivers after a channel loss) waits for the first instead of fetching
 * the same file twice at once.
 */
import type { ConfirmChannel, ConsumeMessage } from "amqplib";
import { settle } from "../shared/broker.ts";
import { MalformedMessage, TransientError } from "../shared/errors.ts";
import { parseDownloadRequest, type DownloadRequest } from "../shared/messages.ts";
import type { InFlight } from "../shared/shutdown.ts";
import { processFile, type WorkerDeps } from "./worker.ts";

export interface ConsumerDeps extends WorkerDeps {
  inflight: InFlight;
  /** aborted on shutdown: failures then leave the message for redelivery */
  signal?: AbortSignal;
  /** pause before requeueing after a transient error */
  retryDelayMs?: number;
}

const preview = (buf: Buffer) => buf.subarray(0, 200).toString("utf8");

export function downloadHandler(deps: ConsumerDeps): (msg: ConsumeMessage, ch: ConfirmChannel) => void {
  const working = new Map<string, Promise<unknown>>();
  const stopping = () => deps.signal?.aborted === true;

  async function handle(msg: ConsumeMessage, ch: ConfirmChannel): Promise<void> {
    let req: DownloadRequest;
    try {
      req = parseDownloadRequest(msg.content);
    } catch (err) {
      if (!(err instanceof MalformedMessage)) throw err;
      deps.log.warn("malformed download request; dead-lettering it", { err, body: preview(msg.content) });
      return settle(ch, msg, "dead");
    }
    const key = `${req.jobId}/${req.index}`;
    for (let earlier = working.get(key); earlier; earlier = working.get(key)) await earlier.catch(() => {});
    const work = processFile(req, deps);
    working.set(key, work);
    try {
      await work;
      settle(ch, msg, "ack");
    } catch (err) {
      if (stopping()) {
        deps.log.info("shutting down; leaving message for redelivery", { job: req.jobId, index: req.index });
      } else if (err instanceof TransientError) {
        deps.log.warn("cannot finish now; requeueing", { job: req.jobId, index: req.index, err });
        await Bun.sleep(deps.retryDelayMs ?? 2000);
        settle(ch, msg, "requeue");
      } else {
        const dead = msg.fields.redelivered;
        deps.log.error(dead ? "unexpected error again; dead-lettering" : "unexpected error; requeueing once", { job: req.jobId, index: req.index, err, stack: (err as Error)?.stack });
        settle(ch, msg, dead ? "dead" : "requeue");
      }
    } finally {
      if (working.get(key) === work) working.delete(key);
    }
  }

  return (msg, ch) => {
    void deps.inflight.run(() => handle(msg, ch)).catch((err) => {
      deps.log.error("unexpected error handling a message", { err });
      settle(ch, msg, "requeue");
    });
  };
}
