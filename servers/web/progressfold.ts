/**
 * @module progressfold
 * Folds the progress events of every job (the durable WEB_PROGRESS_QUEUE, a
 * single-active-consumer quorum queue: of several web processes exactly one
 * folds, in order, and another takes over when it goes) into the job store,
 * through the consumer runtime (shared/consumer.ts): many jobs at once, the
 * events of one job one after another in queue order; acked after the store
 * is written, so a web restart loses no event. An
 * event that fails its check is dead-lettered with a log line: a malformed
 * one, and — defence in depth — a `link` event whose link is not exactly
 * that job's archive path under PUBLIC_URL with a valid signature.
 */
import type { Config } from "../shared/config.ts";
import type { ConsumerSpec } from "../shared/consumer.ts";
import { MalformedMessage } from "../shared/errors.ts";
import { verifyLink } from "../shared/link.ts";
import type { Logger } from "../shared/log.ts";
import { parseProgressEvent, type ProgressEvent } from "../shared/messages.ts";
import { WEB_PROGRESS_QUEUE } from "../shared/topology.ts";
import type { JobStore } from "./store.ts";

/** A progress event as the web server accepts it: checked, and a link event only with its job's true link. */
export function checkedEvent(body: Buffer | string, c: { publicUrl: string; secret: string }): ProgressEvent {
  const ev = parseProgressEvent(body);
  if (ev.type === "link" && !verifyLink(ev.link, { publicUrl: c.publicUrl, secret: c.secret, jobId: ev.jobId, expiresAt: ev.expiresAt }))
    throw new MalformedMessage("link event whose link is not the job's signed archive link");
  return ev;
}

export function progressConsumer(deps: { store: Pick<JobStore, "apply">; log: Logger; config: Pick<Config, "PUBLIC_URL">; secret: string }): ConsumerSpec<ProgressEvent> {
  return {
    queue: WEB_PROGRESS_QUEUE,
    prefetch: 200,
    log: deps.log,
    parse: (body) => checkedEvent(body, { publicUrl: deps.config.PUBLIC_URL, secret: deps.secret }),
    handle: async (ev) => {
      if (ev.type !== "clock") await deps.store.apply(ev);
    },
    maxAttempts: 5,
    retryBaseMs: 200,
    // Jobs fold side by side, each job's events one after another in queue order (two folds of one
    // job at once would not land in the order they came): a file's last event is never folded after
    // the link that came behind it (a ready job takes no more).
    key: (ev) => (ev.type === "clock" ? "clock" : ev.jobId),
    describe: (ev) => ({ type: ev.type, job: ev.type === "clock" ? undefined : ev.jobId }),
  };
}
