import { expect, test } from "bun:test";
import { newId } from "../shared/ids.ts";
import { compressorApp } from "./http.ts";

function app(opts: { done?: string[]; confirm?: "ok" | "never" } = {}) {
  const requested: string[] = [];
  const a = compressorApp({
    records: { get: async (id) => (opts.done?.includes(id) ? ({ jobId: id } as never) : null) },
    request: (id) => {
      requested.push(id);
      return opts.confirm === "never" ? new Promise(() => {}) : Promise.resolve();
    },
    healthy: () => true,
    confirmTimeoutMs: 50,
  });
  return { a, requested };
}

test("POST /jobs/:id queues a compress request and answers 202", async () => {
  const { a, requested } = app();
  const id = newId();
  const r = await a.request(`/jobs/${id}`, { method: "POST" });
  expect(r.status).toBe(202);
  expect(requested).toEqual([id]);
});

test("a finished job: 200 done, nothing queued", async () => {
  const id = newId();
  const { a, requested } = app({ done: [id] });
  const r = await a.request(`/jobs/${id}`, { method: "POST" });
  expect([r.status, await r.json()]).toEqual([200, { state: "done" }]);
  expect(requested).toEqual([]);
});

test("not a job id: 400", async () => {
  const { a, requested } = app();
  for (const bad of ["abc", "g".repeat(32), "A".repeat(32), "a".repeat(33)]) expect((await a.request(`/jobs/${bad}`, { method: "POST" })).status).toBe(400);
  expect(requested).toEqual([]);
});

test("no confirm from the broker in time: 503, so the caller retries", async () => {
  const { a } = app({ confirm: "never" });
  expect((await a.request(`/jobs/${newId()}`, { method: "POST" })).status).toBe(503);
});

test("healthz and unknown routes", async () => {
  const { a } = app();
  expect((await a.request("/healthz")).status).toBe(200);
  expect((await a.request("/jobs")).status).toBe(404);
});
