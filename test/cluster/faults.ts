/**
 * @module faults
 * The faults the cluster test makes while jobs go in, each started by the
 * sign that it will land mid-way (not by a timer): a broker node's VM killed
 * with -9 (and relaunched once the others saw it go), a web process killed
 * with -9 (and started again, as `bun run start` would), a compressor killed
 * with -9 while it has a partial archive open, a downloader host cut off the
 * network while the file host is sending to it (and put back once the broker
 * dropped its connection, so its deliveries went to the other downloader).
 */
import { hostConfig, ip, kill9, startParts, type HostName, type Shared } from "./hosts.ts";
import { awaitStartup, ctl, launch, vmPid, type RabbitNode } from "./rabbitcluster.ts";
import { fileHostActive, hasOpenUnder } from "./observe.ts";
import type { Net } from "./netns.ts";
import { isAlive, readPid } from "../../scripts/lib/procs.ts";
import { until } from "../support/wait.ts";

export interface FaultLog {
  /** what happened, with the seconds since the run started */
  events: string[];
  note(s: string): void;
}

export function faultLog(t0: number, say: (s: string) => void): FaultLog {
  const events: string[] = [];
  return {
    events,
    note: (s) => {
      const line = `[${((Date.now() - t0) / 1000).toFixed(1)} s] ${s}`;
      events.push(line);
      say(`  ${line}`);
    },
  };
}

const MINUTE = 60_000;

/** kill -9 of node `victim`'s VM; waits until `witness` sees it down, relaunches it, waits until it is back in the cluster. Returns when it was killed (epoch ms). */
export async function killBrokerNode(net: Net, victim: RabbitNode, witness: RabbitNode, log: FaultLog): Promise<number> {
  const pid = await vmPid(victim);
  process.kill(pid, "SIGKILL");
  const killedAt = Date.now();
  log.note(`kill -9 broker node ${victim.name} (VM pid ${pid})`);
  const running = async () => {
    const out = await ctl(net, witness, ["cluster_status", "--formatter", "json"]).catch(() => "{}");
    return (JSON.parse(out.slice(out.indexOf("{"))).running_nodes ?? []) as string[];
  };
  await until(`${witness.name} to see ${victim.name} down`, async () => !(await running()).includes(victim.name), MINUTE);
  log.note(`${witness.name} sees ${victim.name} down`);
  launch(net, victim);
  await awaitStartup(net, victim);
  await until(`${victim.name} back in the cluster`, async () => (await running()).includes(victim.name), 2 * MINUTE);
  log.note(`${victim.name} relaunched and back in the cluster`);
  return killedAt;
}

/** kill -9 of host `h`'s web process, then starts it again once `failedOver` says a post went to the other web server. */
export async function killWeb(net: Net, s: Shared, h: HostName, failedOver: () => boolean, log: FaultLog): Promise<void> {
  const pid = await kill9(s, h, "web");
  log.note(`kill -9 web on ${h} (pid ${pid})`);
  await until("a job post to fail over to the other web server", failedOver, 2 * MINUTE);
  await startParts(net, s, h, ["web"]);
  log.note(`web on ${h} started again`);
}

/** Waits until one of the compressors has a partial archive open, kills it with -9, starts it again. Returns the host. */
export async function killCompressorMidArchive(net: Net, s: Shared, hosts: HostName[], log: FaultLog, ms = 5 * MINUTE): Promise<HostName> {
  const partial = `${s.archives}/.partial/`;
  const [h, pid] = await until(
    "a compressor to be writing an archive",
    () => {
      for (const h of hosts) {
        const pid = readPid(hostConfig(s, h).RUN_DIR, "compressor");
        if (pid !== null && hasOpenUnder(pid, partial)) return [h, pid] as const;
      }
      return null;
    },
    ms,
  );
  process.kill(pid, "SIGKILL");
  await until(`compressor on ${h} to be gone after kill -9`, () => !isAlive(pid), 10_000);
  log.note(`kill -9 compressor on ${h} (pid ${pid}) while it wrote an archive`);
  await startParts(net, s, h, ["compressor"]);
  log.note(`compressor on ${h} started again`);
  return h;
}

/**
 * Waits until the file host is sending to downloader host `h`, cuts it off,
 * waits until the broker no longer lists a connection from it (its
 * unacknowledged deliveries went back to the queue), and puts it back.
 */
export async function cutDownloader(net: Net, h: HostName, nodes: RabbitNode[], log: FaultLog): Promise<void> {
  const addr = ip(h);
  // Each node lists the connections it holds itself; peer_host comes as [10,213,77,41]. A node that is down lists none.
  const fromHost = async () => {
    let n = 0;
    for (const node of nodes) {
      const out = await ctl(net, node, ["list_connections", "peer_host", "--formatter", "json"], 10).catch(() => "[]");
      const rows = JSON.parse(out.slice(out.indexOf("["))) as { peer_host: string | number[] }[];
      n += rows.filter((c) => (Array.isArray(c.peer_host) ? c.peer_host.join(".") : c.peer_host) === addr).length;
    }
    return n;
  };
  const before = await fromHost();
  if (before === 0) throw new Error(`the broker lists no connection from ${h} before the cut`);
  await until(`the file host to be sending to ${h}`, async () => ((await fileHostActive().catch(() => ({}) as Record<string, number>))[addr] ?? 0) > 0, 5 * MINUTE);
  net.cut(h);
  log.note(`${h} cut off the network mid-download (${before} broker connection(s) from it)`);
  await until(`the broker to drop ${h}'s connection`, async () => (await fromHost()) === 0, 2 * MINUTE);
  log.note(`the broker dropped ${h}'s connection`);
  net.restore(h);
  log.note(`${h} back on the network`);
}
