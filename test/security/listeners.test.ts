/**
 * Every socket the stack listens on (broker AMQP, Web-STOMP, Erlang
 * distribution, epmd, nginx, the internal servers) is bound to loopback.
 */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { PORT_KEYS } from "../../servers/shared/config.ts";
import { readPid } from "../../scripts/lib/procs.ts";
import { parts } from "../../scripts/lib/stack.ts";
import { useStack } from "../stack.ts";

/** Field `i` of /proc/<pid>/stat, counted from the state (the command name may hold spaces). */
function statField(pid: number | string, i: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[i]);
}
const sessionOf = (pid: number | string) => statField(pid, 3);

/**
 * pids in the sessions `start` created: each part is spawned in a session of
 * its own (its recorded pid may be a child there, as the broker's Erlang VM is).
 */
function stackPids(sessions: Set<number>): Set<number> {
  const out = new Set<number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (sessions.has(sessionOf(d))) out.add(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

test("the stack listens on 127.0.0.1 / ::1 only", async () => {
  const { config } = await useStack();
  const pids = stackPids(new Set(parts(config).map((p) => sessionOf(readPid(config.RUN_DIR, p)!))));
  expect(pids.size).toBeGreaterThanOrEqual(parts(config).length);
  const ss = Bun.spawnSync(["ss", "-H", "-ltunp"]).stdout.toString();
  const mine = ss.split("\n").filter((l) => [...l.matchAll(/pid=(\d+)/g)].some((m) => pids.has(Number(m[1]))));
  // epmd daemonizes into its own session: find it by its port.
  const epmd = ss.split("\n").filter((l) => l.includes(`:${config.BROKER_EPMD_PORT} `));
  // Nothing of linkpack listens on UDP; unconnected UDP sockets (the DNS
  // resolver's client sockets, bound to an ephemeral port) are not listeners.
  const isListener = (l: string) => l.startsWith("tcp");
  const lines = [...mine, ...epmd].filter(isListener);
  const ports = new Set(lines.map((l) => Number(/\s(\S+):(\d+)\s/.exec(l)![2])));
  for (const p of PORT_KEYS.map((k) => config[k] as number))
    expect(ports.has(p), `something listens on ${p}`).toBe(true);
  for (const l of lines) {
    const local = l.trim().split(/\s+/)[4]!;
    expect(local, l).toMatch(/^(127\.0\.0\.1|\[::1\]|\[::ffff:127\.0\.0\.1\]):\d+$/);
  }
}, 60_000);
