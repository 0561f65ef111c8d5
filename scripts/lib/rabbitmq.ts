/**
 * @module rabbitmq
 * The project-private RabbitMQ node: own node name, ports, data, logs, cookie
 * and epmd, all under RUN_DIR and bound to 127.0.0.1, with Web-STOMP enabled.
 * Its users are the roles of servers/shared/permissions.ts, imported at every
 * boot from a definitions file (mode 0600) made from the role password files;
 * with definitions to import the node never creates `guest`, and a node made
 * before them has its `guest` deleted (`removeGuest`).
 *
 * With BROKER_NODES=N above 1 it is a local cluster of N such nodes, to try
 * failover on one machine: node i (1-based) has its own name, ports
 * (BROKER_PORT, BROKER_STOMP_PORT, BROKER_DIST_PORT counted up by i-1),
 * data and logs (`rabbitmq-<i>`; node 1 keeps the one-node layout), and all
 * share the Erlang cookie (node 1's HOME) and one epmd; nodes 2..N join
 * node 1 (`joinCluster`).
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import amqp from "amqplib";
import type { Config } from "../../servers/shared/config.ts";
import { childEnv } from "./procs.ts";
import { credentialFile } from "../../servers/shared/brokerauth.ts";
import { PERMISSIONS, ROLES, userName } from "../../servers/shared/permissions.ts";
import { ensureSecretFile } from "../../servers/shared/secrets.ts";
import { POLICIES } from "../../servers/shared/topology.ts";

export const RABBIT_BIN = "/usr/lib/rabbitmq/bin";

/** The private broker's node numbers, 1..BROKER_NODES. */
export const brokerNodes = (c: Pick<Config, "BROKER_NODES">) => Array.from({ length: c.BROKER_NODES }, (_, i) => i + 1);

/** The part name (pid and log files) of node `node`: `rabbitmq` for node 1 (the contract's pid file), `rabbitmq-<n>` for the others. */
export const nodePart = (node: number) => (node === 1 ? "rabbitmq" : `rabbitmq-${node}`);

/** The node a part name stands for (`nodePart`'s inverse). */
export const partNode = (name: string) => (name === "rabbitmq" ? 1 : Number(name.slice("rabbitmq-".length)));

/** Node `node`'s ports: each BROKER_*_PORT counted up by node-1. */
export function nodePorts(c: Config, node = 1) {
  return { amqp: c.BROKER_PORT + node - 1, stomp: c.BROKER_STOMP_PORT + node - 1, dist: c.BROKER_DIST_PORT + node - 1 };
}

/** Private-broker settings derived from config (node name, data folders) for node `node` (1-based). */
export function brokerPaths(c: Config, node = 1) {
  const base = `${c.RUN_DIR}/${nodePart(node)}`;
  return {
    base,
    nodeName: `linkpack-${nodePorts(c, node).amqp}@localhost`,
    mnesia: `${base}/mnesia`,
    logs: `${c.RUN_DIR}/logs/${nodePart(node)}`,
    /** node 1's for all: its Erlang cookie is the cluster's */
    home: `${c.RUN_DIR}/rabbitmq/home`,
    configFile: `${base}/rabbitmq.conf`,
    pluginsFile: `${base}/enabled_plugins`,
    definitions: `${base}/definitions.json`,
    /** where the node writes the Erlang VM's pid */
    pidFile: `${base}/rabbit.pid`,
  };
}

/** RabbitMQ's rabbit_password_hashing_sha256: base64(salt ‖ sha256(salt ‖ password)). */
function passwordHash(password: string): string {
  const salt = randomBytes(4);
  return Buffer.concat([salt, createHash("sha256").update(Buffer.concat([salt, Buffer.from(password)])).digest()]).toString("base64");
}

/** The broker's users, permissions, topic permissions (from the role password files, minted if missing) and policies. */
export function brokerDefinitions(c: Config): object {
  const vhost = "/";
  const users = ROLES.map((role) => ({
    name: userName(role),
    password_hash: passwordHash(ensureSecretFile(credentialFile(c, role))),
    hashing_algorithm: "rabbit_password_hashing_sha256",
    tags: PERMISSIONS[role].tags ?? [],
  }));
  const permissions = ROLES.map((role) => {
    const p = PERMISSIONS[role];
    return { user: userName(role), vhost, configure: p.configure, write: p.write, read: p.read };
  });
  const topic_permissions = ROLES.flatMap((role) =>
    Object.entries(PERMISSIONS[role].topics ?? {}).map(([exchange, [write, read]]) => ({ user: userName(role), vhost, exchange, write, read })),
  );
  const policies = POLICIES.map((p) => ({ vhost, ...p }));
  return { users, vhosts: [{ name: vhost }], permissions, topic_permissions, policies };
}

/** Environment for node `node` and its CLI tools (never /usr/sbin's wrappers, which switch user). */
export function rabbitEnv(c: Config, node = 1): Record<string, string> {
  const p = brokerPaths(c, node);
  const ports = nodePorts(c, node);
  return childEnv({
    PATH: `${RABBIT_BIN}:${childEnv().PATH ?? "/usr/bin:/bin"}`,
    HOME: p.home,
    RABBITMQ_NODENAME: p.nodeName,
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: ports.amqp,
    RABBITMQ_DIST_PORT: ports.dist,
    ERL_EPMD_PORT: c.BROKER_EPMD_PORT,
    ERL_EPMD_ADDRESS: "127.0.0.1",
    RABBITMQ_MNESIA_BASE: p.mnesia,
    RABBITMQ_LOG_BASE: p.logs,
    RABBITMQ_CONFIG_FILE: p.configFile,
    RABBITMQ_ENABLED_PLUGINS_FILE: p.pluginsFile,
    RABBITMQ_CONF_ENV_FILE: `${p.base}/rabbitmq-env.conf`,
    RABBITMQ_ADVANCED_CONFIG_FILE: `${p.base}/advanced.config`,
    RABBITMQ_PID_FILE: p.pidFile,
    // a node that cannot boot (a port taken) leaves its crash dump with its logs, not in the cwd (the repository)
    ERL_CRASH_DUMP: `${p.logs}/erl_crash.dump`,
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: "-kernel inet_dist_use_interface {127,0,0,1}",
    RABBITMQ_CTL_ERL_ARGS: "-kernel inet_dist_use_interface {127,0,0,1}",
  });
}

/** Writes every node's config, users, plugin list and folders. */
export function prepareRabbit(c: Config): void {
  const definitions = JSON.stringify(brokerDefinitions(c), null, 1);
  for (const node of brokerNodes(c)) prepareNode(c, node, definitions);
}

function prepareNode(c: Config, node: number, definitions: string): void {
  const p = brokerPaths(c, node);
  const ports = nodePorts(c, node);
  for (const d of [p.base, p.mnesia, p.logs, p.home]) mkdirSync(d, { recursive: true, mode: 0o700 });
  writeFileSync(p.definitions, definitions, { mode: 0o600 });
  writeFileSync(
    p.configFile,
    [
      `listeners.tcp.1 = 127.0.0.1:${ports.amqp}`,
      `stomp.listeners.tcp = none`,
      `web_stomp.tcp.ip = 127.0.0.1`,
      `web_stomp.tcp.port = ${ports.stomp}`,
      `log.console = true`,
      `log.console.level = warning`,
      `log.file.level = info`,
      `log.file.rotation.size = ${c.LOG_MAX_BYTES}`,
      `log.file.rotation.count = 1`,
      `definitions.import_backend = local_filesystem`,
      `definitions.local.path = ${p.definitions}`,
      ``,
    ].join("\n"),
  );
  writeFileSync(p.pluginsFile, "[rabbitmq_stomp,rabbitmq_web_stomp].\n");
  writeFileSync(`${p.base}/rabbitmq-env.conf`, "");
}

export function rabbitServerCmd(): string[] {
  return [`${RABBIT_BIN}/rabbitmq-server`];
}

/**
 * Stops the node's epmd (it outlives the node). epmd refuses ("living nodes
 * in database") until it has noticed the node is gone, which on a busy
 * machine can take a moment after the node exited: so it retries for a while.
 * Returns epmd's answer instead of true if it is still running after `waitMs`.
 */
export async function stopEpmd(c: Config, waitMs = 10_000): Promise<true | string> {
  const end = Date.now() + waitMs;
  for (;;) {
    const proc = Bun.spawn(["epmd", "-kill"], { env: rabbitEnv(c), stdout: "pipe", stderr: "pipe" });
    const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (proc.exitCode === 0 || /cannot connect/i.test(out + err)) return true; // killed, or none running
    if (Date.now() > end) return `epmd on port ${c.BROKER_EPMD_PORT} would not stop: ${(out + err).trim()}`;
    await Bun.sleep(200);
  }
}

/**
 * Deletes `guest` from a node made before linkpack had its own users (the
 * definitions add users but remove none). Tried by logging in: a node
 * without guest refuses at once.
 */
export async function removeGuest(c: Config): Promise<boolean> {
  try {
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${c.BROKER_PORT}`);
    await conn.close();
  } catch {
    return false;
  }
  await rabbitmqctl(c, ["delete_user", "guest"]);
  return true;
}

/** Runs `rabbitmqctl -n NODE ARGS...` against private node `node` (default 1); retries while the node is not registered yet. */
export async function rabbitmqctl(c: Config, args: string[], attempts = 5, node = 1): Promise<string> {
  let last = "";
  for (let i = 0; i < attempts; i++) {
    const p = Bun.spawn([`${RABBIT_BIN}/rabbitmqctl`, "-n", brokerPaths(c, node).nodeName, ...args], { env: rabbitEnv(c, node), stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    if (code === 0) return out;
    last = out + err;
    await Bun.sleep(1000);
  }
  throw new Error(`rabbitmqctl ${args.join(" ")} failed: ${last}`);
}

/**
 * Makes nodes 2..N members of node 1's cluster (each node runs). A node that
 * is one already is left alone, so a restart keeps the cluster; a new one is
 * reset (it holds nothing yet but the imported users) and joins.
 */
export async function joinCluster(c: Config): Promise<void> {
  const first = brokerPaths(c, 1).nodeName;
  for (const node of brokerNodes(c).slice(1)) {
    const status = JSON.parse(await rabbitmqctl(c, ["cluster_status", "--formatter", "json"], 5, node)) as { disk_nodes?: string[] };
    if (status.disk_nodes?.includes(first)) continue;
    for (const args of [["stop_app"], ["reset"], ["join_cluster", first], ["start_app"]]) await rabbitmqctl(c, args, 5, node);
  }
}

/**
 * Which of the quorum queues `names` the private node no longer has a
 * replica registered for. RabbitMQ 3.10 can lose that registration when its
 * node is killed shortly after the queue was made: the queue is still in
 * its metadata, but it never elects a leader, and every call on it (a
 * consumer, a passive check) waits for ever. Such a queue holds nothing
 * that can be read any more; `setupBroker` makes it again.
 */
export async function lostQuorumQueues(c: Config, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  // Ra names a queue's server after its virtual host ("/" is %2F) and its name.
  const terms = names.map((n) => `ra_directory:uid_of(quorum_queues, '%2F_${n}')`).join(", ");
  const out = await rabbitmqctl(c, ["eval", `[${terms}].`], 1);
  const found = out.match(/<<"[^"]*">>|undefined/g) ?? [];
  if (found.length !== names.length) throw new Error(`unexpected answer about the quorum queues: ${out.trim()}`);
  return names.filter((_, i) => found[i] === "undefined");
}
