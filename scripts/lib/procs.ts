/**
 * @module procs
 * Pid files, liveness (a zombie counts as dead), detached spawning with a log
 * file, and graceful stop (SIGTERM, wait, then SIGKILL). Each part runs in a
 * process group of its own, recorded beside its pid: `RUN_DIR/pids/<name>.pid`
 * names the process that does the work (for the broker, the Erlang VM, not
 * its shell wrapper), `<name>.pgid` the group everything it spawned is in,
 * so whatever was killed by hand, what is left of a part (nginx workers
 * whose master died, a broker VM whose wrapper died) is found and stopped.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, closeSync } from "node:fs";
import { ENVIRONMENT } from "../../servers/shared/config.ts";

export const pidFile = (runDir: string, name: string) => `${runDir}/pids/${name}.pid`;
const groupFile = (runDir: string, name: string) => `${runDir}/pids/${name}.pgid`;
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

/** The pid (or group id) a file holds, or null if it holds none. */
export function readNumber(path: string): number | null {
  try {
    const n = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** The pid recorded for `name`, or null if there is none. */
export const readPid = (runDir: string, name: string) => readNumber(pidFile(runDir, name));

/** Records `pid` as the process of part `name` (the one that holds its port). */
export function recordPid(runDir: string, name: string, pid: number): void {
  writeFileSync(pidFile(runDir, name), `${pid}\n`);
}

/** Every live process: its pid, parent and group (from /proc; zombies left out). */
function processTable(): { pid: number; ppid: number; pgrp: number }[] {
  const out: { pid: number; ppid: number; pgrp: number }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid pgrp ...: comm may hold spaces or parentheses, so read after the last ")"
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (state !== "Z") out.push({ pid: Number(entry), ppid: Number(ppid), pgrp: Number(pgrp) });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** Live (not zombie) processes of process group `pgid`, from /proc. */
export function groupMembers(pgid: number): number[] {
  return processTable().filter((p) => p.pgrp === pgid).map((p) => p.pid);
}

/** The live children of `pid`, their children, and so on. */
export function descendants(pid: number): number[] {
  const table = processTable();
  const out: number[] = [];
  for (let frontier = [pid]; frontier.length > 0; ) {
    const next = table.filter((p) => frontier.includes(p.ppid)).map((p) => p.pid);
    out.push(...next);
    frontier = next;
  }
  return out;
}

/** What is left of part `name`: its recorded process if alive, and the live members of its group. */
export function partProcesses(runDir: string, name: string): { pid: number | null; group: number[] } {
  const pid = readPid(runDir, name);
  const pgid = readNumber(groupFile(runDir, name));
  return { pid: pid !== null && isAlive(pid) ? pid : null, group: pgid === null ? [] : groupMembers(pgid) };
}

/** The live pid recorded for `name`, or null (then its pid file is removed, but not what may be left of its group). */
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
  writeFileSync(groupFile(runDir, spec.name), `${child.pid}\n`); // detached: the child leads a new group
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

/**
 * Stops part `name`: SIGTERM to its process (or, if that is gone, to what is
 * left of its group), waits up to `graceMs`, then SIGKILL to the whole group;
 * then waits for the children it had (up to 3 s each, then SIGKILL).
 * Removes the pid files. Returns whether anything of it was running.
 */
export async function stopProcess(runDir: string, name: string, graceMs = 15_000): Promise<boolean> {
  const { pid, group } = partProcesses(runDir, name);
  const pgid = readNumber(groupFile(runDir, name));
  const running = pid !== null || group.length > 0;
  // Its children outside its group (the broker VM's helper processes) end after it, on their own: waited for below.
  const children = pid !== null ? descendants(pid) : [];
  if (running) {
    if (pid !== null) signal(pid, "SIGTERM");
    else for (const m of group) signal(m, "SIGTERM");
    const end = Date.now() + graceMs;
    while (Date.now() < end && ((pid !== null && isAlive(pid)) || (pgid !== null && groupMembers(pgid).length > 0))) await Bun.sleep(50);
    if (pgid !== null) signal(-pgid, "SIGKILL");
    if (pid !== null) signal(pid, "SIGKILL");
    if (pid !== null) await waitGone(pid, 3000);
    for (let i = 0; i < 60 && pgid !== null && groupMembers(pgid).length > 0; i++) await Bun.sleep(50);
    for (const c of children) if (!(await waitGone(c, 3000))) signal(c, "SIGKILL"), await waitGone(c, 3000);
  }
  rmSync(pidFile(runDir, name), { force: true });
  rmSync(groupFile(runDir, name), { force: true });
  return running;
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
