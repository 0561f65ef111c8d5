/**
 * @module ports
 * Settings for a private stack on this machine, shared by the test harness
 * and the benchmark: every port on one that is free right now, and the
 * per-client limits raised (all their requests come from 127.0.0.1).
 */
import { PORT_KEYS } from "../../servers/shared/config.ts";

/** A port nothing listens on right now. */
export const freePort = (): number => freePorts(1)[0]!;

/**
 * `n` different ports free right now: all held open until each is known (a
 * port just closed may be handed out again at once, and two parts of one
 * stack on one port is a stack that does not start).
 */
export function freePorts(n: number): number[] {
  const held = Array.from({ length: n }, () => Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } }));
  const ports = held.map((s) => s.port);
  for (const s of held) s.stop(true);
  return ports;
}

/** Every port setting (PORT_KEYS) on a port of its own that is free right now. */
export function freePortsEnv(): Record<string, string> {
  const ports = freePorts(PORT_KEYS.length);
  return Object.fromEntries(PORT_KEYS.map((k, i) => [k, String(ports[i])]));
}

/**
 * Every test and bench request comes from 127.0.0.1, so the per-client and
 * per-process limits of a public instance (config.ts defaults) would soon
 * refuse their own work: their stacks raise them. A caller's own settings
 * override these, to test the limits themselves.
 */
export const RAISED_LIMITS: Record<string, string> = {
  MAX_JOBS_PER_MINUTE: "1000000",
  MAX_ACTIVE_JOBS: "1000000",
  MAX_EVENT_STREAMS_PER_CLIENT: "100000",
  MAX_EVENT_STREAMS: "100000",
  MAX_QUEUED_FILES: "1000000",
  // a test machine's disk may be fuller than a server's (the rule's own test sets it)
  MIN_FREE_DISK_BYTES: "0",
  // retries as in production, without the production waits
  DOWNLOAD_RETRY_BASE_MS: "20",
};

const isFree = (port: number) => {
  try {
    Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } }).stop(true);
    return true;
  } catch {
    return false;
  }
};

/** A port p such that p..p+n-1 are all free right now and none is in `taken` (a private cluster's nodes count ports up). */
export function freePortRun(n: number, taken: ReadonlySet<number> = new Set()): number {
  for (;;) {
    const p = freePort();
    const run = Array.from({ length: n }, (_, i) => p + i);
    if (p + n - 1 <= 65535 && run.every((q) => !taken.has(q)) && run.slice(1).every(isFree)) return p;
  }
}

/** freePortsEnv, with room for an `n`-node private broker: each BROKER_*_PORT starts a run of n free ports, none shared. */
export function freePortsEnvForNodes(n: number): Record<string, string> {
  const env = freePortsEnv();
  const taken = new Set(Object.values(env).map(Number));
  for (const k of ["BROKER_PORT", "BROKER_STOMP_PORT", "BROKER_DIST_PORT"]) {
    const p = freePortRun(n, taken);
    env[k] = String(p);
    for (let i = 0; i < n; i++) taken.add(p + i);
  }
  return { ...env, BROKER_NODES: String(n) };
}
