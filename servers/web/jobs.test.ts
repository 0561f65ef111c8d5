/** Job creation through the store-as-outbox: published once made, and finished by the next process when a publish did not complete. */
import { expect, test } from "bun:test";
import { createLogger } from "../shared/log.ts";
import { parseDownloadRequest, type DownloadRequest } from "../shared/messages.ts";
import { WORK_EXCHANGE, keys } from "../shared/topology.ts";
import { createJob, publishPending } from "./jobs.ts";
import { useTempDirs } from "./testapp.ts";
import { JobStore } from "./store.ts";

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
  const store = new JobStore(tmp());
  const p = publisher();
  const job = await createJob(store, p, ["https://a.example/1", "https://b.example/2"]);
  expect(p.sent.map((s) => [s.exchange, s.key, s.msg.index, s.msg.total, s.msg.url])).toEqual([
    [WORK_EXCHANGE, keys.download(job.id), 0, 2, "https://a.example/1"],
    [WORK_EXCHANGE, keys.download(job.id), 1, 2, "https://b.example/2"],
  ]);
  expect(store.unpublished()).toEqual([]);
  store.close();
});

test("a publish cut short leaves the job pending; the next process (a new store on the same file) publishes all of it", async () => {
  const dir = tmp();
  const first = new JobStore(dir);
  const urls = ["https://a.example/1", "https://b.example/2", "https://c.example/3"];
  await expect(createJob(first, publisher(1), urls)).rejects.toThrow("gone");
  first.close();

  const second = new JobStore(dir);
  const [pending] = second.unpublished();
  expect(pending!.files.map((f) => f.url)).toEqual(urls);
  const p = publisher();
  expect(await publishPending(second, p, log)).toBe(1);
  expect(p.sent.map((s) => [s.msg.jobId, s.msg.index, s.msg.total])).toEqual(urls.map((_, i) => [pending!.id, i, 3]));
  expect(second.unpublished()).toEqual([]);
  expect(await publishPending(second, publisher(0), log)).toBe(0); // nothing sent twice
  second.close();
});
