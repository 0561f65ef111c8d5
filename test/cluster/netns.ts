/**
 * @module netns
 * Hosts for the cluster test: Linux network namespaces on one private bridge,
 * each with its own address in one /24, its loopback up, and nothing routed
 * out (no default route: a host reaches only the bridge's subnet). Processes
 * are spawned inside with `ip netns exec` and tracked; `cut`/`restore` take a
 * host's cable out and put it back. `teardown` kills every process in every
 * namespace (`ip netns pids`, so also what those processes spawned: epmd,
 * nginx workers, postgres backends), deletes the namespaces, the veths and
 * the bridge; `sweepLeftovers` does the same for a run that crashed before.
 * Namespaces share the filesystem and the host name, not the network.
 */
import { mkdirSync, openSync, closeSync } from "node:fs";
import { spawn, spawnSync } from "node:child_process";

/** Every name this harness makes starts with it (namespaces, veths, bridge). */
export const PREFIX = "lpc";
export const BRIDGE = `${PREFIX}br0`;
/** A private /24 nothing else on the machine uses (checked by `assertSubnetFree`). */
export const SUBNET = "10.213.77";
export const GATEWAY = `${SUBNET}.1`;

export interface Host {
  name: string;
  /** the namespace's name */
  ns: string;
  /** host-side end of its cable (on the bridge) */
  veth: string;
  ip: string;
}

export interface Spawned {
  host: string;
  name: string;
  pid: number;
  exited: Promise<number | null>;
}

/** Runs `ip ARGS…` (or any command) and returns its output; throws with stderr when it fails unless `ok` says the failure is fine. */
export function sh(cmd: string[], o: { ok?: (stderr: string) => boolean } = {}): string {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: "utf8" });
  if (r.status !== 0 && !o.ok?.(r.stderr ?? "")) throw new Error(`${cmd.join(" ")} failed (${r.status}): ${r.stderr || r.stdout}`);
  return r.stdout ?? "";
}

/** Fails if any interface or route of the machine already touches SUBNET. */
export function assertSubnetFree(): void {
  const used = sh(["ip", "-o", "addr"]) + sh(["ip", "route"]);
  const mine = used.split("\n").filter((l) => l.includes(`${SUBNET}.`) && !l.includes(BRIDGE));
  if (mine.length > 0) throw new Error(`subnet ${SUBNET}.0/24 is already in use here:\n${mine.join("\n")}`);
}

const nsList = () =>
  sh(["ip", "netns", "list"])
    .split("\n")
    .map((l) => l.split(" ")[0]!)
    .filter((n) => n.startsWith(`${PREFIX}-`));

/** Kills every process inside namespace `ns` (SIGKILL; whatever they spawned lives there too). */
export function killAllIn(ns: string): number {
  const pids = sh(["ip", "netns", "pids", ns], { ok: () => true })
    .split("\n")
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  return pids.length;
}

/** Removes what a previous (crashed) run of this harness left: its namespaces with their processes, veths and bridge. */
export function sweepLeftovers(): string[] {
  const removed: string[] = [];
  for (const ns of nsList()) {
    killAllIn(ns);
    sh(["ip", "netns", "del", ns], { ok: () => true });
    removed.push(ns);
  }
  const links = sh(["ip", "-o", "link"])
    .split("\n")
    .map((l) => l.split(": ")[1]?.split("@")[0])
    .filter((n): n is string => !!n && n.startsWith(PREFIX));
  for (const l of links) {
    sh(["ip", "link", "del", l], { ok: () => true });
    removed.push(l);
  }
  return removed;
}

export class Net {
  readonly hosts = new Map<string, Host>();
  private readonly procs: Spawned[] = [];
  private bridgeUp = false;

  constructor(private readonly logDir: string) {}

  /** Creates the bridge (the test's own end of it gets GATEWAY). */
  up(): void {
    assertSubnetFree();
    sh(["ip", "link", "add", BRIDGE, "type", "bridge"]);
    this.bridgeUp = true;
    sh(["ip", "addr", "add", `${GATEWAY}/24`, "dev", BRIDGE]);
    sh(["ip", "link", "set", BRIDGE, "up"]);
  }

  /** Adds host `name` with address SUBNET.`n`: a namespace, a veth pair on the bridge, loopback up. */
  add(name: string, n: number): Host {
    const h: Host = { name, ns: `${PREFIX}-${name}`, veth: `${PREFIX}-${name}`, ip: `${SUBNET}.${n}` };
    if (h.veth.length > 15) throw new Error(`host name ${name} too long for an interface name`);
    sh(["ip", "netns", "add", h.ns]);
    this.hosts.set(name, h);
    sh(["ip", "link", "add", h.veth, "type", "veth", "peer", "name", `${h.veth}i`]);
    sh(["ip", "link", "set", `${h.veth}i`, "netns", h.ns]);
    sh(["ip", "link", "set", h.veth, "master", BRIDGE]);
    sh(["ip", "link", "set", h.veth, "up"]);
    sh(["ip", "-n", h.ns, "link", "set", `${h.veth}i`, "name", "eth0"]);
    sh(["ip", "-n", h.ns, "addr", "add", `${h.ip}/24`, "dev", "eth0"]);
    sh(["ip", "-n", h.ns, "link", "set", "eth0", "up"]);
    sh(["ip", "-n", h.ns, "link", "set", "lo", "up"]);
    return h;
  }

  host(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  /**
   * Starts `cmd` inside host `host`, output appended to `<logDir>/<host>/<name>.log`
   * (or `log`), in a process group of its own; tracked for teardown.
   */
  run(host: string, name: string, cmd: string[], env: Record<string, string>, o: { cwd?: string; log?: string } = {}): Spawned {
    const h = this.host(host);
    const log = o.log ?? `${this.logDir}/${host}/${name}.log`;
    mkdirSync(log.slice(0, log.lastIndexOf("/")), { recursive: true });
    const fd = openSync(log, "a");
    const child = spawn("ip", ["netns", "exec", h.ns, ...cmd], { env, cwd: o.cwd, detached: true, stdio: ["ignore", fd, fd] });
    closeSync(fd);
    if (!child.pid) throw new Error(`could not start ${name} on ${host}`);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.unref();
    const s = { host, name, pid: child.pid, exited };
    this.procs.push(s);
    return s;
  }

  /** Runs `cmd` inside host `host` to its end; returns its output (throws on failure). */
  exec(host: string, cmd: string[], env?: Record<string, string>): { code: number; out: string } {
    const r = spawnSync("ip", ["netns", "exec", this.host(host).ns, ...cmd], { encoding: "utf8", env });
    return { code: r.status ?? -1, out: (r.stdout ?? "") + (r.stderr ?? "") };
  }

  /** Async `exec`, for long commands the test must not block on (rabbitmqctl takes seconds). */
  async execAsync(host: string, cmd: string[], env?: Record<string, string>, cwd?: string): Promise<{ code: number; out: string }> {
    const p = Bun.spawn(["ip", "netns", "exec", this.host(host).ns, ...cmd], { env, cwd, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { code, out: out + err };
  }

  /** Takes host `host` off the network: its cable's bridge end goes down (connections stall, nothing is reset). */
  cut(host: string): void {
    sh(["ip", "link", "set", this.host(host).veth, "down"]);
  }

  /** Puts host `host` back on the network. */
  restore(host: string): void {
    sh(["ip", "link", "set", this.host(host).veth, "up"]);
  }

  /** Routes of any host that lead anywhere but the bridge's subnet (none: its traffic cannot leave the hosts the test made). */
  routesOut(): string[] {
    const out: string[] = [];
    for (const h of this.hosts.values())
      for (const r of sh(["ip", "-n", h.ns, "route", "show", "table", "all"]).split("\n").filter(Boolean))
        if (!r.startsWith(`${SUBNET}.0/24 `) && !/ dev lo /.test(` ${r} `) && !/^(local|broadcast|multicast|fe80::|ff00::)/.test(r)) out.push(`${h.name}: ${r}`);
    return out;
  }

  /** Every process started here that is still running, by name. */
  get spawned(): readonly Spawned[] {
    return this.procs;
  }

  /**
   * Kills every process in every namespace of this net, deletes the
   * namespaces, veths and the bridge. Runs every step even if one fails;
   * returns the errors.
   */
  teardown(): string[] {
    const errors: string[] = [];
    const attempt = (f: () => void) => {
      try {
        f();
      } catch (err) {
        errors.push(String(err));
      }
    };
    for (const p of this.procs) attempt(() => process.kill(-p.pid, "SIGKILL"));
    for (const h of this.hosts.values()) attempt(() => void killAllIn(h.ns));
    for (const h of this.hosts.values()) attempt(() => void sh(["ip", "netns", "del", h.ns]));
    for (const h of this.hosts.values()) attempt(() => void sh(["ip", "link", "del", h.veth], { ok: (e) => /Cannot find device/.test(e) }));
    if (this.bridgeUp) attempt(() => void sh(["ip", "link", "del", BRIDGE]));
    this.hosts.clear();
    this.bridgeUp = false;
    return errors.filter((e) => !/ESRCH/.test(e));
  }
}
