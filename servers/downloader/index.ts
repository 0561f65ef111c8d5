/**
 * downloader (server 2): consumes DOWNLOAD_QUEUE (one message per URL), fetches
 * each file safely into the job folder, publishes its progress, and hands
 * complete jobs to the compressor. This file only wires the parts together.
 */
import { amqpUrl, loadConfig } from "../shared/config.ts";
import { Broker } from "../shared/broker.ts";
import { serveHealth } from "../shared/health.ts";
import { createLogger } from "../shared/log.ts";
import { encode } from "../shared/messages.ts";
import { internalToken } from "../shared/secrets.ts";
import { InFlight, onShutdown } from "../shared/shutdown.ts";
import { DOWNLOAD_QUEUE, PROGRESS_EXCHANGE, keys } from "../shared/topology.ts";
import { downloadHandler } from "./consumer.ts";
import { HostLimit } from "./hostlimit.ts";
import { CompressorClient } from "./notify.ts";
import { systemResolver } from "./ssrf.ts";

/** How long shutdown waits for in-flight downloads; unfinished ones are redelivered. */
const DRAIN_MS = 10_000;

const config = loadConfig();
const log = createLogger("downloader", config.LOG_LEVEL);
const stopping = new AbortController();
const inflight = new InFlight();

const hosts = new HostLimit(config.PER_HOST_CONCURRENCY);
const compressor = new CompressorClient({ compressorUrl: config.COMPRESSOR_URL, token: internalToken(config), log, signal: stopping.signal });
// one handler for the life of the process (not per channel): it remembers the
// files in progress, so a redelivery after a reconnect waits for them
let handler: ReturnType<typeof downloadHandler> | null = null;

const broker = await Broker.open({
  url: amqpUrl(config),
  log,
  onChannel: async (ch, b) => {
    handler ??= downloadHandler({
      config,
      log,
      resolver: systemResolver,
      hosts,
      compressor,
      inflight,
      signal: stopping.signal,
      publish: (ev, persistent) => b.publish(PROGRESS_EXCHANGE, keys.file(ev.jobId, ev.index), encode(ev), { persistent }),
    });
    await ch.prefetch(config.DOWNLOAD_CONCURRENCY);
    await b.consume(ch, DOWNLOAD_QUEUE, handler);
  },
});
const health = serveHealth(config.HOST, config.DOWNLOADER_PORT, () => broker.connected);
log.info("ready", { concurrency: config.DOWNLOAD_CONCURRENCY, perHost: config.PER_HOST_CONCURRENCY, dir: config.DOWNLOADS_DIR });

onShutdown(log, [
  ["stop consuming", () => broker.stopConsuming()],
  ["drain downloads", async () => {
    if (inflight.size) log.info("waiting for in-flight downloads", { count: inflight.size, maxMs: DRAIN_MS });
    await inflight.drain(DRAIN_MS);
    stopping.abort();
  }],
  ["close broker", () => broker.close()],
  ["stop health", () => health.stop()],
]);
