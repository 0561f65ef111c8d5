/**
 * 200 event-stream clients on one job: every one gets the link and the final
 * `done`, and the web process serves them all over ONE STOMP connection with
 * one subscription for the job (plus the shared clock), counted at the broker.
 */
import { expect, test } from "bun:test";
import { newId } from "../../servers/shared/ids.ts";
import { rabbitmqctl } from "../../scripts/lib/rabbitmq.ts";
import { useStack } from "../stack.ts";
import type { Config } from "../../servers/shared/config.ts";
import { sseClient, trickle } from "./helpers.ts";

/** consumer counts of the Web-STOMP channels (one per STOMP connection). */
async function stompConsumers(config: Config): Promise<number[]> {
  return (await rabbitmqctl(config, ["list_channels", "name", "consumer_count", "--quiet", "--no-table-headers"]))
    .split("\n")
    .filter((l) => l.includes(`-> 127.0.0.1:${config.BROKER_STOMP_PORT} `))
    .map((l) => Number(l.split("\t")[1]));
}

test("200 SSE clients of one job: all get the link; one STOMP connection, one job subscription", async () => {
  const { web, fixtures, config } = await useStack();
  const p = `/fanout-${newId().slice(0, 8)}`;
  const url = fixtures.route(`${p}/slow.bin`, trickle(new Uint8Array(200_000).fill(7), "application/octet-stream", 9000, 45));
  const r = await fetch(`${web}/jobs`, { method: "POST", body: url, headers: { "content-type": "text/plain", accept: "application/json" } });
  const { id } = (await r.json()) as { id: string };

  const clients = await Promise.all(Array.from({ length: 200 }, (_, i) => sseClient(`${web}/jobs/${id}/events${i % 4 === 3 ? "?format=json" : ""}`)));
  // Each has its first state (the page parts, or the JSON view).
  await Promise.all(clients.map((c) => c.until((e) => e.event === "file-0" || e.event === "job")));

  // Web-STOMP sessions show up at the broker as channels on its Web-STOMP port (one per connection).
  const stomp = (await rabbitmqctl(config, ["list_channels", "name", "connection", "consumer_count", "--quiet", "--no-table-headers"]))
    .split("\n")
    .filter((l) => l.includes(`-> 127.0.0.1:${config.BROKER_STOMP_PORT} `))
    .map((l) => l.split("\t"));
  expect(new Set(stomp.map((c) => c[1])).size).toBe(1); // one connection
  expect(stomp.map((c) => Number(c[2]))).toEqual([2]); // two subscriptions: this job's events and the clock

  const ends = await Promise.all(clients.map((c) => c.until((e) => e.event === "done")));
  const job = (await (await fetch(`${web}/jobs/${id}`, { headers: { accept: "application/json" } })).json()) as { state: string; link: string };
  expect(job.state).toBe("ready");
  for (const [i, c] of clients.entries()) {
    expect(ends[i]).not.toBeNull();
    const json = c.seen.some((e) => e.event === "job");
    if (json) expect(JSON.parse(ends[i]!.data).link).toBe(job.link);
    else expect(c.seen.findLast((e) => e.event === "link")!.data).toContain(job.link.replaceAll("&", "&amp;"));
    expect(await c.until(() => false)).toBeNull(); // and the server closed the stream
  }
  // The job over, its subscription is gone too (the clock's with it).
  expect(await stompConsumers(config)).toEqual([0]);
}, 120_000);

test("clients that go away mid-job take the job's subscription with them", async () => {
  const { web, fixtures, config } = await useStack();
  const url = fixtures.route(`/leave-${newId().slice(0, 8)}/slow.bin`, trickle(new Uint8Array(100_000), "application/octet-stream", 15_000, 60));
  const r = await fetch(`${web}/jobs`, { method: "POST", body: url, headers: { "content-type": "text/plain", accept: "application/json" } });
  const { id } = (await r.json()) as { id: string };
  const ac = new AbortController();
  const clients = await Promise.all(Array.from({ length: 5 }, () => sseClient(`${web}/jobs/${id}/events`, ac.signal)));
  await Promise.all(clients.map((c) => c.until((e) => e.event === "file-0")));
  expect(await stompConsumers(config)).toEqual([2]);
  ac.abort();
  let left = [2];
  for (let i = 0; i < 20 && left[0] !== 0; i++) {
    await Bun.sleep(200);
    left = await stompConsumers(config);
  }
  expect(left).toEqual([0]);
}, 60_000);
