/** linkguard: placeholder until implemented — answers /healthz only. */
import { loadConfig, amqpUrl } from "../shared/config.ts";
import { createLogger } from "../shared/log.ts";
import { Broker } from "../shared/broker.ts";
import { serveHealth } from "../shared/health.ts";
import { onShutdown } from "../shared/shutdown.ts";

const config = loadConfig();
const log = createLogger("linkguard", config.LOG_LEVEL);
const broker = await Broker.open({ url: amqpUrl(config), log });
const health = serveHealth(config.GUARD_HOST, config.GUARD_PORT, () => broker.connected);
log.info("ready");
onShutdown(log, [["stop health", () => health.stop()], ["close broker", () => broker.close()]]);
