/**
 * @module jobs
 * Creating a job: a new unguessable id, the job recorded in the store, then
 * one persistent message per URL on the work exchange (`job.<id>.download`).
 */
import type { Broker } from "../shared/broker.ts";
import { newId } from "../shared/ids.ts";
import { newJob, type JobView } from "../shared/jobstate.ts";
import { encode, type DownloadRequest } from "../shared/messages.ts";
import { WORK_EXCHANGE, keys } from "../shared/topology.ts";
import type { JobStore } from "./store.ts";

export async function createJob(store: JobStore, broker: Pick<Broker, "publish">, urls: string[]): Promise<JobView> {
  const job = newJob(newId(), urls);
  store.create(job);
  await Promise.all(
    urls.map((url, index) => {
      const msg: DownloadRequest = { v: 1, jobId: job.id, index, total: urls.length, url };
      return broker.publish(WORK_EXCHANGE, keys.download(job.id), encode(msg));
    }),
  );
  return job;
}
