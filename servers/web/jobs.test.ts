/**
 * Job creation through the store-as-outbox: published once made, and
 * finished by a later sweep (of this process or another) when a publish did
 * not complete, once the grace period has passed.
 */
import { expect, test } from "bun:test";
import { createLogger } from "../shared/log.ts";
import { parseDownloadRequest, type DownloadRequest } from "../shared/messages.ts";
import { WORK_EXCHANGE, keys } from "../shared/topology.ts";
import { createJob, publishPending } from "./jobs.ts";
import { useTempDirs } from "./testapp.ts";
import { openJobStore } from "./store.ts";

const tmp = useTempDirs("linkpack-jobs-");
const log = createLogger("test", "error");

/** A publisher that records what it sends; `failAfter` sends that many, then throws (a process dying mid-publish). */
function publisher(failAfter = Infinity) {
  const sent: { exchange: string; key: string; msg: DownloadRequest }[] = [];
  return {
    sent,
    async publish(exchange: string, key: string, body: Buffer) {
      if (sent.length >= failAfter) throw new Error("gone");
      sent.push({ exchange, key, msg: parseDownloadRequest(body) });
    },
  };
}

test("a new job: one message per URL with index and total, then it is no longer pending", async () => {
  const store = await openJobStore(tmp());
  const p = publisher();
  const job = await createJob(store, p, ["https://a.example/1", "https://b.example/2"]);
  expect(p.sent.map((s) => [s.exchange, s.key, s.msg.index, s.msg.total, s.msg.url])).toEqual([
    [WORK_EXCHANGE, keys.download(job.id), 0, 2, "https://a.example/1"],
    [WORK_EXCHANGE, keys.download(job.id), 1, 2, "https://b.example/2"],
  ]);
  expect(await store.unpublished()).toEqual([]);
  await store.close();
});

test("a publish cut short leaves the job pending; after the grace period a sweep (here: a new store on the same file) publishes all of it", async () => {
  const dir = tmp();
  const first = await openJobStore(dir);
  const urls = ["https://a.example/1", "https://b.example/2", "https://c.example/3"];
  await expect(createJob(first, publisher(1), urls)).rejects.toThrow("gone");
  await first.close();

  const second = await openJobStore(dir);
  const [pending] = await second.unpublished();
  expect(pending!.files.map((f) => f.url)).toEqual(urls);
  // within the grace period it is left to the process that may be publishing it
  expect(await publishPending(second, publisher(0), log, 60_000)).toBe(0);
  const p = publisher();
  expect(await publishPending(second, p, log, 0)).toBe(1);
  expect(p.sent.map((s) => [s.msg.jobId, s.msg.index, s.msg.total])).toEqual(urls.map((_, i) => [pending!.id, i, 3]));
  expect(await second.unpublished()).toEqual([]);
  expect(await publishPending(second, publisher(0), log, 0)).toBe(0); // nothing sent twice
  await second.close();
});
