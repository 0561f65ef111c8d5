/**
 * @module privatebroker
 * A private RabbitMQ of a test's own — one node, or a local cluster with
 * `BROKER_NODES` — without the servers, started and stopped by the same code
 * as `bun run start`/`stop`, on free ports under a temporary RUN_DIR. `stop`
 * stops every node and epmd and removes the folder, also after a node was
 * killed.
 */
import { afterAll, beforeAll } from "bun:test";
import { rmSync } from "node:fs";
import type { ChannelModel } from "amqplib";
import { connectFirst } from "../../servers/shared/broker.ts";
import { brokerUrl } from "../../servers/shared/brokerauth.ts";
import type { Config } from "../../servers/shared/config.ts";
import { startBroker, startPart, stopStack } from "../../scripts/lib/stack.ts";
import { brokerNodes, nodePart, nodePorts, prepareRabbit } from "../../scripts/lib/rabbitmq.ts";
import { freePortsEnvForNodes } from "../../scripts/lib/ports.ts";
import { readPid, waitGone } from "../../scripts/lib/procs.ts";
import { testConfig } from "../stack.ts";

export interface PrivateBroker {
  config: Config;
  env: Record<string, string>;
  /** kill -9 of node `node`'s Erlang VM; resolves once it is gone */
  kill(node: number): Promise<void>;
  /** starts a killed node again (it rejoins its cluster); resolves once it serves */
  revive(node: number): Promise<void>;
  /** the node (1-based) listening on AMQP or Web-STOMP port `port` */
  nodeOn(port: number): number;
  stop(): Promise<void>;
}

export async function startPrivateBroker(extra: Record<string, string> = {}): Promise<PrivateBroker> {
  const nodes = Number(extra.BROKER_NODES ?? 1);
  const { config, env, runDir } = testConfig({ ...freePortsEnvForNodes(nodes), ...extra });
  const stop = async () => {
    await stopStack(config);
    rmSync(runDir, { recursive: true, force: true });
  };
  try {
    prepareRabbit(config);
    await startBroker(config);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    config,
    env,
    stop,
    nodeOn: (port) => brokerNodes(config).find((n) => [nodePorts(config, n).amqp, nodePorts(config, n).stomp].includes(port)) ?? 0,
    revive: async (node) => void (await startPart(config, "rabbitmq", 120_000, nodePart(node))),
    kill: async (node) => {
      const pid = readPid(config.RUN_DIR, nodePart(node));
      if (pid === null) throw new Error(`broker node ${node} has no pid`);
      process.kill(pid, "SIGKILL");
      await waitGone(pid, 10_000);
    },
  };
}

/**
 * A private broker and an admin connection to it for the calling test file:
 * started before its tests, closed and stopped after them.
 */
export function usePrivateBroker(extra: Record<string, string> = {}): { readonly broker: PrivateBroker; readonly admin: ChannelModel } {
  let broker: PrivateBroker | undefined;
  let admin: ChannelModel | undefined;
  beforeAll(async () => {
    broker = await startPrivateBroker(extra);
    admin = (await connectFirst(brokerUrl(broker.config, "admin"))).conn;
  }, 120_000);
  afterAll(async () => {
    await admin?.close().catch(() => {});
    await broker?.stop();
  }, 60_000);
  return {
    get broker() {
      return broker!;
    },
    get admin() {
      return admin!;
    },
  };
}
