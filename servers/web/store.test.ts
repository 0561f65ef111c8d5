/** The job store on both databases: per-client limits (across processes), the outbox's claims; and its takeover of older store files. */
import { afterEach, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { newId } from "../shared/ids.ts";
import { newJob } from "../shared/jobstate.ts";
import { describeEachDialect, type Place } from "../../test/support/dialects.ts";
import { useTempDirs } from "./testapp.ts";
import { JobStore, LimitReached, openJobStore, type ClientLimits } from "./store.ts";

const tmp = useTempDirs("linkpack-store-");
let opened: JobStore[] = [];
afterEach(async () => {
  for (const s of opened) await s.close();
  opened = [];
});

const T0 = Date.parse("2030-01-01T00:00:00.000Z");
const jobAt = (ms: number) => newJob(newId(), ["https://a.example/1"], new Date(ms));
const refusal = async (p: Promise<unknown>): Promise<LimitReached> => {
  try {
    await p;
  } catch (err) {
    if (err instanceof LimitReached) return err;
    throw err;
  }
  throw new Error("not refused");
};
const finish = (store: JobStore, id: string) => store.apply({ v: 1, type: "failed", jobId: id, error: "none of the files", at: Date.now() });

describeEachDialect("JobStore", (place) => {
  const open = async (p: Place, limits?: ClientLimits) => {
    const s = await openJobStore(p.stateDir, { limits, databaseUrl: p.databaseUrl });
    opened.push(s);
    return s;
  };

  test("at most perMinute new jobs per client in any minute; Retry-After until the oldest leaves the window", async () => {
    const store = await open(await place(), { perMinute: 3, active: 100 });
    for (const ms of [0, 10_000, 20_000]) await store.create(jobAt(T0 + ms), "1.2.3.4");
    const r = await refusal(store.create(jobAt(T0 + 30_000), "1.2.3.4"));
    expect(r.limit).toBe("perMinute");
    expect(r.retryAfterMs).toBe(30_000); // the job of T0 leaves the window at T0 + 60 s
    await store.create(jobAt(T0 + 30_000), "5.6.7.8"); // another client is not affected
    await store.create(jobAt(T0 + 60_000), "1.2.3.4"); // the first has left the window
    expect((await refusal(store.create(jobAt(T0 + 60_001), "1.2.3.4"))).retryAfterMs).toBe(9_999);
  });

  test("at most `active` unfinished jobs per client; a finished one frees its place; nothing is recorded when refused", async () => {
    const store = await open(await place(), { perMinute: 100, active: 2 });
    const a = jobAt(T0);
    await store.create(a, "c");
    await store.create(jobAt(T0 + 1), "c");
    const refused = jobAt(T0 + 2);
    expect((await refusal(store.create(refused, "c"))).limit).toBe("active");
    expect(await store.get(refused.id)).toBeNull();
    await finish(store, a.id);
    await store.create(refused, "c");
    expect((await store.get(refused.id))?.id).toBe(refused.id);
  });

  test("the counts are the database's, not the process's: posts to two stores at once never slip under a limit", async () => {
    const p = await place();
    const first = await open(p, { perMinute: 100, active: 3 });
    const second = await open(p, { perMinute: 100, active: 3 }); // another web process's store (on PostgreSQL: its own connections)
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => (i % 2 ? first : second).create(jobAt(T0 + i), "c")));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(3);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(LimitReached);
    const third = await open(p, { perMinute: 100, active: 3 }); // a store opened later sees them too
    expect((await refusal(third.create(jobAt(T0 + 20), "c"))).limit).toBe("active");
  });

  test("the outbox: a job is claimed for publishing only after the grace period, by one store at a time, until it is published", async () => {
    const p = await place();
    const [a, b] = [await open(p), await open(p)];
    const job = jobAt(T0);
    await a.create(job, "", 1_000);
    expect((await a.unpublished()).map((j) => j.id)).toEqual([job.id]);
    expect(await a.claimUnpublished(30_000, 20_000)).toEqual([]); // its own process may be publishing it right now
    const claims = await Promise.all([a.claimUnpublished(30_000, 31_000), b.claimUnpublished(30_000, 31_000)]);
    expect(claims.flat().map((j) => j.id)).toEqual([job.id]); // one of them takes it on
    expect(await a.claimUnpublished(30_000, 40_000)).toEqual([]); // the claimer has its own grace period
    expect((await a.claimUnpublished(30_000, 61_000)).map((j) => j.id)).toEqual([job.id]); // ...and then it is anyone's again
    await a.markPublished(job.id);
    expect(await a.claimUnpublished(30_000, 200_000)).toEqual([]);
    expect(await a.unpublished()).toEqual([]);
  });

  test("retention: finished jobs past it and unfinished ones far past it are forgotten", async () => {
    const store = await open(await place());
    const [done, running, recent] = [jobAt(T0), jobAt(T0), jobAt(T0 + 10)];
    for (const j of [done, running, recent]) await store.create(j);
    await store.apply({ v: 1, type: "failed", jobId: done.id, error: "none of the files", at: T0 + 5 });
    await store.apply({ v: 1, type: "failed", jobId: recent.id, error: "none of the files", at: T0 + 50 });
    expect(await store.prune(T0 + 6, T0)).toBe(1);
    expect(await store.prune(T0 + 6, T0 + 1)).toBe(1);
    expect([await store.get(done.id), await store.get(running.id), (await store.get(recent.id))?.state]).toEqual([null, null, "failed"]);
  });

  test("two stores folding one job's events lose none: each write checks the view is still the one it folded onto", async () => {
    const p = await place();
    const [a, b] = [await open(p), await open(p)];
    const urls = Array.from({ length: 8 }, (_, i) => `https://a.example/${i}`);
    const job = newJob(newId(), urls);
    await a.create(job);
    const done = (index: number) => ({ v: 1, type: "file", jobId: job.id, index, total: urls.length, url: urls[index]!, name: `f${index}`, state: "done", bytes: 1, size: 1, error: null, at: Date.now() }) as const;
    // a remembers the view it wrote; b changes it behind a's back; a's next event must be folded onto b's write
    await a.apply(done(0));
    await b.apply(done(1));
    await a.apply(done(2));
    // and side by side
    await Promise.all([3, 4, 5, 6, 7].map((i) => (i % 2 ? a : b).apply(done(i))));
    expect((await a.get(job.id))!.files.map((f) => f.state)).toEqual(urls.map(() => "done"));
    // a job forgotten meanwhile is unknown to a store that still remembers it
    await b.apply({ v: 1, type: "failed", jobId: job.id, error: "x", at: T0 });
    expect(await b.prune(T0 + 1, 0)).toBe(1);
    expect(await a.apply({ v: 1, type: "cancelled", jobId: job.id, at: Date.now() })).toBeNull();
  });
});

test("old store files (each version of the bun:sqlite store) open with their jobs, counted as published, and count against the limits", async () => {
  const running = newJob(newId(), ["https://a.example/1"], new Date(Date.now() - 5000));
  const done = { ...newJob(newId(), ["https://a.example/2"], new Date(Date.now() - 4000)), state: "failed" as const, finished_at: Date.now() - 3000 };
  // The table as the old migrate.ts left it at each PRAGMA user_version (0: before the outbox ... 3: the latest).
  const versions = [
    ["CREATE TABLE jobs (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, view TEXT NOT NULL)"],
    ["CREATE TABLE jobs (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, view TEXT NOT NULL, published INTEGER NOT NULL DEFAULT 1)"],
    [
      "CREATE TABLE jobs (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, view TEXT NOT NULL, published INTEGER NOT NULL DEFAULT 1, client TEXT NOT NULL DEFAULT '', created_ms INTEGER NOT NULL DEFAULT 0, finished INTEGER NOT NULL DEFAULT 0)",
      "CREATE INDEX jobs_by_client_time ON jobs (client, created_ms)",
    ],
    [
      "CREATE TABLE jobs (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, view TEXT NOT NULL, published INTEGER NOT NULL DEFAULT 1, client TEXT NOT NULL DEFAULT '', created_ms INTEGER NOT NULL DEFAULT 0, finished INTEGER NOT NULL DEFAULT 0, finished_ms INTEGER)",
      "CREATE INDEX jobs_finished_ms ON jobs (finished_ms) WHERE finished = 1",
    ],
  ];
  for (const [version, schema] of versions.entries()) {
    const dir = tmp();
    const old = new Database(`${dir}/jobs.sqlite`, { create: true });
    for (const stmt of schema) old.exec(stmt);
    old.exec(`PRAGMA user_version = ${version}`);
    for (const j of [running, done]) old.run("INSERT INTO jobs (id, created_at, view) VALUES (?, ?, ?)", [j.id, j.created_at, JSON.stringify(j)]);
    old.close();
    // Their jobs belong to no known client: they count against the client "".
    const store = await openJobStore(dir, { limits: { perMinute: 3, active: 2 } });
    opened.push(store);
    expect((await store.get(running.id))?.files[0]?.url).toBe("https://a.example/1");
    expect(await store.unpublished()).toEqual([]);
    await store.create(newJob(newId(), ["https://a.example/3"]), ""); // 2 recent, 1 unfinished: fits
    expect((await refusal(store.create(newJob(newId(), ["https://a.example/4"]), ""))).limit).toBe("active");
    await finish(store, running.id);
    expect((await refusal(store.create(newJob(newId(), ["https://a.example/5"]), ""))).limit).toBe("perMinute");
    // retention counts from when the old job finished (the one just finished here counts from now)
    expect(await store.prune(done.finished_at, 0)).toBe(0);
    expect(await store.prune(done.finished_at + 1, 0)).toBe(1);
    expect(await store.get(done.id)).toBeNull();
    await store.close();
    opened = [];
    const again = await openJobStore(dir); // opening a current file changes nothing
    opened.push(again);
    expect((await again.get(running.id))?.state).toBe("failed");
    expect(await again.get(done.id)).toBeNull();
  }
});
