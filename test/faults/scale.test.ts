/**
 * Scale-out and load: two downloader processes on one queue both do work
 * and compress each job exactly once with all its files; 200 jobs at once
 * all finish and leave no message behind. (How fast, and how much memory
 * it takes, are bench figures: `bun run bench`.)
 */
import { describe, expect, test } from "bun:test";
import type { LinkEvent } from "../../servers/shared/messages.ts";
import { keys } from "../../servers/shared/topology.ts";
import { useStack } from "../stack.ts";
import { queuesDrained } from "../support/broker.ts";
import { watch } from "../support/events.ts";
import { archivesOf, entries, fetchLink, submit, waitFinal } from "../support/jobs.ts";
import { extraDownloader } from "../support/parts.ts";
import { until } from "../support/wait.ts";

/** The jobs among `ids` that a downloader's log says it downloaded a file of. */
const downloadedJobs = (log: string, ids: string[]) => ids.filter((id) => log.includes(` downloaded job=${id} `));

describe("scale", () => {
  test("two downloaders, 20 jobs at once: both download, 20 links, each archive complete, none compressed twice", async () => {
    const { web, fixtures, config, env } = await useStack();
    const second = await extraDownloader(env, "downloader-2");
    try {
      const links = await watch(config, keys.link("*"));
      const jobs = Array.from({ length: 20 }, (_, j) =>
        Array.from({ length: 5 }, (_, i) => fixtures.route(`/s2/${j}/f${i}.txt`, `job ${j} file ${i} `.repeat(1000 + i * 50), "text/plain")),
      );
      const ids = await Promise.all(jobs.map((urls) => submit(web, urls)));
      for (const [j, id] of ids.entries()) {
        const job = await waitFinal(web, id, 120_000);
        expect(job.state).toBe("ready");
        expect(archivesOf(config, id).length).toBe(1);
        const zip = entries((await fetchLink(job.link!)).body);
        expect(Object.keys(zip).length).toBe(5);
        for (let i = 0; i < 5; i++) expect(new TextDecoder().decode(zip[`f${i}.txt`])).toBe(`job ${j} file ${i} `.repeat(1000 + i * 50));
      }
      // Every hand-over to the compressor is handled to the end (a download message is acked only once its job
      // was handed over; a compress request once its events are out), and every link event of then has arrived.
      await until("the work queues to be drained", () => queuesDrained(config), 60_000);
      await links.sync();
      await links.close();
      for (const id of ids) expect(links.events.filter((e) => (e.ev as LinkEvent).jobId === id).length, id).toBe(1);
      // Both downloaders downloaded files of these jobs.
      const first = await Bun.file(`${config.RUN_DIR}/logs/downloader.log`).text();
      expect(downloadedJobs(first, ids).length).toBeGreaterThan(0);
      expect(downloadedJobs(await second.log(), ids).length).toBeGreaterThan(0);
    } finally {
      await second.stop();
    }
  }, 240_000);

  test("200 jobs of 10 small files at once: 200 links, nothing left in the queues", async () => {
    const { web, fixtures, config } = await useStack();
    const urls = Array.from({ length: 10 }, (_, i) => fixtures.route(`/load/f${i}.bin`, new Uint8Array(2000 + i * 100).fill(i), "application/octet-stream"));
    const ids: string[] = [];
    for (let j = 0; j < 200; j++) ids.push(await submit(web, urls));
    for (const id of ids) {
      const job = await waitFinal(web, id, 240_000);
      expect(job.state).toBe("ready");
      expect(job.files.every((f) => f.state === "done")).toBe(true);
    }
    for (const id of [ids[0]!, ids[99]!, ids[199]!]) {
      const job = await waitFinal(web, id);
      expect(Object.keys(entries((await fetchLink(job.link!)).body)).length).toBe(10);
    }
    await until("the work queues to be drained", () => queuesDrained(config));
  }, 300_000);
});
