/**
 * The SSE bridge in-process (app.request, a real job store, a fake STOMP hub):
 * current state first, then changes; subscription before the store read;
 * one subscription per job however many clients; the end; reconnects.
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
import { readSse, type SseEvent } from "../../scripts/submit/sse-reader.ts";
import { createApp } from "./app.tsx";
import { Bridge } from "./bridge.ts";
import { JobStore } from "./store.ts";

const dir = mkdtempSync(`${tmpdir()}/linkpack-bridge-`);
const store = new JobStore(dir);
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Records subscribe/unsubscribe and lets the test publish. */
class FakeHub {
  handlers = new Map<string, Set<(b: string) => void>>();
  log: string[] = [];
  async subscribe(dest: string, h: (b: string) => void) {
    this.log.push(`sub ${dest}`);
    const set = this.handlers.get(dest) ?? new Set();
    this.handlers.set(dest, set.add(h));
    await Bun.sleep(5);
    return () => {
      set.delete(h);
      this.log.push(`unsub ${dest}`);
    };
  }
  publish(dest: string, msg: object) {
    for (const h of this.handlers.get(dest) ?? []) h(JSON.stringify(msg));
  }
  listeners(dest: string) {
    return this.handlers.get(dest)?.size ?? 0;
  }
}

const hub = new FakeHub();
const reads: string[] = [];
const spyStore = { get: (id: string) => (reads.push(`read after ${hub.log.length} subs`), store.get(id)), onChange: store.onChange.bind(store) };
const bridge = new Bridge({ hub, store: spyStore, log: createLogger("test", "error"), flushMs: 10 });
const app = createApp({ config: loadConfig({}), store, createJob: async () => { throw new Error("unused"); }, brokerUp: () => true, events: bridge.events });

function makeJob(n = 2) {
  const job = newJob(newId(), Array.from({ length: n }, (_, i) => `https://files.example/f${i}.jpg`));
  store.create(job);
  return job;
}
const fileEv = (jobId: string, index: number, state: FileEvent["state"], bytes: number): FileEvent => ({
  v: 1, type: "file", jobId, index, total: 2, url: `https://files.example/f${index}.jpg`, name: `f${index}.jpg`, state, bytes, size: 1000, error: null, at: Date.now(),
});
const linkEv = (jobId: string): JobEvent => ({ v: 1, type: "link", jobId, link: "http://127.0.0.1:1/d/x", expiresAt: new Date(Date.now() + 3600e3).toISOString(), bytes: 2000, entries: 2, at: Date.now() });

/** Opens the stream; returns an iterator and a way to collect until an event name. */
async function open(id: string, query = "", headers: Record<string, string> = {}) {
  const ac = new AbortController();
  const r = await app.request(`/jobs/${id}/events${query}`, { headers, signal: ac.signal });
  const it = r.status === 200 ? readSse(r.body!) : null;
  const seen: SseEvent[] = [];
  return {
    r,
    seen,
    abort: () => ac.abort(),
    async until(pred: (e: SseEvent) => boolean) {
      for (;;) {
        const n = await it!.next();
        if (n.done) throw new Error(`stream ended; saw ${seen.map((e) => e.event).join(",")}`);
        seen.push(n.value);
        if (pred(n.value)) return n.value;
      }
    },
  };
}

test("the stream starts with every part of the current state, read from the store after subscribing", async () => {
  const job = makeJob();
  store.apply(fileEv(job.id, 0, "downloading", 400));
  reads.length = 0;
  const s = await open(job.id);
  expect(s.r.headers.get("content-type")).toStartWith("text/event-stream");
  await s.until((e) => e.event === "file-1");
  expect(s.seen.map((e) => e.event)).toEqual(["clock", "overall", "compress", "link", "file-0", "file-1"]);
  expect(s.seen[4]!.data).toContain("400 B of 1.00 KB");
  expect(reads.length).toBe(1);
  expect(reads[0]).toMatch(/read after [1-9]/); // subscribed (job + clock) before the store read
  expect(hub.log.slice(-2)).toEqual([`sub ${stompDestination(keys.jobAll(job.id))}`, `sub ${stompDestination(keys.clock)}`]);

  hub.publish(stompDestination(keys.jobAll(job.id)), fileEv(job.id, 1, "downloading", 500));
  const row = await s.until((e) => e.event === "file-1");
  expect(row.data).toContain("500 B of 1.00 KB");
  hub.publish(stompDestination(keys.clock), { v: 1, type: "clock", iso: "2030-01-02T03:04:05.000Z", epochMs: Date.parse("2030-01-02T03:04:05.000Z") });
  expect((await s.until((e) => e.event === "clock")).data).toContain("03:04:05 UTC");
  s.abort();
  await Bun.sleep(20);
  expect(hub.listeners(stompDestination(keys.jobAll(job.id)))).toBe(0);
});

test("many clients of one job share one subscription; the link ends every stream with done", async () => {
  const job = makeJob();
  const before = hub.log.length;
  const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => open(job.id, i % 2 ? "?format=json" : "")));
  await Promise.all(clients.map((c) => c.until((e) => e.event === "file-1" || e.event === "job")));
  expect(hub.listeners(stompDestination(keys.jobAll(job.id)))).toBe(1);
  expect(hub.log.slice(before).filter((l) => l.startsWith("sub")).length).toBe(2);

  for (const i of [0, 1]) hub.publish(stompDestination(keys.jobAll(job.id)), fileEv(job.id, i, "done", 1000));
  hub.publish(stompDestination(keys.jobAll(job.id)), linkEv(job.id));
  for (const c of clients) {
    const done = await c.until((e) => e.event === "done");
    expect(done.id).toBe("done");
    if (c.seen.some((e) => e.event === "job")) expect(JSON.parse(done.data).link).toBe("http://127.0.0.1:1/d/x");
    else expect(c.seen.findLast((e) => e.event === "link")!.data).toContain("http://127.0.0.1:1/d/x");
    expect((await c.until(() => false).catch((e: Error) => e.message))).toStartWith("stream ended");
  }
  expect(hub.listeners(stompDestination(keys.jobAll(job.id)))).toBe(0);
  expect(hub.log.at(-1)).toStartWith("unsub");
});

test("a finished job: state and done at once; reconnecting after done gets 204", async () => {
  const job = makeJob(1);
  store.apply(fileEv(job.id, 0, "done", 1000));
  store.apply(linkEv(job.id));
  const subs = hub.log.length;
  const s = await open(job.id);
  await s.until((e) => e.event === "done");
  expect(s.seen.find((e) => e.event === "link")!.data).toContain("Download zip");
  expect(hub.log.length).toBe(subs); // nothing to subscribe to
  const again = await open(job.id, "", { "last-event-id": "done" });
  expect(again.r.status).toBe(204);
});

test("a reconnect (Last-Event-ID of an earlier event) gets the full current state again", async () => {
  const job = makeJob();
  store.apply(fileEv(job.id, 0, "done", 1000));
  const s = await open(job.id, "", { "last-event-id": "3" });
  await s.until((e) => e.event === "file-1");
  expect(s.seen.find((e) => e.event === "file-0")!.data).toContain("done");
  s.abort();
});

test("changes that reach only the store (missed by STOMP) still reach the page", async () => {
  const job = makeJob();
  const s = await open(job.id);
  await s.until((e) => e.event === "file-1");
  store.apply(fileEv(job.id, 1, "failed", 0));
  const row = await s.until((e) => e.event === "file-1");
  expect(row.data).toContain("failed");
  s.abort();
});

test("user text in fragments is escaped", async () => {
  const job = newJob(newId(), [`https://x.example/"><script>alert(1)</script>.jpg`]);
  store.create(job);
  const s = await open(job.id);
  const row = await s.until((e) => e.event === "file-0");
  expect(row.data).not.toContain("<script>");
  expect(row.data).toContain("&lt;script&gt;");
  s.abort();
});
