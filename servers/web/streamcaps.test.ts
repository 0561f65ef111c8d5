/** The caps on open event streams, in-process: per client and per process; a closed stream frees its place. */
import { afterAll, expect, test } from "bun:test";
import { newId } from "../shared/ids.ts";
import { newJob } from "../shared/jobstate.ts";
import { createLogger } from "../shared/log.ts";
import { Bridge } from "./bridge.ts";
import { from, testApp } from "./testapp.ts";

const hub = { subscribe: async () => () => {} };
let bridge!: Bridge;
const t = await testApp({}, { events: (c, job, client) => bridge.events(c, job, client) });
bridge = new Bridge({ hub, store: t.store, log: createLogger("test", "error"), maxStreams: 3, maxStreamsPerClient: 2 });
afterAll(async () => {
  bridge.close();
  await t.close();
});

const job = newJob(newId(), ["https://f.example/a"]);
await t.store.create(job);
const open = async (ip: string) => {
  const ac = new AbortController();
  const r = await t.app.request(`/jobs/${job.id}/events`, { signal: ac.signal, headers: { accept: "application/json" } }, from(ip));
  return { r, close: () => ac.abort() };
};

test("one client past its cap gets 503 with Retry-After; closing one of its streams lets it open another", async () => {
  const a = [await open("198.51.100.1"), await open("198.51.100.1")];
  expect(a.map((s) => s.r.status)).toEqual([200, 200]);
  const extra = await open("198.51.100.1");
  expect(extra.r.status).toBe(503);
  expect(Number(extra.r.headers.get("retry-after"))).toBeGreaterThan(0);
  expect(((await extra.r.json()) as { error: string }).error).toContain("too many open event streams from your address (at most 2)");
  a[0]!.close();
  const again = await open("198.51.100.1");
  expect(again.r.status).toBe(200);
  a[1]!.close();
  again.close();
  expect(bridge.clients).toBe(0);
});

test("the process's cap counts every client", async () => {
  const held = [await open("198.51.100.2"), await open("198.51.100.3"), await open("198.51.100.4")];
  expect(held.every((s) => s.r.status === 200)).toBe(true);
  const r = await open("198.51.100.5");
  expect(r.r.status).toBe(503);
  expect(((await r.r.json()) as { error: string }).error).toContain("linkpack is busy");
  held.forEach((s) => s.close());
  const now = await open("198.51.100.5");
  expect(now.r.status).toBe(200);
  now.close();
});
