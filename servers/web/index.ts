/**
 * web (server 1): the page and the JSON API. Wires config, the job store,
 * the broker (publishing jobs, folding progress into the store) and the HTTP
 * server; the routes live in app.tsx.
 */
import { loadConfig } from "../shared/config.ts";
import { createLogger } from "../shared/log.ts";
import { keepLogUnder } from "../shared/logcap.ts";
import { Broker } from "../shared/broker.ts";
import { brokerUrl, stompLogin } from "../shared/brokerauth.ts";
import { Consumer } from "../shared/consumer.ts";
import { internalToken, linkSecret } from "../shared/secrets.ts";
import { onShutdown } from "../shared/shutdown.ts";
import { openJobStore } from "./store.ts";
import { checkedEvent, progressConsumer } from "./progressfold.ts";
import { createJob, OUTBOX_SWEEP_MS, publishPending } from "./jobs.ts";
import { createApp } from "./app.tsx";
import { StompHub } from "./stomp.ts";
import { Bridge } from "./bridge.ts";
import { mountStatic } from "./static.ts";
import { QueueDepth } from "./queuedepth.ts";
import { DiskRoom, freeBytes } from "./diskroom.ts";
import { createMetrics, metricsResponse } from "../shared/metrics.ts";
import { isFinal } from "../shared/jobstate.ts";
import { WORK_EXCHANGE, keys, queues, serverNeeds } from "../shared/topology.ts";
import { encode, type CompressRequest } from "../shared/messages.ts";

const config = loadConfig();
const log = createLogger("web", config.LOG_LEVEL);
keepLogUnder(config.LOG_MAX_BYTES);
const store = await openJobStore(`${config.STATE_DIR}/web`, {
  limits: { perMinute: config.MAX_JOBS_PER_MINUTE, active: config.MAX_ACTIVE_JOBS },
  databaseUrl: config.DATABASE_URL,
});
const broker = await Broker.open({
  url: brokerUrl(config, "web"),
  log,
  needs: serverNeeds(config.QUEUE_TYPE).web,
});
const secret = linkSecret(config);
const progressFold = new Consumer(progressConsumer({ store, log, config, secret }));
await broker.addConsumer(progressFold);

// Jobs a web process (a crashed predecessor, or another one) recorded but did not publish: the store is the outbox.
let sweeping = false;
const sweepOutbox = () => {
  if (sweeping) return;
  sweeping = true;
  publishPending(store, broker, log)
    .catch((err) => log.error("publishing pending jobs failed", { err }))
    .finally(() => (sweeping = false));
};
const outbox = setInterval(sweepOutbox, OUTBOX_SWEEP_MS);
sweepOutbox();

// The live page: one STOMP connection for every SSE client of this process.
const hub = new StompHub({ urls: config.STOMP_URL, ...stompLogin(config), log });
hub.start();
const bridge = new Bridge({ hub, store, log, parseEvent: (body) => checkedEvent(body, { publicUrl: config.PUBLIC_URL, secret }), maxStreams: config.MAX_EVENT_STREAMS, maxStreamsPerClient: config.MAX_EVENT_STREAMS_PER_CLIENT });

// The download queue's depth (a passive declare, cached for a second): past MAX_QUEUED_FILES new jobs wait.
const queue = new QueueDepth(async () => (await (await broker.channel()).checkQueue(queues(config.QUEUE_TYPE).download)).messageCount, { max: config.MAX_QUEUED_FILES });
// Free space on the volumes jobs fill (statfs, cached for a second): below MIN_FREE_DISK_BYTES new jobs get 507.
const disk = new DiskRoom([config.DOWNLOADS_DIR, config.ARCHIVES_DIR], config.MIN_FREE_DISK_BYTES);

// Metrics: jobs as they end (the store tells each change once), streams and disk free when asked.
const metrics = createMetrics("web");
store.onChange((job) => {
  if (!isFinal(job.state)) return;
  metrics.jobsFinished.inc({ state: job.state });
  if (job.state === "ready" && job.finished_at) metrics.timeToLink.observe((job.finished_at - Date.parse(job.created_at)) / 1000);
});
const respondMetrics = async () => {
  metrics.eventStreams.set(bridge.clients);
  for (const [volume, path] of [["downloads", config.DOWNLOADS_DIR], ["archives", config.ARCHIVES_DIR]] as const) {
    const free = await freeBytes(path);
    if (free !== null) metrics.diskFree.set({ volume }, free);
  }
  return metricsResponse(metrics);
};

const app = createApp({
  config,
  store,
  createJob: (urls, ttl, client) => createJob(store, broker, urls, ttl, client),
  cancelJob: (id) => broker.publish(WORK_EXCHANGE, keys.cancel(id), encode({ v: 1, jobId: id, cancel: true } satisfies CompressRequest)),
  brokerUp: () => broker.connected,
  queue,
  disk,
  metrics: { token: internalToken(config), respond: respondMetrics },
  events: bridge.events,
  extend: mountStatic,
});

// Jobs past their retention are forgotten (their ids then answer 410), every SWEEP_INTERVAL_SECONDS.
const pruneJobs = async () => {
  const keep = config.JOB_RETENTION_SECONDS * 1000;
  const n = await store.prune(Date.now() - keep, Date.now() - 2 * keep);
  if (n > 0) log.info("forgot jobs past their retention", { n });
};
const pruner = setInterval(() => void pruneJobs().catch((err) => log.error("forgetting old jobs failed", { err })), config.SWEEP_INTERVAL_SECONDS * 1000);
await pruneJobs();

// Idle connections and stalled requests are closed; event streams lift the timeout for themselves.
const server = Bun.serve({ hostname: config.HOST, port: config.PORT, fetch: app.fetch, idleTimeout: config.HTTP_IDLE_TIMEOUT_SECONDS });
log.info("listening", { url: `http://${config.HOST}:${server.port}/` });

onShutdown(log, [
  [
    "stop http",
    () => {
      const stopped = server.stop(); // no new requests; resolves when open ones end
      bridge.close(); // so end the live streams
      return stopped;
    },
  ],
  ["close stomp", () => hub.close()],
  ["stop folding progress", () => progressFold.stop(5_000)],
  ["stop sweeping", () => (clearInterval(pruner), clearInterval(outbox))],
  ["close broker", () => broker.close()],
  ["close store", () => store.close()],
]);
