/**
 * The SSE bridge in-process (app.request, a real job store, a fake STOMP hub):
 * current state first, then changes; subscription before the store read;
 * one subscription per job however many clients; the end; reconnects; and
 * what another web process folded into the shared store reaches this one's page.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { loadConfig } from "../shared/config.ts";
import { newId } from "../shared/ids.ts";
import { newJob } from "../shared/jobstate.ts";
import { createLogger } from "../shared/log.ts";
import type { FileEvent, JobEvent } from "../shared/messages.ts";
import { keys, stompDestination } from "../shared/topology.ts";
import { sseClient } from "../../test/support/events.ts";
import { createApp } from "./app.tsx";
import { Bridge } from "./bridge.ts";
import { openJobStore } from "./store.ts";

const dir = mkdtempSync(`${tmpdir()}/linkpack-bridge-`);
const store = await openJobStore(dir);
/** Another web process's store on the same database: it folds events this process's bridge never hears of. */
const otherStore = await openJobStore(dir);
afterAll(async () => {
  await store.close();
  await otherStore.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Records subscribe/unsubscribe, tells when a destination is left, and lets the test publish. */
class FakeHub {
  handlers = new Map<string, Set<(b: string) => void>>();
  resumers = new Map<string, Set<() => void>>();
  log: string[] = [];
  private left = new Map<string, () => void>();
  async subscribe(dest: string, h: (b: string) => void, onResume?: () => void) {
    this.log.push(`sub ${dest}`);
    const set = this.handlers.get(dest) ?? new Set();
    this.handlers.set(dest, set.add(h));
    const resumers = this.resumers.get(dest) ?? new Set();
    if (onResume) this.resumers.set(dest, resumers.add(onResume));
    await Bun.sleep(5); // a broker takes a moment to confirm a subscription
    return () => {
      set.delete(h);
      if (onResume) resumers.delete(onResume);
      this.log.push(`unsub ${dest}`);
      if (set.size === 0) this.left.get(dest)?.();
    };
  }
  /** Resolves when the last handler of `dest` unsubscribes. */
  unsubscribed(dest: string): Promise<void> {
    return new Promise((resolve) => this.left.set(dest, resolve));
  }
  publish(dest: string, msg: object) {
    for (const h of this.handlers.get(dest) ?? []) h(JSON.stringify(msg));
  }
  /** As StompHub after a reconnect: the subscription is confirmed again. */
  resume(dest: string) {
    for (const r of this.resumers.get(dest) ?? []) r();
  }
  listeners(dest: string) {
    return this.handlers.get(dest)?.size ?? 0;
  }
}

const hub = new FakeHub();
const reads: string[] = [];
const spyStore = { get: (id: string) => (reads.push(`read after ${hub.log.length} subs`), store.get(id)), onChange: store.onChange.bind(store) };
// (re-reads of the store far apart: these tests count the reads)
const bridge = new Bridge({ hub, store: spyStore, log: createLogger("test", "error"), flushMs: 10, refreshMs: 60_000 });
const app = createApp({ config: loadConfig({}), store, createJob: async () => { throw new Error("unused"); }, brokerUp: () => true, events: bridge.events });

async function makeJob(n = 2) {
  const job = newJob(newId(), Array.from({ length: n }, (_, i) => `https://files.example/f${i}.jpg`));
  await store.create(job);
  return job;
}
const fileEv = (jobId: string, index: number, state: FileEvent["state"], bytes: number): FileEvent => ({
  v: 1, type: "file", jobId, index, total: 2, url: `https://files.example/f${index}.jpg`, name: `f${index}.jpg`, state, bytes, size: 1000, error: null, at: Date.now(),
});
const linkEv = (jobId: string): JobEvent => ({ v: 1, type: "link", jobId, link: "http://127.0.0.1:1/d/x", expiresAt: new Date(Date.now() + 3600e3).toISOString(), bytes: 2000, entries: 2, at: Date.now() });

/** Opens a job's event stream in-process. */
const open = (id: string, query = "", headers: Record<string, string> = {}) =>
  sseClient((signal) => app.request(`/jobs/${id}/events${query}`, { headers, signal }));

test("the stream starts with every part of the current state, read from the store after subscribing", async () => {
  const job = await makeJob();
  await store.apply(fileEv(job.id, 0, "downloading", 400));
  reads.length = 0;
  const s = await open(job.id);
  expect(s.response.headers.get("content-type")).toStartWith("text/event-stream");
  await s.next((e) => e.event === "file-1");
  expect(s.seen.map((e) => e.event)).toEqual(["clock", "overall", "compress", "link", "file-0", "file-1"]);
  expect(s.seen[4]!.data).toContain("400 B of 1.00 KB");
  expect(reads.length).toBe(1);
  expect(reads[0]).toMatch(/read after [1-9]/); // subscribed (job + clock) before the store read
  expect(hub.log.slice(-2)).toEqual([`sub ${stompDestination(keys.jobAll(job.id))}`, `sub ${stompDestination(keys.clock)}`]);

  hub.publish(stompDestination(keys.jobAll(job.id)), fileEv(job.id, 1, "downloading", 500));
  const row = await s.next((e) => e.event === "file-1");
  expect(row.data).toContain("500 B of 1.00 KB");
  hub.publish(stompDestination(keys.clock), { v: 1, type: "clock", iso: "2030-01-02T03:04:05.000Z", epochMs: Date.parse("2030-01-02T03:04:05.000Z") });
  expect((await s.next((e) => e.event === "clock")).data).toContain("03:04:05 UTC");
  const left = hub.unsubscribed(stompDestination(keys.jobAll(job.id)));
  s.close();
  await left;
  expect(hub.listeners(stompDestination(keys.jobAll(job.id)))).toBe(0);
});

test("after a STOMP reconnect every client gets the full state again, with what the store learnt meanwhile", async () => {
  const job = await makeJob();
  const clients = await Promise.all([open(job.id), open(job.id, "?format=json")]);
  await Promise.all(clients.map((c) => c.next((e) => e.event === "file-1" || e.event === "job")));
  const seen = clients.map((c) => c.seen.length);
  // while the connection was down an event reached the store (the fold) but never this feed
  await store.apply(fileEv(job.id, 0, "downloading", 700));
  hub.resume(stompDestination(keys.jobAll(job.id)));
  const [html, json] = clients;
  await html!.next((e) => e.event === "file-1" && html!.seen.length > seen[0]!);
  expect(html!.seen.slice(seen[0]).map((e) => e.event)).toEqual(["clock", "overall", "compress", "link", "file-0", "file-1"]);
  expect(html!.seen.slice(seen[0]).find((e) => e.event === "file-0")!.data).toContain("700 B of 1.00 KB");
  const again = await json!.next((e) => e.event === "job" && json!.seen.length > seen[1]!);
  expect(JSON.parse(again.data).files[0].bytes).toBe(700);
  for (const c of clients) c.close();
});

test("many clients of one job share one subscription; the link ends every stream with done", async () => {
  const job = await makeJob();
  const before = hub.log.length;
  const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => open(job.id, i % 2 ? "?format=json" : "")));
  await Promise.all(clients.map((c) => c.next((e) => e.event === "file-1" || e.event === "job")));
  expect(hub.listeners(stompDestination(keys.jobAll(job.id)))).toBe(1);
  expect(hub.log.slice(before).filter((l) => l.startsWith("sub")).length).toBe(2);

  for (const i of [0, 1]) hub.publish(stompDestination(keys.jobAll(job.id)), fileEv(job.id, i, "done", 1000));
  hub.publish(stompDestination(keys.jobAll(job.id)), linkEv(job.id));
  for (const c of clients) {
    const done = await c.next((e) => e.event === "done");
    expect(done.id).toBe("done");
    if (c.seen.some((e) => e.event === "job")) expect(JSON.parse(done.data).link).toBe("http://127.0.0.1:1/d/x");
    else expect(c.seen.findLast((e) => e.event === "link")!.data).toContain("http://127.0.0.1:1/d/x");
    expect(await c.end()).toEqual([]); // the stream ends with done
  }
  expect(hub.listeners(stompDestination(keys.jobAll(job.id)))).toBe(0);
  expect(hub.log.at(-1)).toStartWith("unsub");
});

test("a finished job: state and done at once; reconnecting after done gets 204", async () => {
  const job = await makeJob(1);
  await store.apply(fileEv(job.id, 0, "done", 1000));
  await store.apply(linkEv(job.id));
  const subs = hub.log.length;
  const s = await open(job.id);
  await s.next((e) => e.event === "done");
  expect(s.seen.find((e) => e.event === "link")!.data).toContain("Download zip");
  expect(hub.log.length).toBe(subs); // nothing to subscribe to
  const again = await app.request(`/jobs/${job.id}/events`, { headers: { "last-event-id": "done" } });
  expect(again.status).toBe(204);
});

test("a reconnect (Last-Event-ID of an earlier event) gets the full current state again", async () => {
  const job = await makeJob();
  await store.apply(fileEv(job.id, 0, "done", 1000));
  const s = await open(job.id, "", { "last-event-id": "3" });
  await s.next((e) => e.event === "file-1");
  expect(s.seen.find((e) => e.event === "file-0")!.data).toContain("done");
  s.close();
});

test("changes that reach only the store (missed by STOMP) still reach the page", async () => {
  const job = await makeJob();
  const s = await open(job.id);
  await s.next((e) => e.event === "file-1");
  await store.apply(fileEv(job.id, 1, "failed", 0));
  const row = await s.next((e) => e.event === "file-1");
  expect(row.data).toContain("failed");
  s.close();
});

test("user text in fragments is escaped", async () => {
  const job = newJob(newId(), [`https://x.example/"><script>alert(1)</script>.jpg`]);
  await store.create(job);
  const s = await open(job.id);
  const row = await s.next((e) => e.event === "file-0");
  expect(row.data).not.toContain("<script>");
  expect(row.data).toContain("&lt;script&gt;");
  s.close();
});

test("an event folded by another web process (into the shared store only) reaches this process's page within a re-read", async () => {
  const hubB = new FakeHub();
  const bridgeB = new Bridge({ hub: hubB, store, log: createLogger("test", "error"), flushMs: 10, refreshMs: 20 });
  const appB = createApp({ config: loadConfig({}), store, createJob: async () => { throw new Error("unused"); }, brokerUp: () => true, events: bridgeB.events });
  try {
    const job = await makeJob();
    const s = await sseClient((signal) => appB.request(`/jobs/${job.id}/events?format=json`, { signal }));
    await s.next((e) => e.event === "job");
    // Published before this process subscribed (its STOMP never brings it), folded by the other process after this one read.
    await otherStore.apply(fileEv(job.id, 1, "downloading", 700));
    const seen = await s.next((e) => e.event === "job" && JSON.parse(e.data).files[1].bytes === 700);
    expect(JSON.parse(seen.data).files[1].state).toBe("downloading");
    // and the end, too: the job finished elsewhere ends this stream
    await otherStore.apply(linkEv(job.id));
    const done = await s.next((e) => e.event === "done");
    expect(JSON.parse(done.data).link).toBe("http://127.0.0.1:1/d/x");
    expect(await s.end()).toEqual([]);
  } finally {
    bridgeB.close();
  }
});
