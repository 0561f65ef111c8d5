/**
 * @module jobs
 * Creating a job: a new unguessable id, the job recorded in the store (as
 * unpublished), then one persistent message per URL on the work exchange
 * (`job.<id>.download`), then the job marked published. `publishPending`
 * finishes what a web process that died in between left undone; a message
 * sent twice that way is harmless (the downloader keeps one outcome per file).
 */
import type { Broker } from "../shared/broker.ts";
import { newId } from "../shared/ids.ts";
import { newJob, type JobView } from "../shared/jobstate.ts";
import type { Logger } from "../shared/log.ts";
import { encode, type DownloadRequest } from "../shared/messages.ts";
import { WORK_EXCHANGE, keys } from "../shared/topology.ts";
import type { JobStore } from "./store.ts";

type Publisher = Pick<Broker, "publish">;
type Store = Pick<JobStore, "create" | "markPublished" | "unpublished">;

/** Creates a job of `client` whose link lives `ttl` seconds (the store refuses one over the client's limits: `LimitReached`). */
export async function createJob(store: Store, broker: Publisher, urls: string[], ttl?: number, client = ""): Promise<JobView> {
  const job = { ...newJob(newId(), urls), ...(ttl !== undefined ? { link_ttl_seconds: ttl } : {}) };
  store.create(job, client);
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
  store.markPublished(job.id);
}

/** Publishes every job an earlier web process recorded but did not finish publishing. */
export async function publishPending(store: Store, broker: Publisher, log: Logger): Promise<number> {
  const pending = store.unpublished();
  for (const job of pending) {
    log.warn("publishing a job left unpublished by an earlier run", { job: job.id, files: job.files.length });
    await publishJob(store, broker, job);
  }
  return pending.length;
}
