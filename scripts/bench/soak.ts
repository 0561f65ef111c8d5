/**
 * @module soak
 * Does anything grow without bound? A few thousand small jobs go through a
 * stack of their own with short lifetimes (retention 10 s, links 5 s, a sweep
 * every 2 s), half their links downloaded (burned), half left to expire;
 * every 2 s it samples the disk used under RUN_DIR, the job store's rows,
 * the compressor's finished-job records, the link guard's rows, the queues,
 * the dead letters and each process's RSS, until 30 s after the last job. The report (soakreport.ts) compares the last third of the run
 * with the middle third: once retention has started, the ratio stays near 1.
 */
import { Database } from "bun:sqlite";
import { readdirSync, readFileSync, statSync } from "node:fs";
import type amqp from "amqplib";
import { connectFirst } from "../../servers/shared/broker.ts";
import type { Config } from "../../servers/shared/config.ts";
import { brokerUrl } from "../../servers/shared/brokerauth.ts";
import { queues } from "../../servers/shared/topology.ts";
import { readPid } from "../lib/procs.ts";
import type { EventHub } from "./events.ts";
import { submit } from "./linkpack.ts";
import { MEASURED, processTree, type Measured } from "./procstats.ts";
import type { SoakResult, SoakSample } from "./results.ts";

/** The soak stack's settings: everything short-lived, so retention starts within the run. */
export const SOAK_SETTINGS: Record<string, string> = {
  JOB_RETENTION_SECONDS: "10",
  LINK_TTL_SECONDS: "5",
  MAX_LINK_TTL_SECONDS: "60",
  SWEEP_INTERVAL_SECONDS: "2",
  CLOCK_SKEW_SECONDS: "5",
  LOG_MAX_BYTES: "1048576",
};

function bytesUnder(dir: string): number {
  let n = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    try {
      const st = statSync(`${dir}/${name}`);
      n += st.isDirectory() ? bytesUnder(`${dir}/${name}`) : st.size;
    } catch {
      /* gone meanwhile */
    }
  }
  return n;
}

function rows(file: string, table: string): number {
  try {
    const db = new Database(file, { readonly: true });
    try {
      return db.query<{ n: number }, []>(`SELECT COUNT(*) AS n FROM ${table}`).get()!.n;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

/** Resident memory of a process now (VmRSS), bytes. */
function vmRss(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

async function sampleNow(c: Config, ch: amqp.Channel, t0: number, done: number): Promise<SoakSample> {
  let queued = 0;
  const names = queues(c.QUEUE_TYPE);
  for (const q of [names.download, names.compress, names.webProgress]) queued += (await ch.checkQueue(q)).messageCount;
  const rss: Partial<Record<Measured, number>> = {};
  for (const part of MEASURED) {
    const pid = readPid(c.RUN_DIR, part);
    if (pid !== null) rss[part] = processTree(pid).reduce((s, p) => s + vmRss(p), 0);
  }
  return {
    t: Date.now() - t0,
    jobsDone: done,
    diskBytes: bytesUnder(c.DOWNLOADS_DIR) + bytesUnder(c.ARCHIVES_DIR) + bytesUnder(c.STATE_DIR) + bytesUnder(`${c.RUN_DIR}/logs`),
    jobRows: rows(`${c.STATE_DIR}/web/jobs.sqlite`, "web_jobs"),
    records: rows(`${c.STATE_DIR}/compressor.sqlite`, "compress_finished"),
    ledgerRows: rows(`${c.STATE_DIR}/linkguard.sqlite`, "guard_links"),
    queued,
    deadLetters: (await ch.checkQueue(names.dead)).messageCount,
    rss,
  };
}

/** Runs `jobs` jobs of `urls`, `inFlight` at a time, sampling every 2 s until `tailMs` after the last. */
export async function runSoak(o: { config: Config; web: string; hub: EventHub; urls: string[]; jobs: number; inFlight?: number; tailMs?: number; say(s: string): void }): Promise<SoakResult> {
  const { conn } = await connectFirst(brokerUrl(o.config, "observer"));
  const ch = await conn.createChannel();
  const samples: SoakSample[] = [];
  const t0 = Date.now();
  let done = 0;
  let failures = 0;
  const timer = setInterval(() => void sampleNow(o.config, ch, t0, done).then((s) => samples.push(s)), 2000);
  try {
    let next = 0;
    const worker = async () => {
      while (next < o.jobs) {
        const i = next++;
        try {
          const id = await submit(o.web, o.urls);
          const { link } = await o.hub.waitLink(id, 120_000);
          if (i % 2 === 0) await (await fetch(link.link)).arrayBuffer(); // half are downloaded (and burned), half expire
          o.hub.forget(id);
          done++;
        } catch {
          failures++;
        }
        if (done % 250 === 0 && done > 0) o.say(`  soak: ${done} of ${o.jobs} jobs`);
      }
    };
    await Promise.all(Array.from({ length: o.inFlight ?? 8 }, worker));
    const wallMs = Date.now() - t0;
    await Bun.sleep(o.tailMs ?? 30_000); // the bench's own pause: let retention catch up with the last jobs
    samples.push(await sampleNow(o.config, ch, t0, done));
    return { jobs: o.jobs, done, failures, wallMs, settings: SOAK_SETTINGS, samples };
  } finally {
    clearInterval(timer);
    await conn.close().catch(() => {});
  }
}
