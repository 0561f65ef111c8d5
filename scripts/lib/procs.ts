/**
 * @module procs
 * Pid files, liveness (a zombie counts as dead), detached spawning with a log
 * file, and graceful stop (SIGTERM, wait, then SIGKILL).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from "node:fs";
import { ENVIRONMENT } from "../../servers/shared/config.ts";

export const pidFile = (runDir: string, name: string) => `${runDir}/pids/${name}.pid`;
export const logFile = (runDir: string, name: string) => `${runDir}/logs/${name}.log`;

/** True if `pid` exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return !/^State:\s+Z/m.test(status);
  } catch {
    return false;
  }
}

/** The pid recorded for `name`, or null if there is none. */
export function readPid(runDir: string, name: string): number | null {
  try {
    const n = Number(readFileSync(pidFile(runDir, name), "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** The live pid recorded for `name`; a stale pid file is removed. */
export function livePid(runDir: string, name: string): number | null {
  const pid = readPid(runDir, name);
  if (pid !== null && isAlive(pid)) return pid;
  rmSync(pidFile(runDir, name), { force: true });
  return null;
}

/** The environment for a child process: this process's own plus `overrides`. */
export function childEnv(overrides: Record<string, string | number | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = { ...ENVIRONMENT };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) env[k] = String(v);
  return env;
}

export interface SpawnSpec {
  name: string;
  cmd: string[];
  env: Record<string, string>;
  cwd?: string;
}

/** Starts `cmd` in its own session, output appended to its log, pid written to its pid file. */
export function spawnDetached(runDir: string, spec: SpawnSpec): number {
  mkdirSync(`${runDir}/pids`, { recursive: true });
  mkdirSync(`${runDir}/logs`, { recursive: true });
  const fd = openSync(logFile(runDir, spec.name), "a");
  const child = spawn(spec.cmd[0]!, spec.cmd.slice(1), {
    cwd: spec.cwd,
    env: spec.env,
    detached: true,
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  if (!child.pid) throw new Error(`could not start ${spec.name}: ${spec.cmd.join(" ")}`);
  child.unref();
  writeFileSync(pidFile(runDir, spec.name), `${child.pid}\n`);
  return child.pid;
}

/** Waits until `pid` is gone or `ms` passed; true if it is gone. */
export async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!isAlive(pid)) return true;
    await Bun.sleep(50);
  }
  return !isAlive(pid);
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL (the whole process group too). Removes the pid file. */
export async function stopProcess(runDir: string, name: string, graceMs = 15_000): Promise<boolean> {
  const pid = readPid(runDir, name);
  let stopped = false;
  if (pid !== null && isAlive(pid)) {
    signal(pid, "SIGTERM");
    if (!(await waitGone(pid, graceMs))) {
      signal(-pid, "SIGKILL");
      signal(pid, "SIGKILL");
      await waitGone(pid, 3000);
    }
    stopped = true;
  }
  rmSync(pidFile(runDir, name), { force: true });
  return stopped;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/** The last `lines` lines of a log file, for error messages. */
export function tail(path: string, lines = 20): string {
  if (!existsSync(path)) return "(no log)";
  const text = readFileSync(path, "utf8");
  return text.split("\n").slice(-lines - 1).join("\n");
}
