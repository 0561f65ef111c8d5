/**
 * linkguard: makes signed links one-time. nginx asks it (auth_request) before
 * serving a link and tells it (syslog access log) how the download ended.
 * Wiring only: http.ts (lease requests), listener.ts (log lines), leases.ts (state).
 */
import { loadConfig } from "../shared/config.ts";
import { createLogger } from "../shared/log.ts";
import { onShutdown } from "../shared/shutdown.ts";
import { guardHandler } from "./http.ts";
import { LeaseStore } from "./leases.ts";
import { listenSyslog } from "./listener.ts";

const config = loadConfig();
const log = createLogger("linkguard", config.LOG_LEVEL);
const store = new LeaseStore(`${config.STATE_DIR}/linkguard.sqlite`, config.LINK_LEASE_SECONDS * 1000);
const udp = await listenSyslog(config.GUARD_HOST, config.GUARD_SYSLOG_PORT, store, log);
const server = Bun.serve({ hostname: config.GUARD_HOST, port: config.GUARD_PORT, fetch: guardHandler(store) });

// Links untouched for a day past their lifetime have expired: nginx refuses them before asking.
const keepMs = (config.LINK_TTL_SECONDS + 86_400) * 1000;
const pruner = setInterval(() => {
  const n = store.prune(Date.now() - keepMs);
  if (n > 0) log.info("forgot expired links", { n });
}, 3_600_000);
log.info("ready", { http: `${config.GUARD_HOST}:${server.port}`, syslog: `${config.GUARD_HOST}:${udp.port}` });

onShutdown(log, [
  ["stop pruning", () => clearInterval(pruner)],
  ["stop HTTP", () => server.stop()],
  ["stop syslog", () => udp.close()],
  ["close store", () => store.close()],
]);
