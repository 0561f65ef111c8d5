/**
 * Broker.publish against a real private RabbitMQ: a publish the broker
 * nacks is retried until confirmed, and every copy that reached a queue on
 * the way carries the same message id (found by the cluster test: while a
 * quorum queue's leader was re-elected after its node was killed, the
 * compressor's link event was nacked eight times and reached every other
 * bound queue nine times, as nine unidentifiable events).
 */
import { expect, test } from "bun:test";
import { Broker } from "./broker.ts";
import { brokerUrl } from "./brokerauth.ts";
import { newId } from "./ids.ts";
import { createLogger } from "./log.ts";
import { usePrivateBroker } from "../../test/support/privatebroker.ts";
import { until } from "../../test/support/wait.ts";

const priv = usePrivateBroker();

test("a nacked publish is retried with the same message id; the next publish has another", async () => {
  const ch = await priv.admin.createChannel();
  const exchange = `test-publish-${newId()}`;
  await ch.assertExchange(exchange, "fanout", { durable: false, autoDelete: true });
  // `full` refuses every message while it holds one (so the broker nacks the publish); `open` takes each copy
  const full = (await ch.assertQueue("", { exclusive: true, arguments: { "x-max-length": 1, "x-overflow": "reject-publish" } })).queue;
  const open = (await ch.assertQueue("", { exclusive: true })).queue;
  ch.sendToQueue(full, Buffer.from("filler"));
  await until("the filler to be in the full queue", async () => (await ch.checkQueue(full)).messageCount === 1);
  await ch.bindQueue(full, exchange, "");
  await ch.bindQueue(open, exchange, "");

  const b = await Broker.open({ url: brokerUrl(priv.broker.config, "admin"), log: createLogger("broker-test", "error"), needs: {} });
  try {
    const ids: string[] = [];
    await ch.consume(open, (m) => m && ids.push(String(m.properties.messageId)), { noAck: true });
    const first = b.publish(exchange, "", Buffer.from("{}"));
    await until("the refused publish to reach the open queue twice (a retry)", () => ids.length >= 2, 30_000);
    await ch.purgeQueue(full); // room now: the next retry is confirmed
    await first;
    await until("the confirmed copy to arrive too", () => ids.length >= 3);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);

    await ch.purgeQueue(full);
    const before = ids.length;
    await b.publish(exchange, "", Buffer.from("{}"));
    await until("the second publish", () => ids.length === before + 1);
    expect(ids.at(-1)).not.toBe(ids[0]);
  } finally {
    await b.close();
    await ch.close().catch(() => {});
  }
}, 90_000);
