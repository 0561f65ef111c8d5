/**
 * @module jobs
 * Creating a job: a new unguessable id, the job recorded in the store (as
 * unpublished), then one persistent message per URL on the work exchange
 * (`job.<id>.download`), then the job marked published. `publishPending`
 * (every OUTBOX_SWEEP_MS, on every web process) finishes what a web process
 * that died in between left undone, once the job has waited OUTBOX_GRACE_MS:
 * sooner, it would republish a job another web process is publishing right
 * now. A message sent twice anyway is harmless (the downloader keeps one
 * outcome per file).
 */
import type { Broker } from "../shared/broker.ts";
import { newId } from "../shared/ids.ts";
import { newJob, type JobView } from "../shared/jobstate.ts";
import type { Logger } from "../shared/log.ts";
import { encode, type DownloadRequest } from "../shared/messages.ts";
import { WORK_EXCHANGE, keys } from "../shared/topology.ts";
import type { JobStore } from "./store.ts";

type Publisher = Pick<Broker, "publish">;
type Store = Pick<JobStore, "create" | "markPublished" | "claimUnpublished">;

/** How long an unpublished job is left to the process publishing it before another takes it on. */
export const OUTBOX_GRACE_MS = 30_000;
/** How often each web process looks for such jobs. */
export const OUTBOX_SWEEP_MS = 5_000;

/** Creates a job of `client` whose link lives `ttl` seconds (the store refuses one over the client's limits: `LimitReached`). */
export async function createJob(store: Store, broker: Publisher, urls: string[], ttl?: number, client = ""): Promise<JobView> {
  const job = { ...newJob(newId(), urls), ...(ttl !== undefined ? { link_ttl_seconds: ttl } : {}) };
  await store.create(job, client);
  await publishJob(store, broker, job);
  return job;
}

/** Sends one download message per file of `job`, then marks it published. */
async function publishJob(store: Store, broker: Publisher, job: JobView): Promise<void> {
  const total = job.files.length;
  await Promise.all(
    job.files.map(({ url, index }) => {
      const msg: DownloadRequest = { v: 1, jobId: job.id, index, total, url, ...(job.link_ttl_seconds ? { ttl: job.link_ttl_seconds } : {}) };
      return broker.publish(WORK_EXCHANGE, keys.download(job.id), encode(msg));
    }),
  );
  await store.markPublished(job.id);
}

/** Publishes every job a web process recorded but has not published for `graceMs`; returns how many. */
export async function publishPending(store: Store, broker: Publisher, log: Logger, graceMs = OUTBOX_GRACE_MS): Promise<number> {
  const pending = await store.claimUnpublished(graceMs);
  for (const job of pending) {
    log.warn("publishing a job left unpublished", { job: job.id, files: job.files.length });
    await publishJob(store, broker, job);
  }
  return pending.length;
}
