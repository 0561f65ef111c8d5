/**
 * 200 event-stream clients on one job: every one gets the link and the final
 * `done`, and the web process serves them all over ONE STOMP connection with
 * one subscription for the job (plus the shared clock), counted at the broker.
 * The file is held back (`held`) until the counting is done, so a slow
 * `rabbitmqctl` on a busy machine cannot see a job that already ended.
 */
import { expect, test } from "bun:test";
import { newId } from "../../servers/shared/ids.ts";
import { rabbitmqctl } from "../../scripts/lib/rabbitmq.ts";
import { useStack } from "../stack.ts";
import type { Config } from "../../servers/shared/config.ts";
import { sseClient } from "../support/events.ts";
import { held } from "../support/fixtures.ts";
import { until } from "../support/wait.ts";

/** The Web-STOMP channels at the broker (one per STOMP connection): their connection and consumer count. */
async function stompChannels(config: Config): Promise<{ connection: string; consumers: number }[]> {
  return (await rabbitmqctl(config, ["list_channels", "name", "connection", "consumer_count", "--quiet", "--no-table-headers"]))
    .split("\n")
    .filter((l) => l.includes(`-> 127.0.0.1:${config.BROKER_STOMP_PORT} `))
    .map((l) => l.split("\t"))
    .map(([, connection, consumers]) => ({ connection: connection!, consumers: Number(consumers) }));
}

/** Consumer counts of the Web-STOMP channels. */
const stompConsumers = async (config: Config) => (await stompChannels(config)).map((c) => c.consumers);

/** What the web server logged about STOMP (shown when a count is wrong). */
async function stompLog(config: Config): Promise<string> {
  const log = await Bun.file(`${config.RUN_DIR}/logs/web.log`).text();
  return log.split("\n").filter((l) => /stomp/i.test(l)).slice(-20).join("\n");
}

test("200 SSE clients of one job: all get the link; one STOMP connection, one job subscription", async () => {
  const { web, fixtures, config } = await useStack();
  const gate = held(new Uint8Array(50_000).fill(7), new Uint8Array(150_000).fill(7));
  const url = fixtures.route(`/fanout-${newId().slice(0, 8)}/slow.bin`, gate.handler);
  const r = await fetch(`${web}/jobs`, { method: "POST", body: url, headers: { "content-type": "text/plain", accept: "application/json" } });
  const { id } = (await r.json()) as { id: string };

  const clients = await Promise.all(Array.from({ length: 200 }, (_, i) => sseClient(`${web}/jobs/${id}/events${i % 4 === 3 ? "?format=json" : ""}`)));
  try {
    // Each has its first state (the page parts, or the JSON view).
    await Promise.all(clients.map((c) => c.next((e) => e.event === "file-0" || e.event === "job")));

    // Web-STOMP sessions show up at the broker as channels on its Web-STOMP port (one per connection).
    const stomp = await stompChannels(config);
    expect(new Set(stomp.map((c) => c.connection)).size, await stompLog(config)).toBe(1); // one connection
    expect(stomp.map((c) => c.consumers), await stompLog(config)).toEqual([2]); // two subscriptions: this job's events and the clock
  } finally {
    gate.release();
  }
  const ends = await Promise.all(clients.map((c) => c.next((e) => e.event === "done")));
  const job = (await (await fetch(`${web}/jobs/${id}`, { headers: { accept: "application/json" } })).json()) as { state: string; link: string };
  expect(job.state).toBe("ready");
  for (const [i, c] of clients.entries()) {
    const json = c.seen.some((e) => e.event === "job");
    if (json) expect(JSON.parse(ends[i]!.data).link).toBe(job.link);
    else expect(c.seen.findLast((e) => e.event === "link")!.data).toContain(job.link.replaceAll("&", "&amp;"));
    expect(await c.end()).toEqual([]); // and the server closed the stream
  }
  // The job over, its subscription is gone too (the clock's with it).
  await until("the job's and the clock's STOMP subscriptions to go", async () => (await stompConsumers(config)).join() === "0");
}, 120_000);

test("clients that go away mid-job take the job's subscription with them", async () => {
  const { web, fixtures, config } = await useStack();
  const gate = held(new Uint8Array(50_000), new Uint8Array(50_000));
  const url = fixtures.route(`/leave-${newId().slice(0, 8)}/slow.bin`, gate.handler);
  const r = await fetch(`${web}/jobs`, { method: "POST", body: url, headers: { "content-type": "text/plain", accept: "application/json" } });
  const { id } = (await r.json()) as { id: string };
  const clients = await Promise.all(Array.from({ length: 5 }, () => sseClient(`${web}/jobs/${id}/events`)));
  try {
    await Promise.all(clients.map((c) => c.next((e) => e.event === "file-0")));
    expect(await stompConsumers(config), await stompLog(config)).toEqual([2]);
    for (const c of clients) c.close();
    await until("the job's and the clock's STOMP subscriptions to go", async () => (await stompConsumers(config)).join() === "0");
  } finally {
    for (const c of clients) c.close();
    gate.release();
  }
}, 60_000);
