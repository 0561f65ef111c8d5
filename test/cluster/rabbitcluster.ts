/**
 * @module rabbitcluster
 * A RabbitMQ cluster of several nodes, each in a host (namespace) of its own,
 * on the default ports of its own address (AMQP 5672, Web-STOMP 15674,
 * distribution 25672, epmd 4369: one epmd per namespace). Node names are
 * long names on the address (`rabbit@10.213.77.11`, RABBITMQ_USE_LONGNAME),
 * so they resolve without DNS; every node has the same Erlang cookie. Users,
 * permissions and policies come from the same definitions file
 * `bun run start` gives its private node (scripts/lib/rabbitmq.ts); nodes
 * 2… join node 1 with `join_cluster` (deterministic, unlike peer discovery
 * racing at a first boot).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import type { Config } from "../../servers/shared/config.ts";
import { brokerDefinitions, RABBIT_BIN } from "../../scripts/lib/rabbitmq.ts";
import { childEnv } from "../../scripts/lib/procs.ts";
import type { Net } from "./netns.ts";
import { until } from "../support/wait.ts";

export const AMQP_PORT = 5672;
export const STOMP_PORT = 15674;

export interface RabbitNode {
  host: string;
  ip: string;
  name: string;
  dir: string;
}

export function nodeEnv(n: RabbitNode): Record<string, string> {
  return childEnv({
    PATH: `${RABBIT_BIN}:${childEnv().PATH ?? "/usr/bin:/bin"}`,
    HOME: `${n.dir}/home`,
    RABBITMQ_NODENAME: n.name,
    RABBITMQ_USE_LONGNAME: "true",
    RABBITMQ_NODE_IP_ADDRESS: n.ip,
    RABBITMQ_NODE_PORT: AMQP_PORT,
    RABBITMQ_DIST_PORT: 25672,
    ERL_EPMD_PORT: 4369,
    RABBITMQ_MNESIA_BASE: `${n.dir}/mnesia`,
    RABBITMQ_LOG_BASE: `${n.dir}/log`,
    RABBITMQ_CONFIG_FILE: `${n.dir}/rabbitmq.conf`,
    RABBITMQ_ENABLED_PLUGINS_FILE: `${n.dir}/enabled_plugins`,
    RABBITMQ_CONF_ENV_FILE: `${n.dir}/rabbitmq-env.conf`,
    RABBITMQ_ADVANCED_CONFIG_FILE: `${n.dir}/advanced.config`,
    RABBITMQ_PID_FILE: `${n.dir}/rabbit.pid`,
  });
}

/** `rabbitmqctl -n NODE ARGS…`, run in the node's own host. */
export async function ctl(net: Net, n: RabbitNode, args: string[], timeoutS = 60): Promise<string> {
  const r = await net.execAsync(n.host, [`${RABBIT_BIN}/rabbitmqctl`, "-n", n.name, "-t", String(timeoutS), ...args], nodeEnv(n));
  if (r.code !== 0) throw new Error(`rabbitmqctl ${args.join(" ")} on ${n.name} failed (${r.code}): ${r.out.trim()}`);
  return r.out;
}

/** Writes a node's folders, config, plugins and the cluster's cookie. */
function prepareNode(n: RabbitNode, cookie: string, definitions: string): void {
  for (const d of ["home", "mnesia", "log"]) mkdirSync(`${n.dir}/${d}`, { recursive: true, mode: 0o700 });
  writeFileSync(`${n.dir}/home/.erlang.cookie`, cookie, { mode: 0o400 });
  writeFileSync(
    `${n.dir}/rabbitmq.conf`,
    [
      `listeners.tcp.1 = ${n.ip}:${AMQP_PORT}`,
      `stomp.listeners.tcp = none`,
      `web_stomp.tcp.ip = ${n.ip}`,
      `web_stomp.tcp.port = ${STOMP_PORT}`,
      `log.console = false`,
      `log.file.level = info`,
      `definitions.import_backend = local_filesystem`,
      `definitions.local.path = ${definitions}`,
      // a killed node is noticed within seconds, not the default minute
      `net_ticktime = 10`,
      ``,
    ].join("\n"),
  );
  writeFileSync(`${n.dir}/enabled_plugins`, "[rabbitmq_stomp,rabbitmq_web_stomp].\n");
  writeFileSync(`${n.dir}/rabbitmq-env.conf`, "");
}

/** Launches a node (its data kept: a restarted node rejoins its cluster by itself). */
export function launch(net: Net, n: RabbitNode): void {
  net.run(n.host, "rabbitmq", [`${RABBIT_BIN}/rabbitmq-server`], nodeEnv(n));
}

/**
 * Waits until the node's application runs. The CLI fails at once ("node not
 * running at all") until the node has registered with its epmd: ask again.
 */
export const awaitStartup = (net: Net, n: RabbitNode) =>
  until(`${n.name} to start`, () => ctl(net, n, ["await_startup"], 120).then(() => true, () => false), 180_000);

/** The Erlang VM's pid of a node (what `kill -9` of "the broker" hits). */
export const vmPid = async (n: RabbitNode): Promise<number> => Number((await Bun.file(`${n.dir}/rabbit.pid`).text()).trim());

/**
 * Starts `hosts` as one cluster. `c` gives the broker credentials folder
 * (one password per role, as every linkpack host reads them).
 */
export async function startCluster(net: Net, hosts: string[], baseDir: string, c: Config): Promise<RabbitNode[]> {
  const cookie = randomBytes(20).toString("hex").toUpperCase();
  mkdirSync(baseDir, { recursive: true });
  const definitions = `${baseDir}/definitions.json`;
  writeFileSync(definitions, JSON.stringify(brokerDefinitions(c), null, 1), { mode: 0o600 });
  const nodes = hosts.map((host) => {
    const ip = net.host(host).ip;
    return { host, ip, name: `rabbit@${ip}`, dir: `${baseDir}/${host}` };
  });
  for (const n of nodes) prepareNode(n, cookie, definitions);
  for (const n of nodes) launch(net, n);
  await Promise.all(nodes.map((n) => awaitStartup(net, n)));
  const [first, ...rest] = nodes;
  for (const n of rest) {
    await ctl(net, n, ["stop_app"]);
    await ctl(net, n, ["join_cluster", first!.name]);
    await ctl(net, n, ["start_app"]);
  }
  const status = await ctl(net, first!, ["cluster_status", "--formatter", "json"]);
  const running: string[] = JSON.parse(status.slice(status.indexOf("{"))).running_nodes ?? [];
  if (running.length !== nodes.length) throw new Error(`cluster formed with ${running.join(", ")}, not all of ${nodes.map((n) => n.name).join(", ")}`);
  return nodes;
}

/** Every queue's name, ready and unacked counts, from node `n`. */
export async function queueCounts(net: Net, n: RabbitNode): Promise<{ name: string; messages: number; messages_unacknowledged: number; type?: string }[]> {
  const out = await ctl(net, n, ["list_queues", "name", "messages", "messages_unacknowledged", "type", "--formatter", "json"]);
  return JSON.parse(out.slice(out.indexOf("[")));
}
