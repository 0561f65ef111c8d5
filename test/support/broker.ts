/**
 * @module broker
 * The test stack's broker from a test's side: publishing as the `tester`
 * role (as any holder of broker credentials could), and whether the work
 * queues are drained.
 */
import type { ConfirmChannel, Options } from "amqplib";
import type { Config } from "../../servers/shared/config.ts";
import { brokerUrl } from "../../servers/shared/brokerauth.ts";
import { queues } from "../../servers/shared/topology.ts";
import { connectFirst } from "../../servers/shared/broker.ts";
import { rabbitmqctl } from "../../scripts/lib/rabbitmq.ts";

const body = (msg: Buffer | object) => (Buffer.isBuffer(msg) ? msg : Buffer.from(JSON.stringify(msg)));

/** A confirm channel of the `tester` role; `send` resolves once the broker confirmed the message. */
export async function tester(config: Config) {
  const { conn } = await connectFirst(brokerUrl(config, "tester"));
  const ch: ConfirmChannel = await conn.createConfirmChannel();
  return {
    ch,
    send: (exchange: string, key: string, msg: Buffer | object, opts: Options.Publish = {}) =>
      new Promise<void>((resolve, reject) => ch.publish(exchange, key, body(msg), opts, (err) => (err ? reject(err) : resolve()))),
    close: () => conn.close().catch(() => {}),
  };
}

/** Publishes one message (JSON unless a Buffer) as the `tester` role, confirmed. */
export async function publish(config: Config, exchange: string, key: string, msg: Buffer | object, opts: Options.Publish = {}): Promise<void> {
  const t = await tester(config);
  try {
    await t.send(exchange, key, msg, opts);
  } finally {
    await t.close();
  }
}

/** The work queues of the stack's QUEUE_TYPE. */
const workQueues = (config: Config) => {
  const q = queues(config.QUEUE_TYPE);
  return [q.download, q.compress, q.webProgress];
};

/** True when `names` (the work queues) hold no message, ready or unacknowledged: every message was handled to the end. */
export async function queuesDrained(config: Config, names: string[] = workQueues(config)): Promise<boolean> {
  const out = await rabbitmqctl(config, ["list_queues", "-q", "name", "messages_ready", "messages_unacknowledged"]);
  const rows = out.split("\n").map((l) => l.trim().split(/\s+/)).filter(([name]) => names.includes(name!));
  return rows.length === names.length && rows.every(([, ready, unacked]) => ready === "0" && unacked === "0");
}
