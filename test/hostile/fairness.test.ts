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
import { getJob, servePhotos, submit, waitFinal } from "../e2e/util.ts";
import { until } from "../faults/helpers.ts";

/** Fixture responses held open (one byte every 500 ms) until `release()`, counting how many are open at once. */
function heldOpen() {
  let released = false;
  let open = 0;
  let peak = 0;
  const handler = () => {
    open++;
    peak = Math.max(peak, open);
    let closed = false;
    const close = () => {
      if (!closed) (closed = true), open--;
    };
    return new Response(
      new ReadableStream<Uint8Array>({
        async start(c) {
          c.enqueue(new Uint8Array(1000).fill(1));
          while (!released) {
            await Bun.sleep(500);
            c.enqueue(new Uint8Array(1));
          }
          c.enqueue(new Uint8Array(1000).fill(2));
          c.close();
          close();
        },
        cancel: close,
      }),
      { headers: { "content-type": "application/octet-stream" } },
    );
  };
  return { handler, release: () => void (released = true), get open() { return open; }, get peak() { return peak; } };
}

describe("fair downloads", () => {
  test("a job of 20 slow URLs holds at most its share of slots: a 3-file job submitted after it completes first", async () => {
    const { web, fixtures, config } = await useStack();
    const slow = heldOpen();
    const prefix = `/fair-${newId().slice(0, 8)}`;
    const big = await submit(web, Array.from({ length: 20 }, (_, i) => fixtures.route(`${prefix}/big-${i}.bin`, slow.handler)));
    await until(() => slow.open === config.PER_JOB_CONCURRENCY, 30_000, "the big job to fill its share");
    // (from another host name of the fixture server: the big job's host has no free slot left, by the per-host limit)
    const small = await submit(web, servePhotos(fixtures, `${prefix.slice(1)}-small`).slice(0, 3).map((u) => u.replace("127.0.0.1", "localhost")));
    try {
      const done = await waitFinal(web, small, 30_000);
      expect([done.state, done.files.map((f) => f.state)]).toEqual(["ready", ["done", "done", "done"]]);
      expect((await getJob(web, big)).state).toBe("downloading");
      expect(slow.peak).toBe(config.PER_JOB_CONCURRENCY);
    } finally {
      slow.release();
    }
    const bigDone = await waitFinal(web, big, 60_000);
    expect(bigDone.files.filter((f) => f.state === "done").length).toBe(20);
  }, 120_000);

  test("the per-host limit counts every redirect hop: URLs of another host redirected to a busy one wait for it", async () => {
    const { web, fixtures, config } = await useStack();
    const target = heldOpen();
    const prefix = `/hop-${newId().slice(0, 8)}`;
    const n = config.PER_HOST_CONCURRENCY;
    // Job 1 fills the limit of host 127.0.0.1 directly.
    const direct = await submit(web, Array.from({ length: n }, (_, i) => fixtures.route(`${prefix}/direct-${i}.bin`, target.handler)));
    await until(() => target.open === n, 30_000, "the direct downloads to hold every slot of the host");
    // Job 2's URLs name another host (localhost) and redirect to 127.0.0.1.
    const hops = Array.from({ length: 2 }, (_, i) => {
      fixtures.route(`${prefix}/final-${i}.bin`, target.handler);
      return fixtures.route(`${prefix}/redirect-${i}`, () => Response.redirect(`${fixtures.origin}${prefix}/final-${i}.bin`, 302)).replace("127.0.0.1", "localhost");
    });
    const redirected = await submit(web, hops);
    await until(() => [0, 1].every((i) => fixtures.hits(`${prefix}/redirect-${i}`) === 1), 30_000, "the redirects to be followed");
    target.release();
    for (const id of [direct, redirected]) expect((await waitFinal(web, id, 60_000)).state).toBe("ready");
    expect([0, 1].map((i) => fixtures.hits(`${prefix}/final-${i}.bin`))).toEqual([1, 1]);
    expect(target.peak).toBe(n);
  }, 120_000);
});
