/** Job creation through the store-as-outbox: published once made, and finished by the next process when a publish did not complete. */
import { afterAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createLogger } from "../shared/log.ts";
import { parseDownloadRequest, type DownloadRequest } from "../shared/messages.ts";
import { WORK_EXCHANGE, keys } from "../shared/topology.ts";
import { newJob } from "../shared/jobstate.ts";
import { createJob, publishPending } from "./jobs.ts";
import { JobStore } from "./store.ts";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(`${tmpdir()}/linkpack-jobs-`);
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
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

test("a store from before the outbox opens with its jobs counted as published", () => {
  const dir = tmp();
  const old = new Database(`${dir}/jobs.sqlite`, { create: true });
  old.exec("CREATE TABLE jobs (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, view TEXT NOT NULL)");
  const job = newJob("0123456789abcdef0123456789abcdef", ["https://a.example/1"]);
  old.run("INSERT INTO jobs VALUES (?, ?, ?)", [job.id, job.created_at, JSON.stringify(job)]);
  old.close();
  const store = new JobStore(dir);
  expect(store.get(job.id)?.files[0]?.url).toBe("https://a.example/1");
  expect(store.unpublished()).toEqual([]);
  store.close();
});
