/**
 * @module topology
 * Every exchange, queue and routing key linkpack uses, with their declarations.
 * Servers import names from here; nothing else spells them. `declareTopology`
 * is run once by `bun run start` with the broker's admin user; the servers,
 * whose users may not declare anything, only check (passively) that what
 * they use is there.
 */
import type { Channel } from "amqplib";

/** Topic exchange for work: one persistent message per URL, `job.<id>.download`. */
export const WORK_EXCHANGE = "linkpack.work";
/** Topic exchange for progress events (download, compression, link, clock). */
export const PROGRESS_EXCHANGE = "linkpack.progress";
/** Fanout exchange receiving rejected (malformed) messages. */
export const DEAD_EXCHANGE = "linkpack.dead";
/** Topic exchange a consumer sends a message back to its own queue through (routing key = the queue's name), with its attempt count. */
export const RETRY_EXCHANGE = "linkpack.retry";

/** Work queue the downloaders share. */
export const DOWNLOAD_QUEUE = "linkpack.downloads";
/** Work queue of the compressor: compress requests (from its HTTP endpoint, so an accepted job survives a crash) and cancel requests (from the web server). */
export const COMPRESS_QUEUE = "linkpack.compress";
/** The web server's queue of progress events, which it folds into the job store. */
export const WEB_PROGRESS_QUEUE = "linkpack.web.progress";
/** Where malformed messages end up, for a person to look at. */
export const DEAD_QUEUE = "linkpack.dead-letters";

export const keys = {
  download: (jobId: string) => `job.${jobId}.download`,
  compress: (jobId: string) => `job.${jobId}.compress-request`,
  cancel: (jobId: string) => `job.${jobId}.cancel-request`,
  file: (jobId: string, index: number) => `job.${jobId}.file.${index}`,
  compressProgress: (jobId: string) => `job.${jobId}.compress`,
  link: (jobId: string) => `job.${jobId}.link`,
  failed: (jobId: string) => `job.${jobId}.failed`,
  cancelled: (jobId: string) => `job.${jobId}.cancelled`,
  /** every progress event of one job */
  jobAll: (jobId: string) => `job.${jobId}.#`,
  clock: "clock.tick",
} as const;

/** Binding patterns. */
export const patterns = {
  download: "job.*.download",
  compress: "job.*.compress-request",
  cancel: "job.*.cancel-request",
  cancelled: "job.*.cancelled",
  allJobs: "job.#",
} as const;

const deadLettered = { arguments: { "x-dead-letter-exchange": DEAD_EXCHANGE } };

/** Most dead letters kept (the oldest go first), and how long one is kept. */
export const DEAD_LETTERS_MAX = 10_000;
export const DEAD_LETTERS_MAX_AGE_MS = 7 * 86_400_000;

/**
 * Bounds and arguments that came after the queues existed are set by policy
 * (a queue cannot be redeclared with new arguments: RabbitMQ answers 406), so
 * a broker that already has the queues keeps working. `bun run start` puts
 * these into its broker's definitions; on another broker, set them with
 * `rabbitmqctl set_policy` (the README shows the command).
 */
export const POLICIES = [
  {
    name: "linkpack-dead-letters",
    pattern: `^${DEAD_QUEUE.replace(/[.-]/g, "\\$&")}$`,
    "apply-to": "queues",
    definition: { "max-length": DEAD_LETTERS_MAX, overflow: "drop-head", "message-ttl": DEAD_LETTERS_MAX_AGE_MS },
    priority: 0,
  },
] as const;

/** The work queues, each consumed by one kind of server (and sent back to itself through RETRY_EXCHANGE). */
const WORK_QUEUES = [DOWNLOAD_QUEUE, COMPRESS_QUEUE, WEB_PROGRESS_QUEUE] as const;
export type WorkQueue = (typeof WORK_QUEUES)[number];

/** Declares everything (idempotent; queue arguments never change, new ones go in policies). */
export async function declareTopology(ch: Channel): Promise<void> {
  await ch.assertExchange(WORK_EXCHANGE, "topic", { durable: true });
  await ch.assertExchange(PROGRESS_EXCHANGE, "topic", { durable: true });
  await ch.assertExchange(DEAD_EXCHANGE, "fanout", { durable: true });
  await ch.assertExchange(RETRY_EXCHANGE, "topic", { durable: true });
  await ch.assertQueue(DEAD_QUEUE, { durable: true });
  await ch.bindQueue(DEAD_QUEUE, DEAD_EXCHANGE, "");
  await ch.assertQueue(DOWNLOAD_QUEUE, { durable: true, ...deadLettered });
  await ch.bindQueue(DOWNLOAD_QUEUE, WORK_EXCHANGE, patterns.download);
  await ch.assertQueue(COMPRESS_QUEUE, { durable: true, ...deadLettered });
  await ch.bindQueue(COMPRESS_QUEUE, WORK_EXCHANGE, patterns.compress);
  await ch.bindQueue(COMPRESS_QUEUE, WORK_EXCHANGE, patterns.cancel);
  await ch.assertQueue(WEB_PROGRESS_QUEUE, { durable: true, ...deadLettered });
  await ch.bindQueue(WEB_PROGRESS_QUEUE, PROGRESS_EXCHANGE, patterns.allJobs);
  for (const q of WORK_QUEUES) await ch.bindQueue(q, RETRY_EXCHANGE, q);
}

/** What a server uses, to check at connect. */
export interface Needs {
  exchanges?: string[];
  queues?: string[];
}

/**
 * Checks passively (no permission needed) that everything in `needs`
 * exists; a missing one closes the channel with a 404, which the broker
 * connection takes as a failed connect and retries.
 */
export async function checkTopology(ch: Channel, needs: Needs): Promise<void> {
  for (const e of needs.exchanges ?? []) await ch.checkExchange(e);
  for (const q of needs.queues ?? []) await ch.checkQueue(q);
}

/** STOMP destination for a routing key on the progress exchange (Web-STOMP `/exchange/` form). */
export function stompDestination(routingKey: string): string {
  return `/exchange/${PROGRESS_EXCHANGE}/${routingKey}`;
}
