/**
 * linkguard: makes signed links deliver every byte once. nginx asks it
 * (auth_request, http.ts) before serving a link and writes how each download
 * ended to an access log file it follows (tailer.ts); the ledger (ledger.ts)
 * keeps what each link delivered; used links are burned (burner.ts).
 * Wiring only.
 */
import { loadConfig } from "../shared/config.ts";
import { openDb } from "../shared/db.ts";
import { createLogger } from "../shared/log.ts";
import { createMetrics } from "../shared/metrics.ts";
import { keepLogUnder } from "../shared/logcap.ts";
import { internalToken } from "../shared/secrets.ts";
import { onShutdown } from "../shared/shutdown.ts";
import { Burner } from "./burner.ts";
import { guardHandler } from "./http.ts";
import { Ledger } from "./ledger.ts";
import { LogTailer } from "./tailer.ts";

const config = loadConfig();
const log = createLogger("linkguard", config.LOG_LEVEL);
keepLogUnder(config.LOG_MAX_BYTES);
const token = internalToken(config);
const db = await openDb(config.STATE_DIR, "linkguard", config.DATABASE_URL);
const ledger = await Ledger.open(db, { leaseMs: config.LINK_LEASE_SECONDS * 1000, overlapBytes: config.LINK_RESUME_OVERLAP_BYTES, machine: config.MACHINE_NAME });
const burner = new Burner(ledger, config.ARCHIVES_DIR, log);
const tailer = new LogTailer({ path: config.GUARD_LOG_FILE, nginxPidFile: config.NGINX_PID_FILE, maxBytes: config.LOG_MAX_BYTES }, ledger, log, (keys) => burner.burn(keys));
await tailer.poll(); // catch up on what nginx logged while the guard was down
tailer.start();

const sweeper = setInterval(() => void burner.sweep().catch((err) => log.error("sweep failed", { err })), 1000);
// A link past its expiry (and the clocks' skew) is refused by nginx before it asks: forget it.
const prune = () =>
  ledger
    .prune(Date.now() - config.CLOCK_SKEW_SECONDS * 1000, config.MAX_LINK_TTL_SECONDS * 1000)
    .then((n) => n > 0 && log.info("forgot expired links", { count: n }))
    .catch((err) => log.error("prune failed", { err }));
const pruner = setInterval(() => void prune(), config.SWEEP_INTERVAL_SECONDS * 1000);

const server = Bun.serve({
  hostname: config.GUARD_HOST,
  port: config.GUARD_PORT,
  fetch: guardHandler({
    ledger,
    archivesDir: config.ARCHIVES_DIR,
    internalToken: token,
    log,
    sendTimeoutS: config.LINK_SEND_TIMEOUT_SECONDS,
    metrics: createMetrics("linkguard"),
    healthy: async () => (await db.sql`SELECT 1 AS ok`).length === 1,
  }),
});
log.info("ready", { http: `${config.GUARD_HOST}:${server.port}`, log: config.GUARD_LOG_FILE });

onShutdown(log, [
  ["stop HTTP", () => server.stop()],
  ["stop timers", () => (clearInterval(sweeper), clearInterval(pruner))],
  ["stop reading the log", () => tailer.stop()],
  ["close the ledger", () => db.close()],
]);
