/**
 * Upgrading a broker through `bun run start`'s setupBroker (a real private
 * RabbitMQ): an installation made before queue types — classic queues with
 * messages waiting, `linkpack.web.progress` among them — keeps every message
 * and passes every server's passive check; switching QUEUE_TYPE from classic
 * to quorum moves the waiting messages into the quorum twins.
 */
import { describe, expect, test } from "bun:test";
import type { Channel } from "amqplib";
import { loadConfig, type Config } from "./config.ts";
import { brokerUrl } from "./brokerauth.ts";
import { connectFirst } from "./broker.ts";
import { newId } from "./ids.ts";
import { setupBroker } from "../../scripts/lib/stack.ts";
import { rabbitmqctl } from "../../scripts/lib/rabbitmq.ts";
import { usePrivateBroker } from "../../test/support/privatebroker.ts";
import {
  DEAD_EXCHANGE,
  OLD_WEB_PROGRESS_QUEUE,
  PROGRESS_EXCHANGE,
  RETRY_EXCHANGE,
  WEB_PROGRESS_QUEUE,
  WORK_EXCHANGE,
  checkTopology,
  keys,
  queues,
  serverNeeds,
} from "./topology.ts";

const priv = usePrivateBroker();

/** What linkpack declared before queue types (its topology.ts then), to make an old installation's broker. */
async function declareOldLayout(ch: Channel): Promise<void> {
  const dl = { arguments: { "x-dead-letter-exchange": DEAD_EXCHANGE } };
  for (const [e, type] of [[WORK_EXCHANGE, "topic"], [PROGRESS_EXCHANGE, "topic"], [DEAD_EXCHANGE, "fanout"], [RETRY_EXCHANGE, "topic"]] as const)
    await ch.assertExchange(e, type, { durable: true });
  await ch.assertQueue("linkpack.dead-letters", { durable: true });
  await ch.bindQueue("linkpack.dead-letters", DEAD_EXCHANGE, "");
  await ch.assertQueue("linkpack.downloads", { durable: true, ...dl });
  await ch.bindQueue("linkpack.downloads", WORK_EXCHANGE, "job.*.download");
  await ch.assertQueue("linkpack.compress", { durable: true, ...dl });
  await ch.bindQueue("linkpack.compress", WORK_EXCHANGE, "job.*.compress-request");
  await ch.bindQueue("linkpack.compress", WORK_EXCHANGE, "job.*.cancel-request");
  await ch.assertQueue("linkpack.web.progress", { durable: true, ...dl });
  await ch.bindQueue("linkpack.web.progress", PROGRESS_EXCHANGE, "job.#");
  for (const q of ["linkpack.downloads", "linkpack.compress", "linkpack.web.progress"]) await ch.bindQueue(q, RETRY_EXCHANGE, q);
}

/** Publishes (confirmed, persistent) as the admin. */
async function publish(exchange: string, key: string, bodies: string[], headers: Record<string, unknown> = {}): Promise<void> {
  const ch = await priv.admin.createConfirmChannel();
  for (const b of bodies) ch.publish(exchange, key, Buffer.from(b), { persistent: true, contentType: "application/json", headers });
  await ch.waitForConfirms();
  await ch.close();
}

/** Takes every message of `queue`, in order (by consuming: a single-active-consumer queue refuses basic.get). */
async function drain(queue: string): Promise<{ body: string; headers: Record<string, unknown> }[]> {
  const ch = await priv.admin.createChannel();
  const { messageCount } = await ch.checkQueue(queue);
  const out: { body: string; headers: Record<string, unknown> }[] = [];
  await new Promise<void>((resolve) => {
    if (messageCount === 0) return resolve();
    void ch.consume(queue, (m) => {
      if (m) out.push({ body: m.content.toString(), headers: m.properties.headers ?? {} });
      if (out.length === messageCount) resolve();
    }, { noAck: true });
  });
  await ch.close();
  return out;
}

/** Whether `queue` exists (a passive declare on a channel of its own). */
async function exists(queue: string): Promise<boolean> {
  const ch = await priv.admin.createChannel();
  ch.on("error", () => {});
  return ch.checkQueue(queue).then(
    () => (ch.close(), true),
    () => false,
  );
}

/** Every server's connect-time check, as its own broker user, under `config`'s QUEUE_TYPE. */
async function serversCheck(config: Config): Promise<string[]> {
  const failed: string[] = [];
  for (const [role, needs] of Object.entries(serverNeeds(config.QUEUE_TYPE))) {
    const { conn } = await connectFirst(brokerUrl(config, role as keyof ReturnType<typeof serverNeeds>));
    const ch = await conn.createChannel();
    ch.on("error", () => {});
    await checkTopology(ch, needs).catch(() => failed.push(role));
    await conn.close().catch(() => {});
  }
  return failed;
}

const bodies = (tag: string, n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ tag, i }));

describe("upgrading the broker", () => {
  const job = newId();
  const downloads = bodies("download", 3);
  const compress = bodies("compress", 2);
  const progress = bodies("progress", 4);
  const dead = bodies("dead", 1);

  test("an installation made before queue types keeps every waiting message and passes every server's check", async () => {
    const ch = await priv.admin.createChannel();
    await declareOldLayout(ch);
    await ch.close();
    await publish(WORK_EXCHANGE, keys.download(job), downloads, { "x-linkpack-attempts": 1 });
    await publish(WORK_EXCHANGE, keys.compress(job), compress);
    await publish(PROGRESS_EXCHANGE, keys.file(job, 0), progress);
    await publish(DEAD_EXCHANGE, "", dead);

    const config = priv.broker.config;
    expect(config.QUEUE_TYPE).toBe("classic");
    const said: string[] = [];
    await setupBroker(config, (s) => said.push(s));
    expect(said.join("\n")).toContain(`moved 4 waiting message(s) from queue ${OLD_WEB_PROGRESS_QUEUE} to ${WEB_PROGRESS_QUEUE} (deleted)`);
    expect(await exists(OLD_WEB_PROGRESS_QUEUE)).toBe(false);
    expect(await serversCheck(config)).toEqual([]);
    // progress now goes to the quorum queue, behind what was moved, in order
    await publish(PROGRESS_EXCHANGE, keys.file(job, 1), ["after"]);
    expect((await drain(WEB_PROGRESS_QUEUE)).map((m) => m.body)).toEqual([...progress, "after"]);
    // running it again changes nothing
    await setupBroker(config);
    const types = await rabbitmqctl(config, ["list_queues", "name", "type", "messages", "--no-table-headers", "-q"]);
    expect(types).toMatch(/linkpack\.downloads\s+classic\s+3/);
    expect(types).toMatch(/linkpack\.compress\s+classic\s+2/);
    expect(types).toMatch(/linkpack\.web\.progress\.quorum\s+quorum\s+0/);
  }, 60_000);

  test("switching QUEUE_TYPE from classic to quorum moves the waiting messages into the quorum queues", async () => {
    const config = loadConfig({ ...priv.broker.env, QUEUE_TYPE: "quorum" });
    const q = queues("quorum");
    await setupBroker(config);
    for (const old of Object.values(queues("classic"))) if (old !== WEB_PROGRESS_QUEUE) expect(await exists(old)).toBe(false);
    expect(await serversCheck(config)).toEqual([]);
    // a server still configured for classic queues finds its queues gone (and keeps retrying): names follow QUEUE_TYPE
    expect(await serversCheck(loadConfig({ ...priv.broker.env, QUEUE_TYPE: "classic" }))).toEqual(["web", "downloader", "compressor"]);
    const types = await rabbitmqctl(config, ["list_queues", "name", "type", "policy", "--no-table-headers", "-q"]);
    for (const name of [q.download, q.compress, q.dead]) expect(types).toMatch(new RegExp(`${name.replace(/\./g, "\\.")}\\s+quorum`));
    expect(types).toMatch(/linkpack\.dead-letters\.quorum\s+quorum\s+linkpack-dead-letters/);
    const moved = await drain(q.download);
    expect(moved.map((m) => m.body)).toEqual(downloads);
    expect(moved[0]!.headers["x-linkpack-attempts"]).toBe(1); // the attempt count travels with the message
    expect((await drain(q.compress)).map((m) => m.body)).toEqual(compress);
    expect((await drain(q.dead)).map((m) => m.body)).toEqual(dead);
    // new work is routed to the quorum queues
    await publish(WORK_EXCHANGE, keys.download(job), ["new"]);
    expect((await drain(q.download)).map((m) => m.body)).toEqual(["new"]);
  }, 60_000);
});
