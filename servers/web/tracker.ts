/**
 * @module tracker
 * Folds the progress events of every job (the durable `WEB_PROGRESS_QUEUE`)
 * into the job store. Acks after the store is written, so a web restart loses
 * no event; a malformed event is dead-lettered.
 */
import type { ConfirmChannel } from "amqplib";
import { settle, type Broker } from "../shared/broker.ts";
import { MalformedMessage } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import { parseProgressEvent } from "../shared/messages.ts";
import { WEB_PROGRESS_QUEUE } from "../shared/topology.ts";
import type { JobStore } from "./store.ts";

/** Starts consuming on `ch` (call from the broker's onChannel). */
export async function trackProgress(broker: Broker, ch: ConfirmChannel, store: JobStore, log: Logger): Promise<void> {
  await ch.prefetch(200);
  await broker.consume(ch, WEB_PROGRESS_QUEUE, (msg, c) => {
    try {
      const ev = parseProgressEvent(msg.content);
      if (ev.type !== "clock") store.apply(ev);
      settle(c, msg, "ack");
    } catch (err) {
      if (err instanceof MalformedMessage) {
        log.warn("malformed progress event dead-lettered", { err: err.message, key: msg.fields.routingKey });
        settle(c, msg, "dead");
      } else {
        log.error("could not record progress event; will retry", { err });
        settle(c, msg, "requeue");
      }
    }
  });
}
