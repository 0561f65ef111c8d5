/**
 * @module benchstack
 * The linkpack stack the benchmark measures: the same `startStack` as
 * `bun run start`, on free ports with RUN_DIR `.bench/run`, allowed to fetch
 * from the corpus nginx. Its environment is saved beside it so that a bench
 * killed hard is cleaned up by the next run.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadConfig, type Config } from "../../servers/shared/config.ts";
import { startPart, startStack, stopStack } from "../lib/stack.ts";
import { stopProcess } from "../lib/procs.ts";
import { freePortsEnv, RAISED_LIMITS } from "../lib/ports.ts";

const envFile = (runDir: string) => `${runDir}/../run-env.json`;

/** A config on free ports under `runDir`, allowed to download from `allow` (host:port), with `extra` settings. */
export function benchConfig(runDir: string, allow: string, extra: Record<string, string> = {}): { config: Config; env: Record<string, string> } {
  // Every bench request comes from 127.0.0.1: the per-client limits are raised as for test stacks.
  const env: Record<string, string> = { ...RAISED_LIMITS, RUN_DIR: runDir, ALLOW_PRIVATE_URLS: allow, LOG_LEVEL: "info", ...freePortsEnv(), ...extra };
  return { config: loadConfig(env), env };
}

/** Stops a stack a previous bench left behind, then empties `runDir`. */
export async function cleanStale(runDir: string): Promise<void> {
  if (existsSync(envFile(runDir))) {
    const env = JSON.parse(readFileSync(envFile(runDir), "utf8")) as Record<string, string>;
    await stopStack(loadConfig(env)).catch(() => {});
    rmSync(envFile(runDir), { force: true });
  }
  rmSync(runDir, { recursive: true, force: true });
}

/** Starts the stack (recording its environment first). */
export async function startBenchStack(config: Config, env: Record<string, string>): Promise<void> {
  mkdirSync(config.RUN_DIR, { recursive: true });
  writeFileSync(envFile(config.RUN_DIR), JSON.stringify(env));
  await startStack(config);
}

/** Stops the stack and removes its state, keeping its logs in `.bench/logs` for a look afterwards. */
export async function stopBenchStack(config: Config): Promise<void> {
  await stopStack(config);
  const logs = `${config.RUN_DIR}/../logs`;
  rmSync(logs, { recursive: true, force: true });
  if (existsSync(`${config.RUN_DIR}/logs`)) cpSync(`${config.RUN_DIR}/logs`, logs, { recursive: true });
  rmSync(envFile(config.RUN_DIR), { force: true });
  rmSync(config.RUN_DIR, { recursive: true, force: true });
}

/**
 * Restarts the processes that publish progress (downloader, compressor) with
 * `PROGRESS_INTERVAL_MS = intervalMs`: a huge value leaves only each file's
 * final event (and the archive's first and last).
 */
export async function restartWithInterval(config: Config, intervalMs: number): Promise<void> {
  const c: Config = { ...config, PROGRESS_INTERVAL_MS: intervalMs };
  for (const part of ["downloader", "compressor"] as const) {
    await stopProcess(config.RUN_DIR, part);
    await startPart(c, part);
  }
}
