/**
 * The real stack on PostgreSQL (DATABASE_URL: the run's private cluster, a
 * database of its own) with two web processes on it: a job made on one is
 * served — page JSON and live events to its end — by the other, its link
 * works once; a client's limits hold across both web processes. The stack
 * reaches its database through a gate the test can shut: an outage of the
 * database, longer than every retry budget, costs the job in flight time,
 * not its files or its link.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { loadConfig } from "../../servers/shared/config.ts";
import { stopProcess } from "../../scripts/lib/procs.ts";
import { freePort } from "../../scripts/lib/ports.ts";
import { startPart } from "../../scripts/lib/stack.ts";
import { createStack } from "../stack.ts";
import { sseClient } from "../support/events.ts";
import { entries, fetchLink, getJob, submit } from "../support/jobs.ts";
import { getSettled } from "../support/links.ts";
import { until } from "../support/wait.ts";
import { freshDatabase, postgresAvailable, type TestDatabase } from "../support/postgres.ts";
import { held } from "../support/fixtures.ts";
import { followLog } from "../support/events.ts";
import { startTcpGate, type TcpGate } from "../support/tcpgate.ts";

describe.skipIf(!postgresAvailable())("the stack on PostgreSQL, two web processes", () => {
  let pg: TestDatabase;
  let gate: TcpGate;
  let stack: Awaited<ReturnType<typeof createStack>>;
  let webB: string;
  let runDirB = "";
  beforeAll(async () => {
    pg = await freshDatabase();
    const direct = new URL(pg.url);
    gate = startTcpGate(direct.hostname, Number(direct.port));
    const gated = new URL(pg.url);
    gated.hostname = "127.0.0.1";
    gated.port = String(gate.port);
    // Requests come from 127.0.0.1 as a trusted proxy, so X-Forwarded-For names the client the limits count.
    stack = await createStack({ DATABASE_URL: gated.href, TRUSTED_PROXIES: "127.0.0.1", MAX_JOBS_PER_MINUTE: "3" });
    const configB = loadConfig({ ...stack.env, PORT: String(freePort()) });
    await startPart(configB, "web", 90_000, "web-2");
    runDirB = configB.RUN_DIR;
    webB = `http://${configB.HOST}:${configB.PORT}`;
  }, 180_000);
  afterAll(async () => {
    if (runDirB) await stopProcess(runDirB, "web-2");
    await stack?.stop();
    gate?.stop();
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

  test("the database going away mid-job, for longer than any retry budget, costs time: the job ends ready with every file", async () => {
    const slow = held(new Uint8Array(1000).fill(7), new Uint8Array(3000).fill(8));
    const quick = stack.fixtures.route("/pg/outage-quick.txt", "quick\n".repeat(500), "text/plain");
    const late = stack.fixtures.route("/pg/outage-held.bin", slow.handler);
    const id = await submit(stack.web, [quick, late]);
    await until("the quick file to be folded in", async () => (await getJob(stack.web, id)).files[0]!.state === "done");
    const web = followLog(stack.config, "web");
    gate.cut();
    slow.release(); // the last file arrives while the database is away: its events, the hand-off and the archive must wait
    // Past the progress fold's 5 attempts: without the pause the fold would have given these events up.
    const refused = async () => (await web.lines()).filter((l) => /Failed to connect|Connection closed/.test(l)).length;
    await until("the fold to have met the outage more often than its attempts allow", async () => (await refused()) >= 8, 90_000);
    gate.restore();
    const job = await until("the job to end", async () => {
      const j = await getJob(stack.web, id).catch(() => null);
      return j && (j.state === "ready" || j.state === "failed") ? j : null;
    }, 90_000);
    expect(job.state).toBe("ready");
    expect(job.files.map((f) => f.state)).toEqual(["done", "done"]);
    const got = await fetchLink(job.link!);
    expect(got.status).toBe(200);
    // the held file as sent: its first 1000 bytes, a byte per half second while held, then the rest
    const sent = Object.entries(entries(got.body)).find(([name]) => name.includes("outage-held"))![1];
    expect(sent.length).toBe(job.files[1]!.bytes);
    expect([sent[0], sent[999], sent[sent.length - 1], sent.length >= 4000]).toEqual([7, 7, 8, true]);
  }, 240_000);
});
