/**
 * Scale-out and load: two downloader processes on one queue compress each
 * job exactly once with all its files; 200 small jobs within ~10 s all
 * finish, leave no message behind, and memory returns to its baseline.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { loadConfig, type Config } from "../../servers/shared/config.ts";
import type { LinkEvent } from "../../servers/shared/messages.ts";
import { keys } from "../../servers/shared/topology.ts";
import { readPid, stopProcess } from "../../scripts/lib/procs.ts";
import { SERVERS, startPart } from "../../scripts/lib/stack.ts";
import { rabbitmqctl } from "../../scripts/lib/rabbitmq.ts";
import { useStack } from "../stack.ts";
import { freePort } from "../../scripts/lib/ports.ts";
import { entries, fetchLink, submit, waitFinal, watch } from "../e2e/util.ts";
import { until } from "./helpers.ts";

const archivesOf = (config: Config, id: string) =>
  readdirSync(config.ARCHIVES_DIR, { recursive: true }).map(String).filter((p) => p.endsWith(`${id}.zip`));

const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);

async function queuesEmpty(config: Config): Promise<boolean> {
  const out = await rabbitmqctl(config, ["list_queues", "-q", "name", "messages_ready", "messages_unacknowledged"]);
  return out
    .split("\n")
    .filter((l) => /^linkpack\.(downloads|compress|web\.progress)\s/.test(l))
    .every((l) => /\s0\s+0$/.test(l.trim()));
}

describe("scale", () => {
  test("two downloaders, 20 jobs at once: 20 links, each archive complete, none compressed twice", async () => {
    const { web, fixtures, config, env } = await useStack();
    const second = loadConfig({ ...env, DOWNLOADER_PORT: String(freePort()) });
    await startPart(second, "downloader", 90_000, "downloader-2");
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
      await Bun.sleep(500);
      await links.close();
      for (const id of ids) expect(links.events.filter((e) => (e.ev as LinkEvent).jobId === id).length).toBe(1);
      // both downloaders did work
      const log2 = readFileSync(`${config.RUN_DIR}/logs/downloader-2.log`, "utf8");
      expect(log2.length).toBeGreaterThan(0);
    } finally {
      await stopProcess(config.RUN_DIR, "downloader-2");
    }
  }, 240_000);

  test("200 jobs of 10 small files within ~10 s: 200 links, nothing left unacked, memory back to baseline", async () => {
    const { web, fixtures, config } = await useStack();
    const pids = SERVERS.map((s) => readPid(config.RUN_DIR, s)!);
    const before = pids.map(rssKb);
    const urls = Array.from({ length: 10 }, (_, i) => fixtures.route(`/load/f${i}.bin`, new Uint8Array(2000 + i * 100).fill(i), "application/octet-stream"));
    const ids: string[] = [];
    for (let j = 0; j < 200; j++) {
      ids.push(await submit(web, urls));
      await Bun.sleep(30);
    }
    for (const id of ids) {
      const job = await waitFinal(web, id, 240_000);
      expect(job.state).toBe("ready");
      expect(job.files.every((f) => f.state === "done")).toBe(true);
    }
    for (const id of [ids[0]!, ids[99]!, ids[199]!]) {
      const job = await waitFinal(web, id);
      expect(Object.keys(entries((await fetchLink(job.link!)).body)).length).toBe(10);
    }
    await until(() => queuesEmpty(config), 30_000, "queues drained");
    Bun.gc(true);
    await Bun.sleep(3000);
    const after = pids.map(rssKb);
    for (const [i, s] of SERVERS.entries()) expect(after[i]!, `${s} RSS ${before[i]} → ${after[i]} kB`).toBeLessThan(before[i]! + 80 * 1024);
  }, 300_000);
});
