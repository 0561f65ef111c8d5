/**
 * compressor (server 3): turns each finished job into one zip behind a signed
 * link. Wiring only: HTTP intake (http.ts) → compress queue → consumer.ts →
 * job.ts (zipwriter.ts, archive.ts, records.ts).
 */
import { loadConfig, amqpUrl } from "../shared/config.ts";
import { createLogger } from "../shared/log.ts";
import { Broker } from "../shared/broker.ts";
import { encode, type CompressRequest } from "../shared/messages.ts";
import { allAccountedFor, jobDir, readOutcomes } from "../shared/jobfiles.ts";
import { internalToken, linkSecret } from "../shared/secrets.ts";
import { InFlight, onShutdown } from "../shared/shutdown.ts";
import { PROGRESS_EXCHANGE, WORK_EXCHANGE, keys } from "../shared/topology.ts";
import { clearPartials } from "./archive.ts";
import { CompressConsumer } from "./consumer.ts";
import { compressorApp } from "./http.ts";
import { compressJob, failJob, type JobDeps } from "./job.ts";
import { Records } from "./records.ts";

const config = loadConfig();
const log = createLogger("compressor", config.LOG_LEVEL);
const secret = linkSecret(config);
const records = new Records(config);
const removed = await clearPartials(config);
if (removed > 0) log.info("removed partial archives left by a previous run", { removed });

const stopping = new AbortController();
const inflight = new InFlight();
let current: Broker | null = null;
const publisher = () => current!;
const jobDeps: JobDeps = {
  config,
  secret,
  records,
  log,
  progressIntervalMs: config.PROGRESS_INTERVAL_MS,
  publish: (key, event, persistent) => publisher().publish(PROGRESS_EXCHANGE, key, encode(event), { persistent }),
};
const consumer = new CompressConsumer({
  log,
  inflight,
  signal: stopping.signal,
  run: (req, signal) => compressJob(jobDeps, req, signal),
  fail: (jobId, error) => failJob(jobDeps, jobId, error),
});
const broker = await Broker.open({
  url: amqpUrl(config),
  log,
  onChannel: async (ch, b) => {
    current = b;
    await consumer.attach(ch, b);
  },
});

const app = compressorApp({
  records,
  token: internalToken(config),
  accountedFor: async (jobId, total) => allAccountedFor(await readOutcomes(jobDir(config, jobId)), total),
  healthy: () => broker.connected,
  request: (jobId, total) => broker.publish(WORK_EXCHANGE, keys.compress(jobId), encode({ v: 1, jobId, total } satisfies CompressRequest), { persistent: true }),
});
const server = Bun.serve({ hostname: config.HOST, port: config.COMPRESSOR_PORT, fetch: app.fetch });
log.info("ready", { http: `${config.HOST}:${server.port}` });

onShutdown(log, [
  ["stop HTTP intake", () => server.stop()],
  ["stop consuming", () => broker.stopConsuming()],
  ["let the current job finish", () => inflight.drain(15_000)],
  ["leave an unfinished job for redelivery", async () => {
    if (inflight.size === 0) return;
    stopping.abort(new Error("shutting down"));
    await inflight.drain(2_000);
  }],
  ["close broker", () => broker.close()],
]);
