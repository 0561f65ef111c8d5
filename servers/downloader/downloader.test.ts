/**
 * The downloader process through the real stack (RabbitMQ, the running
 * downloader and compressor): DownloadRequests published to WORK_EXCHANGE,
 * FileEvents observed on PROGRESS_EXCHANGE, malformed messages seen
 * dead-lettered (through a queue of the test's own on the dead-letter
 * exchange).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import amqp, { type ChannelModel, type ConfirmChannel } from "amqplib";
import { brokerUrl } from "../shared/brokerauth.ts";
import { newId } from "../shared/ids.ts";
import { encode, parseProgressEvent, type DownloadRequest, type FileEvent, type ProgressEvent } from "../shared/messages.ts";
import { PROGRESS_EXCHANGE, WORK_EXCHANGE, keys } from "../shared/topology.ts";
import { useStack, type TestStack } from "../../test/stack.ts";
import { deadLetters } from "../../test/support/events.ts";
import { photos } from "../../test/support/fixtures.ts";
import { until } from "../../test/support/wait.ts";

let stack: TestStack;
let conn: ChannelModel;
let ch: ConfirmChannel;

beforeAll(async () => {
  stack = await useStack();
  conn = await amqp.connect(brokerUrl(stack.config, "tester"));
  ch = await conn.createConfirmChannel();
}, 120_000);
afterAll(async () => {
  await conn?.close().catch(() => {});
});

/** Every progress event of `jobId`, in arrival order, from a temporary exclusive queue. */
async function observe(jobId: string): Promise<ProgressEvent[]> {
  const events: ProgressEvent[] = [];
  const { queue } = await ch.assertQueue("", { exclusive: true, autoDelete: true });
  await ch.bindQueue(queue, PROGRESS_EXCHANGE, keys.jobAll(jobId));
  await ch.consume(queue, (m) => m && events.push(parseProgressEvent(m.content)), { noAck: true });
  return events;
}

async function send(body: Buffer, jobId = newId(), messageId?: string): Promise<void> {
  ch.publish(WORK_EXCHANGE, keys.download(jobId), body, { persistent: true, contentType: "application/json", messageId });
  await ch.waitForConfirms();
}

const requests = (jobId: string, urls: string[]) => urls.map((url, index): DownloadRequest => ({ v: 1, jobId, index, total: urls.length, url }));
const files = (evs: ProgressEvent[]) => evs.filter((e): e is FileEvent => e.type === "file");
const finals = (evs: ProgressEvent[]) => files(evs).filter((e) => e.state === "done" || e.state === "failed");

describe("downloader through the stack", () => {
  test("every file reaches done with its bytes and name; failing URLs fail with their reason; file events come before compression", async () => {
    const { fixtures, closedPort } = stack;
    const jobId = newId();
    const pics = photos().slice(0, 4);
    const urls = [
      ...pics.map((p) => fixtures.route(`/dl-${jobId}/${p.name}`, p.bytes, p.type)),
      fixtures.route(`/dl-${jobId}/named`, () => new Response("abc", { headers: { "content-disposition": 'attachment; filename="../report 2024.txt"' } })),
      `${fixtures.origin}/dl-${jobId}/missing.jpg`,
      `http://127.0.0.1:${closedPort}/x.bin`,
      "http://127.0.0.1:1/private.bin", // loopback and not in ALLOW_PRIVATE_URLS
      "http://169.254.169.254/latest/meta-data/",
    ];
    const events = await observe(jobId);
    for (const r of requests(jobId, urls)) await send(encode(r), jobId);
    await until("a final event for every file", () => finals(events).length === urls.length, 30_000);

    const byIndex = new Map(finals(events).map((e) => [e.index, e]));
    pics.forEach((p, i) => expect(byIndex.get(i)).toMatchObject({ state: "done", bytes: p.bytes.length, size: p.bytes.length, name: p.name, error: null }));
    expect(byIndex.get(4)).toMatchObject({ state: "done", bytes: 3, name: "report 2024.txt" });
    expect(byIndex.get(5)).toMatchObject({ state: "failed", error: "HTTP 404 Not Found" });
    expect(byIndex.get(6)).toMatchObject({ state: "failed", error: `connection refused (after ${stack.config.DOWNLOAD_RETRIES + 1} attempts)` });
    expect(byIndex.get(7)).toMatchObject({ state: "failed", error: "refused: 127.0.0.1 is a loopback address" });
    expect(byIndex.get(8)).toMatchObject({ state: "failed", error: "refused: 169.254.169.254 is a link-local address" });
    // a file's "downloading" events carry its size and name; nothing of a file follows its final event
    for (const [i, p] of pics.entries()) {
      const own = files(events).filter((e) => e.index === i);
      expect(own.at(-1)!.state).toBe("done");
      expect(own.filter((e) => e.state === "downloading").every((e) => e.size === p.bytes.length && e.name === p.name)).toBe(true);
      // the final event says when the download began (a small file may have sent no event before it)
      const last = own.at(-1)!;
      expect(last.started).toBeNumber();
      expect(last.started!).toBeLessThanOrEqual(last.at);
      expect(last.started!).toBeGreaterThan(last.at - 30_000);
    }
    // the job was handed to the compressor, and its events come after every file's final event
    await until("the compressor's result", () => events.some((e) => e.type === "link" || e.type === "failed"), 30_000);
    const lastFinal = events.findLastIndex((e) => e.type === "file" && (e.state === "done" || e.state === "failed"));
    const firstJobEvent = events.findIndex((e) => e.type !== "file");
    expect(firstJobEvent).toBeGreaterThan(lastFinal);
  }, 60_000);

  test("several files at once, at most PER_HOST_CONCURRENCY from one host", async () => {
    const { fixtures, config } = stack;
    const jobId = newId();
    // Every response waits until as many are open as the limits allow, so "at once" does not depend on timing.
    const most = Math.min(config.PER_HOST_CONCURRENCY, config.PER_JOB_CONCURRENCY, config.DOWNLOAD_CONCURRENCY);
    let now = 0;
    let peak = 0;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const urls = Array.from({ length: 12 }, (_, i) =>
      fixtures.route(`/par-${jobId}/f${i}.bin`, async () => {
        peak = Math.max(peak, ++now);
        await released;
        now--;
        return new Response(new Uint8Array(1000 + i));
      }),
    );
    const events = await observe(jobId);
    for (const r of requests(jobId, urls)) await send(encode(r), jobId);
    try {
      await until(`${most} downloads from the host at once`, () => now === most);
    } finally {
      release();
    }
    await until("all files", () => finals(events).length === urls.length, 30_000);
    expect(finals(events).every((e) => e.state === "done" && e.bytes === 1000 + e.index)).toBe(true);
    expect(peak).toBe(most); // never more, once the first finished either
  }, 60_000);

  test("a redelivered request whose file is recorded is not downloaded again", async () => {
    const { fixtures } = stack;
    const jobId = newId();
    const path = `/again-${jobId}/once.txt`;
    const url = fixtures.route(path, "only once", "text/plain");
    // total 2 and only index 0 sent: the job stays incomplete, so no compressor cleans the folder meanwhile
    const req: DownloadRequest = { v: 1, jobId, index: 0, total: 2, url };
    const events = await observe(jobId);
    await send(encode(req), jobId);
    await until("first delivery", () => finals(events).length === 1, 20_000);
    await send(encode(req), jobId);
    await until("second delivery", () => finals(events).length === 2, 20_000);
    expect(fixtures.hits(path)).toBe(1);
    expect(finals(events).map((e) => [e.state, e.bytes])).toEqual([
      ["done", 9],
      ["done", 9],
    ]);
  }, 60_000);

  test("malformed messages are dead-lettered and the consumer keeps working", async () => {
    const { fixtures } = stack;
    const marker = newId();
    const bad = [
      Buffer.from("not json at all"),
      Buffer.from("[1,2,3]"),
      encode({ v: 2, jobId: newId(), index: 0, total: 1, url: "http://x/" }),
      encode({ v: 1, jobId: "../../etc", index: 0, total: 1, url: "http://x/" }),
      encode({ v: 1, jobId: newId(), index: 3, total: 3, url: "http://x/" }),
      encode({ v: 1, jobId: newId(), index: 0, total: 1 }),
    ];
    const dead = await deadLetters(stack.config);
    try {
      for (const [i, body] of bad.entries()) await send(body, newId(), `${marker}-${i}`);

      // the queue is not blocked: a good request right after them completes
      const jobId = newId();
      const events = await observe(jobId);
      await send(encode({ v: 1, jobId, index: 0, total: 2, url: fixtures.route(`/after-${jobId}/ok.txt`, "fine", "text/plain") }), jobId);
      await until("the good request", () => finals(events).length === 1, 20_000);
      expect(finals(events)[0]).toMatchObject({ state: "done", bytes: 4 });

      const mine = () => dead.events.map((m) => String(m.properties.messageId ?? "")).filter((id) => id.startsWith(marker));
      await until("every malformed message to be dead-lettered", () => mine().length === bad.length, 20_000);
      expect(mine().sort()).toEqual(bad.map((_, i) => `${marker}-${i}`).sort());
    } finally {
      await dead.close();
    }
  }, 60_000);
});
