/** The web server's progress tracker through the real broker: a malformed event is dead-lettered and does not block the queue. */
import { expect, test } from "bun:test";
import amqp from "amqplib";
import { brokerUrl } from "../shared/brokerauth.ts";
import { DEAD_QUEUE, PROGRESS_EXCHANGE, WEB_PROGRESS_QUEUE, keys } from "../shared/topology.ts";
import { useStack } from "../../test/stack.ts";
import { submit } from "../../test/e2e/util.ts";
import { until } from "../../test/faults/helpers.ts";

test("malformed progress events are dead-lettered; the queue keeps draining", async () => {
  const { web, config } = await useStack();
  // A job whose only URL is refused at once, so nothing else moves it.
  const id = await submit(web, ["http://192.0.2.1:9/never.jpg"]);
  const conn = await amqp.connect(brokerUrl(config, "tester"));
  try {
    const ch = await conn.createConfirmChannel();
    const marker = `malformed-${crypto.randomUUID()}`;
    ch.publish(PROGRESS_EXCHANGE, keys.file(id, 0), Buffer.from(`{not json ${marker}`));
    ch.publish(PROGRESS_EXCHANGE, keys.file(id, 0), Buffer.from(JSON.stringify({ v: 1, type: "file", jobId: id, marker })));
    await ch.waitForConfirms();
    const seen: string[] = [];
    await until(async () => {
      for (let m = await ch.get(DEAD_QUEUE, { noAck: false }); m; m = await ch.get(DEAD_QUEUE, { noAck: false })) {
        const body = m.content.toString();
        if (body.includes(marker)) {
          seen.push(body);
          ch.ack(m);
        } else ch.nack(m, false, true);
        if (seen.length === 2) break;
      }
      return seen.length === 2;
    }, 20_000, "both malformed events in the dead-letter queue");
    // The queue is not blocked: it drains to empty.
    await until(async () => (await ch.checkQueue(WEB_PROGRESS_QUEUE)).messageCount === 0, 20_000, "web progress queue drained");
  } finally {
    await conn.close();
  }
}, 60_000);
