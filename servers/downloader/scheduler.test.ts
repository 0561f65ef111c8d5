import { expect, test } from "bun:test";
import { Deferred } from "../shared/consumer.ts";
import { TransientError } from "../shared/errors.ts";
import { HostLimit } from "./hostlimit.ts";
import { Scheduler } from "./scheduler.ts";
import { settle } from "../../test/support/wait.ts";

/** A task that runs until its gate is opened; records what runs. */
function harness(o: { slots: number; perJob: number; room: number; perHost?: number }) {
  const s = new Scheduler({ ...o, deferMs: 0 }, new HostLimit(o.perHost ?? 100));
  const running = new Set<string>();
  const gates = new Map<string, () => void>();
  const start = (job: string, name: string, host = `${name}.example`, signal?: AbortSignal) =>
    s.run(job, host, async () => {
      running.add(name);
      await new Promise<void>((r) => gates.set(name, r));
      running.delete(name);
      return name;
    }, signal);
  const open = async (name: string) => {
    gates.get(name)!();
    await settle();
  };
  return { s, running, start, open };
}

test("a job holds at most its share: a small job that comes later starts at once beside a big slow one", async () => {
  const h = harness({ slots: 4, perJob: 3, room: 50 });
  const big = Array.from({ length: 20 }, (_, i) => h.start("big", `b${i}`).catch(() => {}));
  await settle();
  expect([...h.running]).toEqual(["b0", "b1", "b2"]);
  const small = ["s0", "s1"].map((n) => h.start("small", n));
  await settle();
  expect([...h.running].sort()).toEqual(["b0", "b1", "b2", "s0"]);
  await h.open("s0");
  expect(h.running.has("s1")).toBe(true);
  await h.open("s1");
  expect(await Promise.all(small)).toEqual(["s0", "s1"]);
  // with the small job gone, the big one still runs only its share
  expect([...h.running].sort()).toEqual(["b0", "b1", "b2"]);
  await h.open("b0");
  expect([...h.running].sort()).toEqual(["b1", "b2", "b3"]);
  expect(h.s.load).toEqual({ running: 3, waiting: 16 });
  void big;
});

test("a file waits for its first host's slot without holding a download slot", async () => {
  const h = harness({ slots: 3, perJob: 3, room: 50, perHost: 1 });
  void h.start("a", "one", "same.example");
  void h.start("a", "two", "same.example");
  void h.start("b", "other", "other.example");
  await settle();
  expect([...h.running].sort()).toEqual(["one", "other"]);
  await h.open("one");
  expect([...h.running].sort()).toEqual(["other", "two"]);
});

test("past the waiting room a file is deferred (back to the queue), and a shutdown stops the waiting ones", async () => {
  const h = harness({ slots: 1, perJob: 1, room: 2 });
  void h.start("a", "a0");
  const ac = new AbortController();
  const waiting = [h.start("a", "a1", undefined, ac.signal), h.start("a", "a2", undefined, ac.signal)];
  await expect(h.start("a", "a3")).rejects.toBeInstanceOf(Deferred);
  ac.abort();
  const ended = await Promise.allSettled(waiting);
  for (const e of ended) expect(e.status === "rejected" && e.reason instanceof TransientError).toBe(true);
  expect(h.s.load).toEqual({ running: 1, waiting: 0 });
});
