/**
 * @module procstats
 * Peak resident memory and CPU time of the stack's processes, from /proc:
 * `echo 5 > /proc/<pid>/clear_refs` resets the peak (VmHWM) before a corpus,
 * VmHWM is read after it; utime+stime give CPU seconds. A part counts with
 * its descendants (nginx's workers, the broker's beam.smp under its script):
 * peak is the largest process of the tree, CPU the sum over it.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { readPid } from "../lib/procs.ts";

/** The stack's processes measured: linkpack's own servers and nginx, then the broker. */
export const MEASURED = ["web", "downloader", "compressor", "linkguard", "clock", "nginx", "rabbitmq"] as const;
export type Measured = (typeof MEASURED)[number];

export interface ProcSample {
  /** largest VmHWM in the part's process tree, bytes */
  peakRss: number;
  /** user + system CPU of the tree, ms */
  cpuMs: number;
}
export type StackSample = Partial<Record<Measured, ProcSample>>;

const TICK_MS = 10; // USER_HZ is 100 on Linux

function statFields(pid: number): string[] | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    return s.slice(s.lastIndexOf(")") + 2).split(" "); // fields from 3 (state) on
  } catch {
    return null;
  }
}

/** `pid` and all its descendants alive now. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const ppid = Number(statFields(Number(d))?.[1]);
    if (ppid) children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
  }
  const out: number[] = [];
  const walk = (p: number) => (out.push(p), (children.get(p) ?? []).forEach(walk));
  walk(pid);
  return out;
}

function vmHwm(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function cpuMs(pid: number): number {
  const f = statFields(pid);
  return f ? (Number(f[11]) + Number(f[12])) * TICK_MS : 0; // utime, stime
}

/** Resets the peak RSS of every measured process (and descendants). */
export function resetPeaks(runDir: string): void {
  for (const part of MEASURED) {
    const pid = readPid(runDir, part);
    if (pid === null) continue;
    for (const p of processTree(pid)) {
      try {
        writeFileSync(`/proc/${p}/clear_refs`, "5");
      } catch {
        /* gone, or not ours */
      }
    }
  }
}

/** Peak RSS and cumulative CPU of every measured part now. */
export function sample(runDir: string): StackSample {
  const out: StackSample = {};
  for (const part of MEASURED) {
    const pid = readPid(runDir, part);
    if (pid === null) continue;
    const tree = processTree(pid);
    out[part] = { peakRss: Math.max(...tree.map(vmHwm)), cpuMs: tree.reduce((s, p) => s + cpuMs(p), 0) };
  }
  return out;
}

/** CPU ms each part used between two samples (a restarted part counts from zero). */
export function cpuBetween(before: StackSample, after: StackSample): Partial<Record<Measured, number>> {
  const out: Partial<Record<Measured, number>> = {};
  for (const part of MEASURED) {
    const a = after[part]?.cpuMs;
    if (a === undefined) continue;
    const b = before[part]?.cpuMs ?? 0;
    out[part] = a >= b ? a - b : a;
  }
  return out;
}
