/**
 * The broker as a cluster (a private 3-node RabbitMQ cluster of this file's
 * own, QUEUE_TYPE quorum by default): a Broker given every node keeps
 * publishing and consuming after the node it is connected to is killed
 * (`kill -9` of its Erlang VM); of two consumers of the web's progress
 * queue only one receives, and the other takes over when it goes, losing
 * nothing; the SSE bridge's STOMP connection moves to another node and
 * every open stream gets the full state again, then later updates.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { Broker } from "../../servers/shared/broker.ts";
import { brokerUrl, stompLogin } from "../../servers/shared/brokerauth.ts";
import { Consumer, type ConsumerSpec } from "../../servers/shared/consumer.ts";
import { newId } from "../../servers/shared/ids.ts";
import { newJob } from "../../servers/shared/jobstate.ts";
import { createLogger } from "../../servers/shared/log.ts";
import type { FileEvent } from "../../servers/shared/messages.ts";
import { PROGRESS_EXCHANGE, WEB_PROGRESS_QUEUE, WORK_EXCHANGE, keys, queues, serverNeeds, type WorkQueue } from "../../servers/shared/topology.ts";
import { setupBroker } from "../../scripts/lib/stack.ts";
import { createApp } from "../../servers/web/app.tsx";
import { Bridge } from "../../servers/web/bridge.ts";
import { StompHub } from "../../servers/web/stomp.ts";
import { openJobStore } from "../../servers/web/store.ts";
import { sseClient } from "../support/events.ts";
import { startPrivateBroker, type PrivateBroker } from "../support/privatebroker.ts";
import { until } from "../support/wait.ts";

const log = createLogger("cluster-test", "error");
let cluster: PrivateBroker;
const opened: { close(): Promise<void> | void }[] = [];

beforeAll(async () => {
  cluster = await startPrivateBroker({ BROKER_NODES: "3" });
  await setupBroker(cluster.config);
}, 240_000);
afterAll(async () => {
  for (const o of opened.reverse()) await Promise.resolve(o.close()).catch(() => {});
  await cluster?.stop();
}, 120_000);

/** A Broker of `role` given every node, closed after the file. */
async function broker(role: "web" | "downloader", needs = serverNeeds(cluster.config.QUEUE_TYPE)[role]): Promise<Broker> {
  const b = await Broker.open({ url: brokerUrl(cluster.config, role), log, needs });
  opened.push(b);
  return b;
}

/** A consumer that records each message's body (acked at once unless `hold` says to keep it). */
function recorder(queue: WorkQueue, got: string[], hold: (body: string) => boolean = () => false): Consumer<string> {
  const spec: ConsumerSpec<string> = {
    queue,
    prefetch: 10,
    log,
    parse: (b) => b.toString(),
    handle: async (body) => {
      got.push(body);
      if (hold(body)) await new Promise(() => {}); // never acked: its consumer goes before it finishes
    },
    maxAttempts: 5,
    retryBaseMs: 10,
    describe: (body) => ({ body }),
  };
  return new Consumer(spec);
}

/** The node (1-based) a Broker is connected to. */
const nodeOf = (b: Broker) => cluster.nodeOn(Number(b.node!.split(":")[1]));

const fileEvent = (jobId: string, index: number, bytes: number): FileEvent => ({
  v: 1, type: "file", jobId, index, total: 2, url: `https://files.example/f${index}.jpg`, name: `f${index}.jpg`, state: "downloading", bytes, size: 1000, error: null, at: Date.now(),
});

describe("a 3-node broker cluster", () => {
  test("the servers' queues are quorum queues", () => {
    expect(cluster.config.QUEUE_TYPE).toBe("quorum");
    expect(queues(cluster.config.QUEUE_TYPE).download).toBe("linkpack.downloads.quorum");
  });

  test("a Broker keeps publishing and consuming after the node it is connected to is killed", async () => {
    const web = await broker("web");
    const downloader = await broker("downloader");
    const got: string[] = [];
    await downloader.addConsumer(recorder(queues(cluster.config.QUEUE_TYPE).download, got));
    const job = newId();
    const send = async (from: number, to: number) => {
      for (let i = from; i < to; i++) await web.publish(WORK_EXCHANGE, keys.download(job), Buffer.from(`m${i}`));
    };
    await send(0, 5);
    await until("the first five messages", () => new Set(got).size === 5);

    const dead = nodeOf(downloader);
    expect(dead).toBeGreaterThan(0);
    await cluster.kill(dead);
    await until("both brokers to be connected to another node", () => web.connected && downloader.connected && nodeOf(web) !== dead && nodeOf(downloader) !== dead, 60_000);
    await send(5, 10);
    await until(() => `all ten messages (got ${[...new Set(got)].sort().join(",")})`, () => new Set(got).size === 10, 60_000);
    expect([...new Set(got)].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`).sort());
    await cluster.revive(dead); // three nodes again, so the next test may lose one too
  }, 180_000);

  test("one consumer of the web's progress queue receives; when it goes, the other takes over and nothing is lost", async () => {
    const job = newId();
    const a: string[] = [];
    const b: string[] = [];
    const first = await broker("web");
    // the first consumer keeps the sixth message without acking it, then goes
    await first.addConsumer(recorder(WEB_PROGRESS_QUEUE, a, (body) => body.includes('"bytes":5')));
    const second = await broker("web");
    await second.addConsumer(recorder(WEB_PROGRESS_QUEUE, b));
    const publisher = await broker("downloader");
    const send = async (from: number, to: number) => {
      for (let i = from; i < to; i++) await publisher.publish(PROGRESS_EXCHANGE, keys.file(job, 0), Buffer.from(JSON.stringify(fileEvent(job, 0, i))));
    };
    await send(0, 6);
    await until("the active consumer to get six events", () => a.length === 6);
    expect(b).toEqual([]);

    await first.close(); // its unacked sixth event goes back to the queue
    await send(6, 10);
    const bytes = (list: string[]) => list.map((s) => JSON.parse(s).bytes as number);
    await until(() => `the other consumer to take over (has ${bytes(b)})`, () => b.length >= 5, 60_000);
    expect(bytes(b)).toEqual([5, 6, 7, 8, 9]); // the held event first, then the rest in order
    expect(new Set([...bytes(a), ...bytes(b)]).size).toBe(10);
  }, 120_000);

  test("the SSE bridge's STOMP connection moves to another node; every stream gets the full state again, then later updates", async () => {
    const dir = mkdtempSync(`${tmpdir()}/linkpack-cluster-web-`);
    const store = await openJobStore(dir);
    const hub = new StompHub({ urls: cluster.config.STOMP_URL, ...stompLogin(cluster.config), log });
    hub.start();
    const bridge = new Bridge({ hub, store, log, flushMs: 10 });
    opened.push({ close: () => (bridge.close(), void 0) }, { close: () => hub.close() }, { close: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) });
    const app = createApp({ config: cluster.config, store, createJob: async () => { throw new Error("unused"); }, brokerUp: () => true, events: bridge.events });
    const publisher = await broker("downloader", { exchanges: [PROGRESS_EXCHANGE] });

    const job = newJob(newId(), ["https://files.example/f0.jpg", "https://files.example/f1.jpg"]);
    await store.create(job);
    await until("the STOMP connection", () => hub.connected, 60_000);
    const s = await sseClient((signal) => app.request(`/jobs/${job.id}/events`, { signal }));
    opened.push({ close: () => s.close() });
    await s.next((e) => e.event === "file-1");
    await publisher.publish(PROGRESS_EXCHANGE, keys.file(job.id, 1), Buffer.from(JSON.stringify(fileEvent(job.id, 1, 100))), { persistent: false });
    expect((await s.next((e) => e.event === "file-1")).data).toContain("100 B of 1.00 KB");

    const dead = cluster.nodeOn(Number(new URL(hub.url).port));
    const connects = hub.connects;
    const before = s.seen.length;
    await cluster.kill(dead);
    // meanwhile the progress fold (another node's queue) put an update into the store the feed never heard of
    await until("the STOMP connection to come back on another node", () => hub.connects > connects && cluster.nodeOn(Number(new URL(hub.url).port)) !== dead, 60_000);
    await store.apply(fileEvent(job.id, 0, 300));
    await s.next((e) => e.event === "file-1" && s.seen.slice(before).some((x) => x.event === "overall"));
    expect(s.seen.slice(before).map((e) => e.event)).toEqual(expect.arrayContaining(["overall", "compress", "link", "file-0", "file-1"]));
    const got300 = (e: { event: string; data: string }) => e.event === "file-0" && e.data.includes("300 B of 1.00 KB");
    if (!s.seen.slice(before).some(got300)) await s.next(got300); // in the full state, or just after it

    await until("the publisher to reconnect", () => publisher.connected && nodeOf(publisher) !== dead, 60_000);
    await publisher.publish(PROGRESS_EXCHANGE, keys.file(job.id, 1), Buffer.from(JSON.stringify(fileEvent(job.id, 1, 800))), { persistent: false });
    expect((await s.next((e) => e.event === "file-1" && e.data.includes("800 B"))).data).toContain("800 B of 1.00 KB");
  }, 180_000);
});
