/**
 * The real stack on PostgreSQL (DATABASE_URL: the run's private cluster, a
 * database of its own) with two web processes on it: a job made on one is
 * served — page JSON and live events to its end — by the other, its link
 * works once; a client's limits hold across both web processes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { loadConfig } from "../../servers/shared/config.ts";
import { stopProcess } from "../../scripts/lib/procs.ts";
import { freePort } from "../../scripts/lib/ports.ts";
import { startPart } from "../../scripts/lib/stack.ts";
import { createStack } from "../stack.ts";
import { sseClient } from "../support/events.ts";
import { fetchLink, getJob, submit } from "../support/jobs.ts";
import { getSettled } from "../support/links.ts";
import { until } from "../support/wait.ts";
import { freshDatabase, postgresAvailable, type TestDatabase } from "../support/postgres.ts";

describe.skipIf(!postgresAvailable())("the stack on PostgreSQL, two web processes", () => {
  let pg: TestDatabase;
  let stack: Awaited<ReturnType<typeof createStack>>;
  let webB: string;
  let runDirB = "";
  beforeAll(async () => {
    pg = await freshDatabase();
    // Requests come from 127.0.0.1 as a trusted proxy, so X-Forwarded-For names the client the limits count.
    stack = await createStack({ DATABASE_URL: pg.url, TRUSTED_PROXIES: "127.0.0.1", MAX_JOBS_PER_MINUTE: "3" });
    const configB = loadConfig({ ...stack.env, PORT: String(freePort()) });
    await startPart(configB, "web", 90_000, "web-2");
    runDirB = configB.RUN_DIR;
    webB = `http://${configB.HOST}:${configB.PORT}`;
  }, 180_000);
  afterAll(async () => {
    if (runDirB) await stopProcess(runDirB, "web-2");
    await stack?.stop();
    await pg?.drop();
  }, 60_000);

  test("a job made on one web process is served, live to its end, by the other; its link works once", async () => {
    const url = stack.fixtures.route("/pg/a.txt", "hello from postgres\n".repeat(1000), "text/plain");
    const id = await submit(stack.web, [url]);
    const events = await sseClient(`${webB}/jobs/${id}/events?format=json`);
    const done = await events.next((e) => e.event === "done");
    const job = JSON.parse(done.data);
    expect(job.state).toBe("ready");
    expect(job.files[0].bytes).toBe(20_000);
    // the live events may come a moment before the store has folded them in; then both answer with the link
    for (const web of [webB, stack.web]) await until(`the job's JSON on ${web} to have its link`, async () => (await getJob(web, id)).link === job.link);
    expect((await fetchLink(job.link)).status).toBe(200);
    expect((await getSettled(job.link)).status).toBe(410);
  }, 90_000);

  test("a client's jobs per minute are counted across both web processes", async () => {
    const client = "198.51.100.7";
    const post = (web: string) =>
      fetch(`${web}/jobs`, { method: "POST", body: "http://192.0.2.1:9/never.jpg", headers: { "content-type": "text/plain", accept: "application/json", "x-forwarded-for": client } });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await post(i % 2 ? webB : stack.web)).status);
    expect(statuses).toEqual([202, 202, 202, 429, 429, 429]);
  }, 60_000);
});
