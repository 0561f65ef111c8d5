/**
 * compressor (server 3): turns each finished job into one zip behind a signed
 * link. Wiring only: HTTP intake (http.ts) → compress queue → consumer.ts →
 * job.ts (zipwriter.ts, archive.ts, records.ts).
 */
import { loadConfig } from "../shared/config.ts";
import { Broker } from "../shared/broker.ts";
import { brokerUrl } from "../shared/brokerauth.ts";
import { Consumer } from "../shared/consumer.ts";
import { allAccountedFor, jobDir, readOutcomes } from "../shared/jobfiles.ts";
import { createLogger } from "../shared/log.ts";
import { encode, type CompressRequest } from "../shared/messages.ts";
import { internalToken, linkSecret } from "../shared/secrets.ts";
import { onShutdown } from "../shared/shutdown.ts";
import { COMPRESS_QUEUE, PROGRESS_EXCHANGE, RETRY_EXCHANGE, WORK_EXCHANGE, keys } from "../shared/topology.ts";
import { clearPartials } from "./archive.ts";
import { compressConsumer } from "./consumer.ts";
import { compressorApp } from "./http.ts";
import { compressJob, failJob, type JobDeps } from "./job.ts";
import { Records } from "./records.ts";

const config = loadConfig();
const log = createLogger("compressor", config.LOG_LEVEL);
const records = new Records(config);
const removed = await clearPartials(config);
if (removed > 0) log.info("removed partial archives left by a previous run", { removed });

const broker = await Broker.open({
  url: brokerUrl(config, "compressor"),
  log,
  needs: { exchanges: [WORK_EXCHANGE, PROGRESS_EXCHANGE, RETRY_EXCHANGE], queues: [COMPRESS_QUEUE] },
});
const jobDeps: JobDeps = {
  config,
  secret: linkSecret(config),
  records,
  log,
  progressIntervalMs: config.PROGRESS_INTERVAL_MS,
  publish: (key, event, persistent) => broker.publish(PROGRESS_EXCHANGE, key, encode(event), { persistent }),
};
const consumer = new Consumer(
  compressConsumer({
    log,
    run: (req, signal) => compressJob(jobDeps, req, signal),
    fail: (jobId, error) => failJob(jobDeps, jobId, error),
  }),
);
await broker.addConsumer(consumer);

const app = compressorApp({
  records,
  token: internalToken(config),
  accountedFor: async (jobId, total) => allAccountedFor(await readOutcomes(jobDir(config, jobId)), total),
  healthy: () => broker.connected,
  request: (jobId, total) => broker.publish(WORK_EXCHANGE, keys.compress(jobId), encode({ v: 1, jobId, total } satisfies CompressRequest)),
});
const server = Bun.serve({ hostname: config.HOST, port: config.COMPRESSOR_PORT, fetch: app.fetch });
log.info("ready", { http: `${config.HOST}:${server.port}` });

onShutdown(log, [
  ["stop HTTP intake", () => server.stop()],
  // the current job may finish; an unfinished one goes back to the queue
  ["finish or hand back the current job", () => consumer.stop(15_000)],
  ["close broker", () => broker.close()],
]);
