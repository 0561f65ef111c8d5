/**
 * @module stack
 * Starts and stops the system for one config: the private broker (unless
 * AMQP_URL), nginx and the servers — or only the parts this machine runs
 * (`--parts`, selection.ts) — each with its pid file and log, each waited
 * for with a real readiness check. Used by `bun run start`/`stop` and by the
 * test harness alike. With BROKER_NODES above 1 the private broker is a
 * local cluster (rabbitmq.ts): its nodes start together, then join.
 */
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { connect } from "node:net";
import { ROOT, type Config } from "../../servers/shared/config.ts";
import { brokerUrl } from "../../servers/shared/brokerauth.ts";
import { declareTopology, durableQueues, typeOfQueue } from "../../servers/shared/topology.ts";
import { connectFirst } from "../../servers/shared/broker.ts";
import { migrateQueues } from "../../servers/shared/queuemigration.ts";
import { ensureSecretFile, linkSecret, internalToken } from "../../servers/shared/secrets.ts";
import { childEnv, livePid, logFile, partProcesses, readNumber, recordPid, spawnDetached, stopProcess, tail } from "./procs.ts";
import { brokerNodes, brokerPaths, joinCluster, nodePart, nodePorts, partNode, lostQuorumQueues, prepareRabbit, rabbitEnv, rabbitServerCmd, removeGuest, stopEpmd } from "./rabbitmq.ts";
import { nginxCmd, renderNginx } from "./nginx.ts";
import { checkSelection, declaresTopology, type Part } from "./selection.ts";

export type { Part } from "./selection.ts";

/** Every server process, in the order they are started (all after the broker). */
export const SERVERS = ["linkguard", "compressor", "downloader", "clock", "web"] as const;

/** Parts this config runs on one machine (no `--parts`), in start order. */
export function parts(c: Config): Part[] {
  return [...(c.AMQP_URL ? [] : (["rabbitmq"] as const)), "nginx", ...SERVERS];
}

/** The config as environment variables, so children resolve exactly the same values. */
export function configEnv(c: Config, extra: Record<string, string | number> = {}): Record<string, string> {
  const env: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(c)) env[k] = Array.isArray(v) ? v.join(",") : (v as string | number);
  return childEnv({ ...env, ...extra });
}

export class PartFailed extends Error {
  override name = "PartFailed";
  constructor(readonly part: Part, reason: string, readonly log: string) {
    super(`${part} did not become healthy: ${reason}`);
  }
}

const tcpOpen = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host, port });
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });

async function httpOk(url: string, accept: (status: number) => boolean): Promise<boolean> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await r.arrayBuffer();
    return accept(r.status);
  } catch {
    return false;
  }
}

async function amqpOk(url: string): Promise<boolean> {
  try {
    const { conn } = await connectFirst(url);
    await conn.close();
    return true;
  } catch {
    return false;
  }
}

/** The readiness probe of each part (`name`: which broker node): true once it serves. */
function probe(c: Config, part: Part, name: string): () => Promise<boolean> {
  const h = (port: number) => `http://${c.HOST}:${port}/healthz`;
  switch (part) {
    case "rabbitmq": {
      const node = partNode(name);
      return async () => (await tcpOpen("127.0.0.1", nodePorts(c, node).stomp)) && (await amqpOk(brokerUrl(c, "admin").split(",")[node - 1]!));
    }
    case "nginx":
      return () => httpOk(`http://${c.HOST}:${c.NGINX_PORT}/`, (s) => s === 404);
    case "linkguard":
      return () => httpOk(`http://${c.GUARD_HOST}:${c.GUARD_PORT}/healthz`, (s) => s === 200);
    case "compressor":
      return () => httpOk(`http://${c.HOST}:${c.COMPRESSOR_PORT}/healthz`, (s) => s === 200);
    case "downloader":
      return () => httpOk(h(c.DOWNLOADER_PORT), (s) => s === 200);
    case "clock":
      return () => httpOk(h(c.CLOCK_PORT), (s) => s === 200);
    case "web":
      return () => httpOk(h(c.PORT), (s) => s === 200);
  }
}

function command(c: Config, part: Part, name: string): { cmd: string[]; env: Record<string, string> } {
  switch (part) {
    case "rabbitmq":
      return { cmd: rabbitServerCmd(), env: rabbitEnv(c, partNode(name)) };
    case "nginx":
      return { cmd: nginxCmd(c), env: configEnv(c) };
    default:
      return { cmd: [process.execPath, `${ROOT}/servers/${part}/index.ts`], env: configEnv(c) };
  }
}

/** A broker node's Erlang VM, as the node recorded it. */
const vmPid = (c: Config, name: string) => readNumber(brokerPaths(c, partNode(name)).pidFile);

/**
 * Starts `part` unless it runs, and waits until it is healthy (or `timeoutMs`).
 * `name` (default: the part) names its pid and log files, so a second
 * instance of a server (another downloader, say) can run beside the first.
 */
export async function startPart(c: Config, part: Part, timeoutMs = 60_000, name: string = part): Promise<"started" | "running"> {
  if (livePid(c.RUN_DIR, name) !== null) return "running";
  // Its process is gone but some of its group lives on (nginx workers whose master was killed): stop them first.
  if (partProcesses(c.RUN_DIR, name).group.length > 0) await stopProcess(c.RUN_DIR, name);
  const { cmd, env } = command(c, part, name);
  const pid = spawnDetached(c.RUN_DIR, { name, cmd, env, cwd: ROOT });
  const ready = probe(c, part, name);
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await ready()) {
      // The broker's process is the Erlang VM its wrapper script starts: record that one.
      if (part === "rabbitmq") recordPid(c.RUN_DIR, name, vmPid(c, name) ?? pid);
      return "started";
    }
    if (livePid(c.RUN_DIR, name) === null) throw new PartFailed(part, `exited (pid ${pid})`, tail(logFile(c.RUN_DIR, name)));
    await Bun.sleep(150);
  }
  throw new PartFailed(part, `not healthy after ${timeoutMs / 1000} s`, tail(logFile(c.RUN_DIR, name)));
}

/**
 * Prepares RUN_DIR, the secrets and the configs the parts `run` need. `mint`
 * (one machine, all parts): secrets are made on first start; otherwise they
 * were checked to exist (selection.ts) and are only read.
 */
function prepare(c: Config, run: Part[], mint: boolean): void {
  for (const d of ["pids", "logs"]) mkdirSync(`${c.RUN_DIR}/${d}`, { recursive: true });
  for (const d of [c.DOWNLOADS_DIR, c.STATE_DIR]) mkdirSync(d, { recursive: true, mode: 0o700 });
  const secrets = mint
    ? { linkSecret: ensureSecretFile(c.LINK_SECRET_FILE), internalToken: ensureSecretFile(c.INTERNAL_TOKEN_FILE) }
    : { linkSecret: linkSecret(c), internalToken: internalToken(c) };
  if (run.includes("rabbitmq")) prepareRabbit(c);
  if (run.includes("nginx")) renderNginx(c, secrets);
}

/**
 * Starts every node of the private broker at once (a cluster node waits at
 * boot for the peers it saw last, so one at a time could wait for ever),
 * then makes them one cluster. On failure stops the nodes this call started.
 */
export async function startBroker(c: Config): Promise<"started" | "running"> {
  const names = brokerNodes(c).map(nodePart);
  const results = await Promise.allSettled(names.map((name) => startPart(c, "rabbitmq", 90_000, name)));
  try {
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
    if (c.BROKER_NODES > 1) await joinCluster(c);
  } catch (err) {
    for (const [i, r] of results.entries()) if (r.status === "rejected" || r.value === "started") await stopProcess(c.RUN_DIR, names[i]!);
    if (results.every((r) => r.status === "rejected" || r.value === "started")) await stopEpmd(c);
    throw err;
  }
  return results.some((r) => r.status === "fulfilled" && r.value === "started") ? "started" : "running";
}

/** The private broker's nodes that have a pid file (also those of an earlier, larger BROKER_NODES), node 1 last. */
function nodesToStop(c: Config): string[] {
  let files: string[] = [];
  try {
    files = readdirSync(`${c.RUN_DIR}/pids`);
  } catch {
    /* no pids folder: nothing ran */
  }
  const others = files.map((f) => /^(rabbitmq-\d+)\.pid$/.exec(f)?.[1]).filter((n): n is string => !!n);
  return [...new Set([...brokerNodes(c).slice(1).map(nodePart), ...others])].sort((a, b) => partNode(b) - partNode(a)).concat("rabbitmq");
}

/**
 * Readies the broker for the servers, whose users may declare nothing: a
 * private node made before linkpack had users loses `guest`, then the admin
 * (on the first node that answers) declares the topology of QUEUE_TYPE
 * (idempotent) and moves what waits in retired queues into the current
 * ones (queuemigration.ts). `say` hears of each queue migrated.
 */
export async function setupBroker(c: Config, say: (s: string) => void = () => {}): Promise<void> {
  if (!c.AMQP_URL) await removeGuest(c);
  const { conn } = await connectFirst(brokerUrl(c, "admin"));
  try {
    const ch = await conn.createChannel();
    await declareTopology(ch, c.QUEUE_TYPE);
    // Our own single node: a quorum queue it lost the replica of (see lostQuorumQueues) is made again.
    if (!c.AMQP_URL && c.BROKER_NODES === 1) {
      const quorum = durableQueues(c.QUEUE_TYPE).map((q) => q.name).filter((n) => typeOfQueue(n) === "quorum");
      const lost = await lostQuorumQueues(c, quorum);
      for (const q of lost) {
        say(`  queue ${q} lost its replica when the broker was killed just after making it; making it again`);
        let timer: Timer | undefined;
        const stuck = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`could not delete queue ${q}, which lost its replica; delete it with "rabbitmqctl delete_queue ${q}" and start again`)), 30_000);
        });
        await Promise.race([ch.deleteQueue(q), stuck]).finally(() => clearTimeout(timer));
      }
      if (lost.length > 0) await declareTopology(ch, c.QUEUE_TYPE);
    }
    for (const n of await migrateQueues(conn, c.QUEUE_TYPE)) {
      const left = n.deleted ? "deleted" : `kept: ${n.consumers} consumer(s) still read it; the next start deletes it`;
      say(`  moved ${n.moved} waiting message(s) from queue ${n.from} to ${n.to} (${left})`);
    }
  } finally {
    await conn.close().catch(() => {});
  }
}

export interface StartResult {
  started: Part[];
  running: Part[];
}

/**
 * Starts every part that is not running — of `only` (`--parts`; checked
 * first, see selection.ts: a `SelectionError` creates nothing) or of all
 * parts. On failure stops what this call started and rethrows (a
 * `PartFailed` names the part and carries its log). The topology is
 * declared (as the admin) unless this machine joins with neither the broker
 * nor the admin's credentials: a web-only machine's user may declare
 * nothing, and the servers check that what they use exists.
 */
export async function startStack(c: Config, say: (s: string) => void = () => {}, only: Part[] | null = null): Promise<StartResult> {
  if (only) checkSelection(c, only);
  const run = only ?? parts(c);
  prepare(c, run, only === null);
  const usesBroker = run.some((p) => p !== "nginx" && p !== "linkguard");
  const declare = usesBroker && (only === null || declaresTopology(c, only));
  const res: StartResult = { started: [], running: [] };
  const note = (p: Part, r: "started" | "running") => {
    res[r].push(p);
    say(r === "started" ? `  ${p} started` : `  ${p} already running`);
  };
  try {
    if (run.includes("rabbitmq")) note("rabbitmq", await startBroker(c));
    if (declare) await setupBroker(c, say);
    if (run.includes("nginx")) note("nginx", await startPart(c, "nginx"));
    const servers = SERVERS.filter((p) => run.includes(p));
    const results = await Promise.allSettled(servers.map(async (p) => note(p, await startPart(c, p))));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  } catch (err) {
    for (const p of [...res.started].reverse()) for (const name of p === "rabbitmq" ? nodesToStop(c) : [p]) await stopProcess(c.RUN_DIR, name);
    if (res.started.includes("rabbitmq")) await stopEpmd(c);
    throw err;
  }
  return res;
}

/**
 * Stops every part this machine started (whatever has a pid file: servers
 * first, broker last, then its epmd if it ever ran one). Returns the parts
 * that were running.
 */
export async function stopStack(c: Config, say: (s: string) => void = () => {}): Promise<Part[]> {
  const stopped: Part[] = [];
  const stopOne = async (p: Part) => {
    if (await stopProcess(c.RUN_DIR, p)) {
      stopped.push(p);
      say(`  ${p} stopped`);
    }
  };
  await Promise.all(["web", "clock", "downloader"].map((p) => stopOne(p as Part)));
  await Promise.all(["compressor", "nginx", "linkguard"].map((p) => stopOne(p as Part)));
  if (!c.AMQP_URL) {
    // the other nodes first: node 1, stopped last, is the one that can boot alone next time
    for (const name of nodesToStop(c)) await stopOne(name as Part);
    // a machine that never ran the broker (--parts without it) has no epmd of its own
    if (stopped.includes("rabbitmq") || existsSync(brokerPaths(c).base)) {
      const epmd = await stopEpmd(c);
      if (epmd !== true) console.warn(epmd);
    }
  }
  return stopped;
}
