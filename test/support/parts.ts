/**
 * @module parts
 * Faults and extra processes on a test stack, by the same code as `bun run
 * start` and `stop` (scripts/lib): kill a part with -9, stop it, start it
 * again, run a second downloader beside the first, restart the broker under
 * the running servers.
 */
import { loadConfig, type Config } from "../../servers/shared/config.ts";
import { isAlive, logFile, partProcesses, readPid, stopProcess } from "../../scripts/lib/procs.ts";
import { rabbitmqctl } from "../../scripts/lib/rabbitmq.ts";
import { freePort } from "../../scripts/lib/ports.ts";
import { startPart, type Part } from "../../scripts/lib/stack.ts";
import { followLog } from "./events.ts";
import { until } from "./wait.ts";

/** SIGKILLs a part's process and waits until it is gone; with `group`, every process of its group too (nginx's master and workers). */
export async function kill9(config: Config, name: string, o: { group?: boolean } = {}): Promise<void> {
  const pid = readPid(config.RUN_DIR, name);
  if (pid === null || !isAlive(pid)) throw new Error(`${name} is not running`);
  const victims = o.group ? [...new Set([pid, ...partProcesses(config.RUN_DIR, name).group])] : [pid];
  for (const p of victims) process.kill(p, "SIGKILL");
  await until(`${name} to be gone after kill -9`, () => victims.every((p) => !isAlive(p)), 5000);
}

/** Starts a part again the way `bun run start` does (only if it is not running), and waits until it is healthy. */
export const restart = (config: Config, part: Part) => startPart(config, part, 90_000);

/** Stops a part gracefully (SIGTERM; it drains) and waits until it is gone. */
export const stop = (config: Config, name: string) => stopProcess(config.RUN_DIR, name);

/** Stops a part gracefully and starts it again. */
export async function gracefulRestart(config: Config, part: Part): Promise<void> {
  await stop(config, part);
  await restart(config, part);
}

/** A second downloader on the stack's queue, under its own name (its pid and log files), with its own health port. */
export async function extraDownloader(env: Record<string, string>, name: string) {
  const config = loadConfig({ ...env, DOWNLOADER_PORT: String(freePort()) });
  await startPart(config, "downloader", 90_000, name);
  return {
    name,
    /** its log so far */
    log: () => Bun.file(logFile(config.RUN_DIR, name)).text(),
    /** SIGTERM (it drains), waits until it is gone */
    stop: () => stopProcess(config.RUN_DIR, name),
  };
}

/** The servers that hold a broker connection, and what each logs when it loses it. */
const BROKER_CLIENTS: [part: string, words: string][] = [
  ["web", "broker disconnected"],
  ["web", "stomp connection lost"],
  ["downloader", "broker disconnected"],
  ["compressor", "broker disconnected"],
  ["clock", "broker disconnected"],
];

/** Stops the broker's application, waits until every server has noticed (its log says so), then starts it again. */
export async function restartBroker(config: Config): Promise<void> {
  const logs = BROKER_CLIENTS.map(([part, words]) => [followLog(config, part), words] as const);
  await rabbitmqctl(config, ["stop_app"]);
  try {
    await Promise.all(logs.map(([log, words]) => log.next([words])));
  } finally {
    await rabbitmqctl(config, ["start_app"]);
  }
}
