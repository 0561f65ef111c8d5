/**
 * Folding progress into the web server's job store, through the real broker:
 * a malformed event is dead-lettered and does not block the queue; one job's
 * events are folded one after another.
 */
import { expect, test } from "bun:test";
import { PROGRESS_EXCHANGE, WEB_PROGRESS_QUEUE, keys } from "../shared/topology.ts";
import { useStack } from "../../test/stack.ts";
import { queuesDrained, tester } from "../../test/support/broker.ts";
import { deadLetters } from "../../test/support/events.ts";
import { submit } from "../../test/support/jobs.ts";
import { until } from "../../test/support/wait.ts";
import { createLogger } from "../shared/log.ts";
import { progressConsumer } from "./progressfold.ts";

test("malformed progress events are dead-lettered; the queue keeps draining", async () => {
  const { web, config } = await useStack();
  // A job whose only URL is refused at once, so nothing else moves it.
  const id = await submit(web, ["http://192.0.2.1:9/never.jpg"]);
  const dead = await deadLetters(config);
  const t = await tester(config);
  try {
    const marker = `malformed-${crypto.randomUUID()}`;
    await t.send(PROGRESS_EXCHANGE, keys.file(id, 0), Buffer.from(`{not json ${marker}`));
    await t.send(PROGRESS_EXCHANGE, keys.file(id, 0), { v: 1, type: "file", jobId: id, marker });
    const mine = () => dead.events.map((m) => m.content.toString()).filter((b) => b.includes(marker));
    await until("both malformed events to be dead-lettered", () => mine().length === 2, 20_000);
    expect(mine().sort()).toEqual([`{not json ${marker}`, JSON.stringify({ v: 1, type: "file", jobId: id, marker })].sort());
    // The queue is not blocked: it drains to empty (nothing ready, nothing unacknowledged).
    await until("the web progress queue to drain", () => queuesDrained(config, [WEB_PROGRESS_QUEUE]));
  } finally {
    await t.close();
    await dead.close();
  }
}, 60_000);

test("one job's events are folded one after another (the consumer runtime chains them by job), other jobs' beside them", () => {
  const spec = progressConsumer({ store: { apply: async () => null }, log: createLogger("test", "error"), config: { PUBLIC_URL: "https://x.example" }, secret: "s" });
  const file = (jobId: string) => ({ v: 1, type: "file", jobId, index: 0, total: 1, url: "u", name: null, state: "done", bytes: 0, size: 0, error: null, at: 0 }) as const;
  const link = (jobId: string) => ({ v: 1, type: "link", jobId, link: "l", expiresAt: "e", bytes: 0, entries: 1, at: 0 }) as const;
  expect(spec.key?.(file("a"))).toBe(spec.key?.(link("a"))!);
  expect(spec.key?.(file("a"))).not.toBe(spec.key?.(file("b"))!);
});
