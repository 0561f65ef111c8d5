/**
 * Downloads are fair between jobs, through the shared stack's downloader
 * (8 slots, at most 6 per job and 6 per host name): a job of many slow URLs
 * cannot make a small job wait, and the per-host limit counts the host of
 * every redirect hop, so URLs of other sites that redirect to one victim
 * still reach it 6 at a time.
 */
import { describe, expect, test } from "bun:test";
import { newId } from "../../servers/shared/ids.ts";
import { useStack } from "../stack.ts";
import { held, servePhotos } from "../support/fixtures.ts";
import { getJob, submit, waitFinal } from "../support/jobs.ts";
import { until } from "../support/wait.ts";

describe("fair downloads", () => {
  test("a job of 20 slow URLs holds at most its share of slots: a 3-file job submitted after it completes first", async () => {
    const { web, fixtures, config } = await useStack();
    const slow = held();
    const prefix = `/fair-${newId().slice(0, 8)}`;
    const big = await submit(web, Array.from({ length: 20 }, (_, i) => fixtures.route(`${prefix}/big-${i}.bin`, slow.handler)));
    await until("the big job to fill its share", () => slow.open === config.PER_JOB_CONCURRENCY);
    // (from another host name of the fixture server: the big job's host has no free slot left, by the per-host limit)
    const small = await submit(web, servePhotos(fixtures, `${prefix.slice(1)}-small`).slice(0, 3).map((u) => u.replace("127.0.0.1", "localhost")));
    try {
      const done = await waitFinal(web, small, 30_000);
      expect([done.state, done.files.map((f) => f.state)]).toEqual(["ready", ["done", "done", "done"]]);
      // the big job is still at it (its files are held; one that began less than PROGRESS_INTERVAL_MS ago may not say so yet)
      expect(["queued", "downloading"]).toContain((await getJob(web, big)).state);
      expect(slow.peak).toBe(config.PER_JOB_CONCURRENCY);
    } finally {
      slow.release();
    }
    const bigDone = await waitFinal(web, big, 60_000);
    expect(bigDone.files.filter((f) => f.state === "done").length).toBe(20);
  }, 120_000);

  test("the per-host limit counts every redirect hop: URLs of another host redirected to a busy one wait for it", async () => {
    const { web, fixtures, config } = await useStack();
    const target = held();
    const prefix = `/hop-${newId().slice(0, 8)}`;
    const n = config.PER_HOST_CONCURRENCY;
    // Job 1 fills the limit of host 127.0.0.1 directly.
    const direct = await submit(web, Array.from({ length: n }, (_, i) => fixtures.route(`${prefix}/direct-${i}.bin`, target.handler)));
    await until("the direct downloads to hold every slot of the host", () => target.open === n);
    // Job 2's URLs name another host (localhost) and redirect to 127.0.0.1.
    const hops = Array.from({ length: 2 }, (_, i) => {
      fixtures.route(`${prefix}/final-${i}.bin`, target.handler);
      return fixtures.route(`${prefix}/redirect-${i}`, () => Response.redirect(`${fixtures.origin}${prefix}/final-${i}.bin`, 302)).replace("127.0.0.1", "localhost");
    });
    const redirected = await submit(web, hops);
    await until("the redirects to be followed", () => [0, 1].every((i) => fixtures.hits(`${prefix}/redirect-${i}`) === 1));
    target.release();
    for (const id of [direct, redirected]) expect((await waitFinal(web, id, 60_000)).state).toBe("ready");
    expect([0, 1].map((i) => fixtures.hits(`${prefix}/final-${i}.bin`))).toEqual([1, 1]);
    expect(target.peak).toBe(n);
  }, 120_000);
});
