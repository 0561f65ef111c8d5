/** The job store's per-client limits and its migration of older store files. */
import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { newId } from "../shared/ids.ts";
import { newJob } from "../shared/jobstate.ts";
import { useTempDirs } from "./testapp.ts";
import { JobStore, LimitReached } from "./store.ts";

const tmp = useTempDirs("linkpack-store-");

const T0 = Date.parse("2030-01-01T00:00:00.000Z");
const jobAt = (ms: number) => newJob(newId(), ["https://a.example/1"], new Date(ms));
const refusal = (fn: () => void): LimitReached => {
  try {
    fn();
  } catch (err) {
    if (err instanceof LimitReached) return err;
    throw err;
  }
  throw new Error("not refused");
};
const finish = (store: JobStore, id: string) => store.apply({ v: 1, type: "failed", jobId: id, error: "none of the files", at: 1 });

test("at most perMinute new jobs per client in any minute; Retry-After until the oldest leaves the window", () => {
  const store = new JobStore(tmp(), { perMinute: 3, active: 100 });
  for (const ms of [0, 10_000, 20_000]) store.create(jobAt(T0 + ms), "1.2.3.4");
  const r = refusal(() => store.create(jobAt(T0 + 30_000), "1.2.3.4"));
  expect(r.limit).toBe("perMinute");
  expect(r.retryAfterMs).toBe(30_000); // the job of T0 leaves the window at T0 + 60 s
  store.create(jobAt(T0 + 30_000), "5.6.7.8"); // another client is not affected
  store.create(jobAt(T0 + 60_000), "1.2.3.4"); // the first has left the window
  expect(refusal(() => store.create(jobAt(T0 + 60_001), "1.2.3.4")).retryAfterMs).toBe(9_999);
  store.close();
});

test("at most `active` unfinished jobs per client; a finished one frees its place; nothing is recorded when refused", () => {
  const store = new JobStore(tmp(), { perMinute: 100, active: 2 });
  const a = jobAt(T0);
  store.create(a, "c");
  store.create(jobAt(T0 + 1), "c");
  const refused = jobAt(T0 + 2);
  expect(refusal(() => store.create(refused, "c")).limit).toBe("active");
  expect(store.get(refused.id)).toBeNull();
  finish(store, a.id);
  store.create(refused, "c");
  expect(store.get(refused.id)?.id).toBe(refused.id);
  store.close();
});

test("the counts are the file's, not the process's: a second store on the same file sees them", () => {
  const dir = tmp();
  const first = new JobStore(dir, { perMinute: 100, active: 1 });
  first.create(jobAt(T0), "c");
  const second = new JobStore(dir, { perMinute: 100, active: 1 });
  expect(refusal(() => second.create(jobAt(T0 + 1), "c")).limit).toBe("active");
  first.close();
  second.close();
});

test("old store files open, their jobs counted as published, and count: one from before the outbox, one from before the limits", () => {
  const running = newJob(newId(), ["https://a.example/1"], new Date(Date.now() - 5000));
  let done = newJob(newId(), ["https://a.example/2"], new Date(Date.now() - 4000));
  done = { ...done, state: "failed" };
  for (const schema of [
    "CREATE TABLE jobs (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, view TEXT NOT NULL)",
    "CREATE TABLE jobs (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, view TEXT NOT NULL, published INTEGER NOT NULL DEFAULT 1)",
  ]) {
    const dir = tmp();
    const old = new Database(`${dir}/jobs.sqlite`, { create: true });
    old.exec(schema);
    for (const j of [running, done]) old.run("INSERT INTO jobs (id, created_at, view) VALUES (?, ?, ?)", [j.id, j.created_at, JSON.stringify(j)]);
    old.close();
    // Their jobs belong to no known client: they count against the client "".
    const store = new JobStore(dir, { perMinute: 3, active: 2 });
    expect(store.get(running.id)?.files[0]?.url).toBe("https://a.example/1");
    expect(store.unpublished()).toEqual([]);
    store.create(newJob(newId(), ["https://a.example/3"]), ""); // 2 recent, 1 unfinished: fits
    expect(refusal(() => store.create(newJob(newId(), ["https://a.example/4"]), "")).limit).toBe("active");
    finish(store, running.id);
    expect(refusal(() => store.create(newJob(newId(), ["https://a.example/5"]), "")).limit).toBe("perMinute");
    store.close();
    const again = new JobStore(dir); // opening a current file changes nothing
    expect(again.get(done.id)?.state).toBe("failed");
    again.close();
  }
});
