/**
 * downloader (server 2): consumes the download queue (one message per URL), fetches
 * each file safely into the job folder, publishes its progress, and hands
 * complete jobs to the compressor. This file only wires the parts together.
 */
import { loadConfig } from "../shared/config.ts";
import { Broker } from "../shared/broker.ts";
import { brokerUrl } from "../shared/brokerauth.ts";
import { Consumer } from "../shared/consumer.ts";
import { serveHealth } from "../shared/health.ts";
import { openDb } from "../shared/db.ts";
import { FinishedJobs, legacyRecordsDir } from "../shared/finishedjobs.ts";
import { createMetrics } from "../shared/metrics.ts";
import { createLogger } from "../shared/log.ts";
import { keepLogUnder } from "../shared/logcap.ts";
import { encode } from "../shared/messages.ts";
import { internalToken } from "../shared/secrets.ts";
import { onShutdown } from "../shared/shutdown.ts";
import { PROGRESS_EXCHANGE, keys, queues, serverNeeds } from "../shared/topology.ts";
import { downloadConsumer } from "./consumer.ts";
import { HostLimit } from "./hostlimit.ts";
import { Scheduler } from "./scheduler.ts";
import { Cancels } from "./cancels.ts";
import { CompressorClient } from "./notify.ts";
import { systemResolver } from "./ssrf.ts";
import { spreadSubfolders } from "../shared/spreadfolders.ts";

/** How long shutdown waits for in-flight downloads; unfinished ones go back to the queue. */
const DRAIN_MS = 10_000;

const config = loadConfig();
const log = createLogger("downloader", config.LOG_LEVEL);
keepLogUnder(config.LOG_MAX_BYTES);
// one folder per job: spread over the disk (spreadfolders.ts)
spreadSubfolders(config.DOWNLOADS_DIR, log);
const broker = await Broker.open({
  url: brokerUrl(config, "downloader"),
  log,
  needs: serverNeeds(config.QUEUE_TYPE).downloader,
});
const metrics = createMetrics("downloader");
// the compressor's finished-job records: a late message of a finished job is dropped, not downloaded into a stray folder
const db = await openDb(config.STATE_DIR, "compressor", config.DATABASE_URL);
const finished = await FinishedJobs.open(db, legacyRecordsDir(config.STATE_DIR));
// cancelled jobs' downloads stop at once (the compressor announces them)
const cancels = new Cancels(log);
await broker.addConsumer(cancels);
const consumer = new Consumer(
  downloadConsumer({
    queue: queues(config.QUEUE_TYPE).download,
    config,
    log,
    metrics,
    cancels,
    finished,
    // room for every running file, one whole job waiting, and as many being deferred
    prefetch: 2 * config.DOWNLOAD_CONCURRENCY + config.MAX_URLS,
    resolver: systemResolver,
    scheduler: new Scheduler(
      { slots: config.DOWNLOAD_CONCURRENCY, perJob: config.PER_JOB_CONCURRENCY, room: config.MAX_URLS },
      new HostLimit(config.PER_HOST_CONCURRENCY),
    ),
    compressor: new CompressorClient({ compressorUrls: config.COMPRESSOR_URL, token: internalToken(config), log }),
    publish: (ev, persistent) => broker.publish(PROGRESS_EXCHANGE, keys.file(ev.jobId, ev.index), encode(ev), { persistent }),
  }),
);
await broker.addConsumer(consumer);
const health = serveHealth(config.HOST, config.DOWNLOADER_PORT, () => broker.connected, metrics);
log.info("ready", { concurrency: config.DOWNLOAD_CONCURRENCY, perJob: config.PER_JOB_CONCURRENCY, perHost: config.PER_HOST_CONCURRENCY, dir: config.DOWNLOADS_DIR });

onShutdown(log, [
  ["finish or hand back downloads", async () => {
    if (consumer.inFlight) log.info("waiting for in-flight downloads", { count: consumer.inFlight, maxMs: DRAIN_MS });
    await consumer.stop(DRAIN_MS);
  }],
  ["close broker", () => broker.close()],
  ["stop health", () => health.stop()],
  ["close the store", () => db.close()],
]);
