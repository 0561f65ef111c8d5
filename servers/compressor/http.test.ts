import { expect, test } from "bun:test";
import { newId } from "../shared/ids.ts";
import { compressorApp } from "./http.ts";

const TOKEN = "internal-test-token";

function app(opts: { done?: string[]; confirm?: "ok" | "never"; complete?: boolean } = {}) {
  const requested: string[] = [];
  const a = compressorApp({
    records: { has: async (id) => opts.done?.includes(id) ?? false },
    token: TOKEN,
    accountedFor: async () => opts.complete ?? true,
    request: (id, total) => {
      requested.push(`${id}/${total}`);
      return opts.confirm === "never" ? new Promise(() => {}) : Promise.resolve();
    },
    healthy: () => true,
    confirmTimeoutMs: 50,
  });
  return { a, requested };
}

const post = (a: ReturnType<typeof app>["a"], id: string, body: unknown = { total: 3 }, token: string | null = TOKEN) =>
  a.request(`/jobs/${id}`, { method: "POST", body: JSON.stringify(body), headers: token ? { "x-linkpack-token": token } : {} });

test("POST /jobs/:id with the token queues a compress request and answers 202", async () => {
  const { a, requested } = app();
  const id = newId();
  expect((await post(a, id)).status).toBe(202);
  expect(requested).toEqual([`${id}/3`]);
});

test("without the internal token, or with another: 403, nothing queued", async () => {
  const { a, requested } = app();
  for (const token of [null, "", "internal-test-tokem", `${TOKEN}x`]) expect((await post(a, newId(), { total: 1 }, token)).status).toBe(403);
  expect(requested).toEqual([]);
});

test("a job whose files are not all accounted for: 409, nothing queued", async () => {
  const { a, requested } = app({ complete: false });
  const r = await post(a, newId());
  expect(r.status).toBe(409);
  expect(((await r.json()) as { error: string }).error).toContain("accounted for");
  expect(requested).toEqual([]);
});

test("a finished job: 200 done, nothing queued", async () => {
  const id = newId();
  const { a, requested } = app({ done: [id] });
  const r = await post(a, id);
  expect([r.status, await r.json()]).toEqual([200, { state: "done" }]);
  expect(requested).toEqual([]);
});

test("not a job id, or no file count: 400", async () => {
  const { a, requested } = app();
  for (const bad of ["abc", "g".repeat(32), "A".repeat(32), "a".repeat(33)]) expect((await post(a, bad)).status).toBe(400);
  for (const body of [{}, { total: 0 }, { total: "3" }, "x"]) expect((await post(a, newId(), body)).status).toBe(400);
  expect(requested).toEqual([]);
});

test("no confirm from the broker in time: 503, so the caller retries", async () => {
  const { a } = app({ confirm: "never" });
  expect((await post(a, newId())).status).toBe(503);
});

test("healthz needs no token; unknown routes are 404", async () => {
  const { a } = app();
  expect((await a.request("/healthz")).status).toBe(200);
  expect((await a.request("/jobs", { headers: { "x-linkpack-token": TOKEN } })).status).toBe(404);
});
