/**
 * compressor (server 3): turns each finished job into one zip behind a signed
 * link. Wiring only: HTTP intake (http.ts) → compress queue → consumer.ts →
 * job.ts (claims.ts, zipwriter.ts with deflatepool.ts, archive.ts,
 * shared/finishedjobs.ts). Any number may run, on several machines sharing
 * the database and the folders.
 */
import { loadConfig } from "../shared/config.ts";
import { Broker } from "../shared/broker.ts";
import { brokerUrl } from "../shared/brokerauth.ts";
import { Consumer } from "../shared/consumer.ts";
import { jobDir, outcomesCover } from "../shared/jobfiles.ts";
import { openDb } from "../shared/db.ts";
import { createLogger } from "../shared/log.ts";
import { createMetrics } from "../shared/metrics.ts";
import { keepLogUnder } from "../shared/logcap.ts";
import { encode, type CompressRequest } from "../shared/messages.ts";
import { internalToken, linkSecret } from "../shared/secrets.ts";
import { onShutdown } from "../shared/shutdown.ts";
import { PROGRESS_EXCHANGE, WORK_EXCHANGE, keys, queues, serverNeeds } from "../shared/topology.ts";
import { clearPartials } from "./archive.ts";
import { closeSharedPool, sharedPool } from "./deflatepool.ts";
import { compressConsumer } from "./consumer.ts";
import { compressorApp } from "./http.ts";
import { cancelJob, compressJob, failJob, type JobDeps } from "./job.ts";
import { Claims } from "./claims.ts";
import { FinishedJobs, legacyRecordsDir } from "../shared/finishedjobs.ts";
import { sweep } from "./sweeper.ts";
import { spreadSubfolders } from "../shared/spreadfolders.ts";

const config = loadConfig();
const log = createLogger("compressor", config.LOG_LEVEL);
keepLogUnder(config.LOG_MAX_BYTES);
// one folder per job's archive: spread over the disk (spreadfolders.ts)
spreadSubfolders(config.ARCHIVES_DIR, log);
const db = await openDb(config.STATE_DIR, "compressor", config.DATABASE_URL);
const records = await FinishedJobs.open(db, legacyRecordsDir(config.STATE_DIR));
const claims = await Claims.open(db);
// the deflate threads: started when a job first has a file to deflate, ended when idle
const pool = sharedPool();
// Partial archives of no live claim were left by a compressor that died (here or on another machine sharing ARCHIVES_DIR).
const removed = await clearPartials(config, await claims.live());
if (removed > 0) log.info("removed partial archives left by a previous run", { removed });

const broker = await Broker.open({
  url: brokerUrl(config, "compressor"),
  log,
  needs: serverNeeds(config.QUEUE_TYPE).compressor,
});
const metrics = createMetrics("compressor");
const jobDeps: JobDeps = {
  config,
  metrics,
  secret: linkSecret(config),
  records,
  claims,
  machine: config.MACHINE_NAME,
  log,
  progressIntervalMs: config.PROGRESS_INTERVAL_MS,
  publish: (key, event, persistent) => broker.publish(PROGRESS_EXCHANGE, key, encode(event), { persistent }),
};
const consumer = new Consumer(
  compressConsumer({
    queue: queues(config.QUEUE_TYPE).compress,
    log,
    run: (req, signal) => compressJob(jobDeps, req, signal),
    cancel: (jobId) => cancelJob(jobDeps, jobId),
    fail: (jobId, error) => failJob(jobDeps, jobId, error),
  }),
);
await broker.addConsumer(consumer);

const app = compressorApp({
  records,
  token: internalToken(config),
  accountedFor: (jobId, total) => outcomesCover(jobDir(config, jobId), total),
  healthy: () => broker.connected,
  metrics,
  request: (jobId, total) => broker.publish(WORK_EXCHANGE, keys.compress(jobId), encode({ v: 1, jobId, total } satisfies CompressRequest)),
});
const server = Bun.serve({ hostname: config.HOST, port: config.COMPRESSOR_PORT, fetch: app.fetch });

// Expired archives, records past retention and stalled jobs, every SWEEP_INTERVAL_SECONDS.
let sweeping: Promise<unknown> | null = null;
const sweepNow = () => {
  sweeping ??= sweep({ config, secret: jobDeps.secret, records, claims, log, fail: (jobId, error) => failJob(jobDeps, jobId, error), busy: (jobId) => consumer.isActive(jobId) })
    .then((n) => Object.values(n).some((x) => x > 0) && log.info("swept", { ...n }))
    .catch((err) => log.error("sweep failed", { err }))
    .finally(() => (sweeping = null));
};
const sweeper = setInterval(sweepNow, config.SWEEP_INTERVAL_SECONDS * 1000);
sweepNow();
log.info("ready", { http: `${config.HOST}:${server.port}`, deflateThreads: pool.size });

onShutdown(log, [
  ["stop HTTP intake", () => server.stop()],
  ["stop sweeping", () => (clearInterval(sweeper), sweeping)],
  // the current job may finish; an unfinished one goes back to the queue
  ["finish or hand back the current job", () => consumer.stop(15_000)],
  ["close the deflate threads", () => closeSharedPool()],
  ["close broker", () => broker.close()],
  ["close the store", () => db.close()],
]);
