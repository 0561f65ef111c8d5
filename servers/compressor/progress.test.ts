import { expect, test } from "bun:test";
import { EventsHeldBack, Progress } from "./progress.ts";

test("0 first, 100 last, throttled and increasing in between, in publish order", async () => {
  let t = 0;
  const sent: number[] = [];
  const p = new Progress(1000, async (percent) => {
    await Bun.sleep(percent % 3); // confirms arrive at different speeds; order must hold
    sent.push(percent);
  }, { intervalMs: 100, now: () => t });
  await p.start();
  for (let done = 0; done <= 1000; done += 10) {
    t += 20;
    p.update(done);
  }
  await p.finish();
  expect(sent[0]).toBe(0);
  expect(sent.at(-1)).toBe(100);
  expect(sent.filter((x) => x === 100).length).toBe(1);
  expect([...sent].sort((a, b) => a - b)).toEqual(sent);
  // 100 updates over 2 s of fake time at one per 100 ms: about 20 events
  expect(sent.length).toBeGreaterThan(10);
  expect(sent.length).toBeLessThan(25);
});

test("a lost in-between event does not stop the rest", async () => {
  let t = 0;
  const sent: number[] = [];
  const p = new Progress(100, async (percent) => {
    if (percent === 50) throw new Error("lost");
    sent.push(percent);
  }, { intervalMs: 0, now: () => t++ });
  await p.start();
  p.update(50);
  p.update(70);
  await p.finish();
  expect(sent).toEqual([0, 70, 100]);
});

test("the work does not wait for 0's confirm, but finish does, and fails if 0 was never confirmed", async () => {
  const confirms: (() => void)[] = [];
  const sent: number[] = [];
  const p = new Progress(100, (percent) => new Promise<void>((resolve) => confirms.push(() => (sent.push(percent), resolve()))), { intervalMs: 0 });
  let started = false;
  void p.start().then(() => (started = true));
  await Bun.sleep(1);
  expect(started).toBe(true); // returned before the broker confirmed 0
  let finished = false;
  const f = p.finish().then(() => (finished = true));
  await Bun.sleep(1);
  expect(finished).toBe(false);
  confirms.shift()!(); // 0 confirmed; 100 is published after it
  await Bun.sleep(1);
  confirms.shift()!();
  await f;
  expect(sent).toEqual([0, 100]);

  const lost = new Progress(100, (percent) => (percent === 0 ? Promise.reject(new Error("broker gone")) : Promise.resolve()), { intervalMs: 0 });
  await lost.start();
  await expect(lost.finish()).rejects.toThrow("broker gone");
});

test("finish sends what follows 100 (the link) right behind it, before 100's confirm, and waits for both", async () => {
  const order: string[] = [];
  const confirms: (() => void)[] = [];
  const pending = (what: string) => new Promise<void>((resolve) => (order.push(what), confirms.push(resolve)));
  const p = new Progress(100, (percent) => pending(String(percent)), { intervalMs: 0 });
  await p.start();
  while (confirms.length < 1) await Bun.sleep(1);
  confirms.shift()!(); // 0 confirmed
  let finished = false;
  const f = p.finish(() => pending("link")).then(() => (finished = true));
  while (order.length < 3) await Bun.sleep(1);
  expect(order).toEqual(["0", "100", "link"]); // the link went out with 100 unconfirmed
  confirms.shift()!(); // 100 confirmed, the link not yet
  await Bun.sleep(5);
  expect(finished).toBe(false);
  confirms.shift()!();
  await f;
});

test("no event goes out before `ready` says yes, and none at all when it says no", async () => {
  let t = 0;
  const sent: number[] = [];
  let open!: (yes: boolean) => void;
  const p = new Progress(100, async (percent) => void sent.push(percent), { intervalMs: 10, now: () => t, ready: new Promise<boolean>((r) => (open = r)) });
  await p.start();
  t += 20;
  p.update(50);
  await Bun.sleep(0);
  expect(sent).toEqual([]);
  open(true);
  await p.finish();
  expect(sent).toEqual([0, 50, 100]);

  const shut: number[] = [];
  const q = new Progress(100, async (percent) => void shut.push(percent), { intervalMs: 10, now: () => t, ready: Promise.resolve(false) });
  await q.start();
  t += 20;
  q.update(50);
  await expect(q.finish()).rejects.toBeInstanceOf(EventsHeldBack);
  expect(shut).toEqual([]);
});
