/**
 * Faults lose nothing: a SIGKILLed downloader or compressor, a broker
 * restart, a web restart — each mid-job — and the job still completes with
 * every file, no duplicate files and exactly one archive. A web process
 * killed between recording a job and publishing it leaves the job to the next.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { WORK_EXCHANGE, keys } from "../../servers/shared/topology.ts";
import type { CompressEvent } from "../../servers/shared/messages.ts";
import { useStack } from "../stack.ts";
import { openJobStore } from "../../servers/web/store.ts";
import { newJob } from "../../servers/shared/jobstate.ts";
import { newId } from "../../servers/shared/ids.ts";
import { textFile } from "../../scripts/lib/samples.ts";
import { publish } from "../support/broker.ts";
import { followLog, watch } from "../support/events.ts";
import { photos, trickle } from "../support/fixtures.ts";
import { archivesOf, entries, fetchLink, getJob, submit, waitFinal } from "../support/jobs.ts";
import { gracefulRestart, kill9, restart, restartBroker } from "../support/parts.ts";
import { until } from "../support/wait.ts";

/** Submits the 10 photos served slowly (~`ms` each) under `prefix`. */
async function slowJob(prefix: string, ms: number): Promise<string> {
  const { web, fixtures } = await useStack();
  const urls = photos().map((p) => fixtures.route(`/${prefix}/${p.name}`, trickle(p.bytes, ms), p.type));
  return submit(web, urls);
}

/** The job ends ready with all 10 photos, byte for byte, in exactly one archive (burned once downloaded). */
async function expectComplete(id: string): Promise<void> {
  const { web, config } = await useStack();
  const job = await waitFinal(web, id, 120_000);
  expect(job.state).toBe("ready");
  expect(job.files.every((f) => f.state === "done")).toBe(true);
  expect(archivesOf(config, id).length).toBe(1);
  const zip = entries((await fetchLink(job.link!)).body);
  expect(Object.keys(zip).sort()).toEqual(photos().map((p) => p.name).sort());
  for (const p of photos()) expect(Buffer.from(zip[p.name]!).equals(Buffer.from(p.bytes))).toBe(true);
  await until("the downloaded archive to be deleted", () => archivesOf(config, id).length === 0);
}

describe("faults mid-job", () => {
  test("kill -9 the downloader mid-job, then start: the job completes", async () => {
    const { web, config } = await useStack();
    const id = await slowJob("f-dl", 3000);
    await until("download progress", async () => (await getJob(web, id)).files.some((f) => f.bytes > 0));
    await kill9(config, "downloader");
    await restart(config, "downloader");
    await expectComplete(id);
  }, 180_000);

  test("kill -9 the compressor mid-archive, then start: completes, no partial archive left or served", async () => {
    const { web, fixtures, config } = await useStack();
    const big = textFile("csv", 120 * 1024 * 1024, 7);
    const url = fixtures.route("/f-cmp/big.csv", big, "text/csv");
    const w = await watch(config, keys.compressProgress("*"));
    const r = await fetch(`${web}/jobs`, { method: "POST", headers: { "content-type": "text/plain" }, body: url });
    const { id } = (await r.json()) as { id: string };
    await w.next((e) => (e.ev as CompressEvent).jobId === id && (e.ev as CompressEvent).percent > 0, "compression under way", 60_000);
    await kill9(config, "compressor");
    await w.close();
    await restart(config, "compressor");
    const job = await waitFinal(web, id, 120_000);
    expect(job.state).toBe("ready");
    expect(archivesOf(config, id).length).toBe(1);
    const got = await fetchLink(job.link!);
    expect(Buffer.from(entries(got.body)["big.csv"]!).equals(Buffer.from(big))).toBe(true);
    const partial = `${config.ARCHIVES_DIR}/.partial`;
    expect(existsSync(partial) ? readdirSync(partial) : []).toEqual([]);
  }, 180_000);

  test("restart the broker mid-job: every process reconnects and the job completes", async () => {
    const { web, config } = await useStack();
    const id = await slowJob("f-broker", 4000);
    await until("download progress", async () => (await getJob(web, id)).files.some((f) => f.bytes > 0));
    await restartBroker(config);
    await expectComplete(id);
    await until("web healthy again", async () => (await fetch(`${web}/healthz`)).status === 200);
  }, 180_000);

  test("restart the web server mid-job: the job completes and its JSON still shows it", async () => {
    const { web, config } = await useStack();
    const id = await slowJob("f-web", 3000);
    await until("download progress", async () => (await getJob(web, id)).files.some((f) => f.bytes > 0));
    await gracefulRestart(config, "web");
    await expectComplete(id);
    const job = await getJob(web, id);
    expect(job.files.map((f) => f.bytes)).toEqual(photos().map((p) => p.bytes.length));
  }, 180_000);
});

test("a job recorded but not published when the web server was killed is published by the next web process (after the outbox's grace period) and completes", async () => {
  const { web, fixtures, config } = await useStack();
  await kill9(config, "web");
  // What a kill between `store.create` and the publish leaves behind: the job in the store, unpublished, no message sent.
  const urls = photos().map((p) => fixtures.route(`/f-outbox/${p.name}`, p.bytes, p.type));
  const id = newId();
  const store = await openJobStore(`${config.STATE_DIR}/web`, { databaseUrl: config.DATABASE_URL });
  await store.create(newJob(id, urls));
  await store.close();
  await restart(config, "web");
  await expectComplete(id);
  expect((await getJob(web, id)).files.every((f) => f.state === "done")).toBe(true);
  for (const p of photos()) expect(fixtures.hits(`/f-outbox/${p.name}`)).toBe(1);
}, 120_000);

test("a download message redelivered after its job finished is dropped: no stray folder, no second link", async () => {
  const { web, fixtures, config } = await useStack();
  const url = fixtures.route("/f-late/a.txt", "late\n", "text/plain");
  const id = await submit(web, [url]);
  expect((await waitFinal(web, id)).state).toBe("ready");
  const links = await watch(config, keys.link(id));
  const log = followLog(config, "downloader");
  await publish(config, WORK_EXCHANGE, keys.download(id), { v: 1, jobId: id, index: 0, total: 1, url }, { persistent: true });
  await log.next(["job already finished; dropping a late redelivery", `job=${id}`]);
  await links.sync();
  await links.close();
  expect(existsSync(`${config.DOWNLOADS_DIR}/${id}`)).toBe(false);
  expect(links.events).toEqual([]);
  expect(fixtures.hits("/f-late/a.txt")).toBe(1);
}, 60_000);
