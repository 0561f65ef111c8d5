import { expect, test } from "bun:test";
import { QueueDepth } from "./queuedepth.ts";

/** A depth source that counts its calls, and a clock the test moves. */
function setup(max: number) {
  const src = { depth: 0, calls: 0 };
  const clock = { t: 0 };
  const q = new QueueDepth(async () => (src.calls++, src.depth), { max, maxAgeMs: 1000, now: () => clock.t });
  return { src, clock, q };
}

test("a job fits while depth + its files stays within the limit", async () => {
  const { src, q } = setup(10);
  src.depth = 7;
  expect(await q.fits(3)).toBe(true);
  expect(await q.fits(4)).toBe(false);
});

test("the broker is asked at most once per second, by concurrent callers too", async () => {
  const { src, clock, q } = setup(10);
  await Promise.all(Array.from({ length: 20 }, () => q.depth()));
  expect(src.calls).toBe(1);
  clock.t = 999;
  src.depth = 5;
  expect(await q.depth()).toBe(0);
  clock.t = 1000;
  expect(await q.depth()).toBe(5);
  expect(src.calls).toBe(2);
});

test("a failed answer is not cached: the next call asks again", async () => {
  let fail = true;
  const q = new QueueDepth(async () => {
    if (fail) throw new Error("channel closed");
    return 1;
  }, { max: 10 });
  await expect(q.depth()).rejects.toThrow("channel closed");
  fail = false;
  expect(await q.depth()).toBe(1);
});
