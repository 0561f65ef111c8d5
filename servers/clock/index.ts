/**
 * clock (server 5): publishes the server time every second on the progress
 * exchange (`clock.tick`), as ISO 8601 and epoch milliseconds. Ticks are not
 * persistent: a late tick is worthless.
 */
import { loadConfig } from "../shared/config.ts";
import { createLogger } from "../shared/log.ts";
import { keepLogUnder } from "../shared/logcap.ts";
import { Broker } from "../shared/broker.ts";
import { brokerUrl } from "../shared/brokerauth.ts";
import { PROGRESS_EXCHANGE, keys, serverNeeds } from "../shared/topology.ts";
import { encode, type ClockEvent } from "../shared/messages.ts";
import { serveHealth } from "../shared/health.ts";
import { createMetrics } from "../shared/metrics.ts";
import { onShutdown } from "../shared/shutdown.ts";

const config = loadConfig();
const log = createLogger("clock", config.LOG_LEVEL);
keepLogUnder(config.LOG_MAX_BYTES);
const broker = await Broker.open({ url: brokerUrl(config, "clock"), log, needs: serverNeeds(config.QUEUE_TYPE).clock });
const health = serveHealth(config.HOST, config.CLOCK_PORT, () => broker.connected, createMetrics("clock"));

/** The tick for `now`. */
function tick(now = new Date()): ClockEvent {
  return { v: 1, type: "clock", iso: now.toISOString(), epochMs: now.getTime() };
}

// Align ticks to whole seconds so every page's clock changes together.
let timer: Timer | undefined;
const schedule = () => {
  timer = setTimeout(() => {
    if (broker.connected) void broker.publish(PROGRESS_EXCHANGE, keys.clock, encode(tick()), { persistent: false }).catch(() => {});
    schedule();
  }, 1000 - (Date.now() % 1000));
};
schedule();
log.info("ticking", { health: `${config.HOST}:${health.port}` });

onShutdown(log, [
  ["stop ticking", () => clearTimeout(timer)],
  ["stop health", () => health.stop()],
  ["close broker", () => broker.close()],
]);
