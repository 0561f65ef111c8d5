/**
 * Nothing grows without bound, on a stack of its own with short lifetimes
 * (JOB_RETENTION_SECONDS=3, LINK_TTL_SECONDS=3, JOB_STALL_SECONDS=2, a sweep
 * every second, no clock skew allowed, logs capped at 1 KiB): an expired
 * link's archive is deleted, the link guard forgets a used link once it has
 * expired, a finished job is forgotten and then answers 410 (an id never seen: 404),
 * a job whose folder stalled fails with the reason, a folder a crash left
 * retired is deleted, dead letters are bounded
 * by a policy, and logs are rotated.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, statSync } from "node:fs";
import { newId } from "../../servers/shared/ids.ts";
import { dataFileName, ensureJobDir, jobDir, writeOutcome } from "../../servers/shared/jobfiles.ts";
import { keys } from "../../servers/shared/topology.ts";
import { rabbitmqctl } from "../../scripts/lib/rabbitmq.ts";
import { createStack } from "../stack.ts";
import { watch } from "../support/events.ts";
import { archivesOf, submit, waitFinal } from "../support/jobs.ts";
import { until } from "../support/wait.ts";

let stack: Awaited<ReturnType<typeof createStack>>;
beforeAll(async () => {
  stack = await createStack({ JOB_RETENTION_SECONDS: "3", LINK_TTL_SECONDS: "3", JOB_STALL_SECONDS: "2", SWEEP_INTERVAL_SECONDS: "1", CLOCK_SKEW_SECONDS: "0", LOG_MAX_BYTES: "1024" });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
}, 60_000);

const status = async (url: string) => (await fetch(url, { headers: { accept: "application/json" } })).status;

describe("lifetimes", () => {
  test("an expired link's archive is deleted; the job is forgotten after its retention and answers 410", async () => {
    const { web, fixtures, config } = stack;
    const id = await submit(web, [fixtures.route(`/ret-${newId()}/a.txt`, "kept a while\n", "text/plain")]);
    const job = await waitFinal(web, id);
    expect(job.state).toBe("ready");
    expect(archivesOf(config, id).length).toBe(1);
    await until("the expired link's archive to be deleted", () => archivesOf(config, id).length === 0, 30_000);
    expect((await fetch(job.link!)).status).toBe(410);
    await until("the job to be forgotten (410)", async () => (await status(`${web}/jobs/${id}`)) === 410, 30_000);
    const r = await fetch(`${web}/jobs/${id}`, { headers: { accept: "application/json" } });
    expect(await r.json()).toEqual({ error: "this job has expired" });
    expect(await status(`${web}/jobs/${newId()}`)).toBe(404);
  }, 60_000);

  test("the link guard remembers a used link until it expires, then forgets it; the link stays refused", async () => {
    const { web, fixtures, config } = stack;
    const id = await submit(web, [fixtures.route(`/used-${newId()}/a.txt`, "downloaded once\n", "text/plain")]);
    const job = await waitFinal(web, id);
    const got = await fetch(job.link!);
    expect([got.status, await got.text()]).toEqual([200, expect.any(String)]);
    const key = new URL(job.link!).pathname;
    const ledger = new Database(`${config.STATE_DIR}/linkguard.sqlite`, { readonly: true });
    try {
      const row = () => ledger.query<{ used_at: number | null }, [string]>("SELECT used_at FROM guard_links WHERE key = ?").get(key);
      await until("the guard to record the link as used", () => row()?.used_at != null, 10_000);
      expect((await fetch(job.link!)).status).toBe(410);
      await until("the guard to forget the expired link", () => row() === null, 30_000);
    } finally {
      ledger.close();
    }
    expect((await fetch(job.link!)).status).toBe(410); // nginx: expired
  }, 60_000);

  test("a job whose download folder stalled fails with the reason, its folder removed", async () => {
    const { config } = stack;
    // What a job whose last message was lost leaves: one of its two outcomes, then nothing.
    const id = newId();
    const dir = jobDir(config, id);
    await ensureJobDir(dir);
    await Bun.write(`${dir}/${dataFileName(0, "a.txt")}`, "a");
    await writeOutcome(dir, { index: 0, total: 2, url: "http://x/a.txt", state: "done", name: "a.txt", file: dataFileName(0, "a.txt"), bytes: 1, crc32: 0, error: null });
    const w = await watch(config, keys.failed(id));
    try {
      const ev = await w.next((e) => e.ev.type === "failed", "the stalled job's failure", 30_000);
      expect(ev.ev.type === "failed" && ev.ev.error).toMatch(/stopped.*1 of 2 files/);
      await until("the folder to be removed", () => !existsSync(dir));
    } finally {
      await w.close();
    }
  }, 60_000);

  test("a finished job's folder that a crash left retired (moved off its name, not yet deleted) is deleted by the sweep", async () => {
    const { config } = stack;
    const left = `${config.DOWNLOADS_DIR}/.retired/${newId()}.dead`;
    await ensureJobDir(left);
    await Bun.write(`${left}/${dataFileName(0, "a.txt")}`, "a");
    await until("the retired folder to be deleted", () => !existsSync(left), 30_000);
  }, 60_000);

  test("dead letters are bounded by a policy; every process's log is rotated past its cap", async () => {
    const { config, web, fixtures } = stack;
    const queues = await rabbitmqctl(config, ["list_queues", "name", "policy", "--no-table-headers"]);
    expect(queues).toMatch(/linkpack\.dead-letters\s+linkpack-dead-letters/);
    // enough work to write more than 1 KiB of log lines in the parts that log each file
    for (let i = 0; i < 6; i++) await waitFinal(web, await submit(web, Array.from({ length: 5 }, (_, j) => fixtures.route(`/logs-${newId()}/${j}.txt`, `file ${j}\n`, "text/plain"))));
    for (const part of ["downloader", "compressor"])
      await until(`${part}'s log to be rotated`, () => existsSync(`${config.RUN_DIR}/logs/${part}.log.1`) && statSync(`${config.RUN_DIR}/logs/${part}.log`).size < 3 * 1024, 30_000);
    for (const part of ["web", "downloader", "compressor", "linkguard", "clock"]) expect(statSync(`${config.RUN_DIR}/logs/${part}.log`).size, part).toBeLessThan(3 * 1024);
  }, 60_000);
});
