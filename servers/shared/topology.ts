/**
 * @module topology
 * Every exchange, queue and routing key linkpack uses, with their declarations.
 * Servers import names from here; nothing else spells them. `declareTopology`
 * is run once by `bun run start` with the broker's admin user; the servers,
 * whose users may not declare anything, only check (passively) that what
 * they use is there, under the names of their QUEUE_TYPE (`queues(type)`).
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

/**
 * A durable queue's type (config QUEUE_TYPE, which config.ts validated: the
 * functions below take its string): `classic` on one node, `quorum`
 * (replicated, Raft) on a cluster.
 */
export type QueueType = "classic" | "quorum";
const asType = (t: string): QueueType => (t === "quorum" ? "quorum" : "classic");

/**
 * A queue's type cannot change in place (redeclaring answers 406), so each
 * durable queue has one name per type: the classic one keeps the name it
 * always had, its quorum twin adds `.quorum`. Both may exist on a broker
 * that switched QUEUE_TYPE; `bun run start` then moves what waits in the
 * other one into the current one and deletes it (queuemigration.ts).
 */
const typed = <B extends string>(base: B, type: QueueType): Typed<B> => (type === "quorum" ? (`${base}.quorum` as const) : base);
type Typed<B extends string> = B | `${B}.quorum`;
/** The type of a durable queue of linkpack, from its name (every quorum one ends in `.quorum`). */
export const typeOfQueue = (name: string): QueueType => (name.endsWith(".quorum") ? "quorum" : "classic");

const DOWNLOADS = "linkpack.downloads";
const COMPRESS = "linkpack.compress";
const DEAD_LETTERS = "linkpack.dead-letters";

/**
 * The web server's queue of progress events, which it folds into the job
 * store: always a quorum queue with a single active consumer, whatever
 * QUEUE_TYPE says, so that of several web processes exactly one folds, in
 * order, and another takes over when it dies (a single-active-consumer
 * classic queue was seen crashing on RabbitMQ 3.10 when two consumers
 * attached before anything was published: rabbitmq/amqp091-go#106).
 */
export const WEB_PROGRESS_QUEUE = "linkpack.web.progress.quorum";
/** The classic queue an installation made before WEB_PROGRESS_QUEUE used (emptied into it, then deleted, at start). */
export const OLD_WEB_PROGRESS_QUEUE = "linkpack.web.progress";

/** The durable queues' names for one queue type. */
export interface Queues {
  /** work queue the downloaders share */
  download: Typed<typeof DOWNLOADS>;
  /** work queue of the compressor: compress requests (from its HTTP endpoint, so an accepted job survives a crash) and cancel requests (from the web server) */
  compress: Typed<typeof COMPRESS>;
  /** the web server's progress events (WEB_PROGRESS_QUEUE, the same for every type) */
  webProgress: typeof WEB_PROGRESS_QUEUE;
  /** where malformed messages end up, for a person to look at */
  dead: Typed<typeof DEAD_LETTERS>;
}

/** The names a process uses under QUEUE_TYPE `type` (a server checks, consumes and sends back to these only). */
export function queues(queueType: string): Queues {
  const type = asType(queueType);
  return { download: typed(DOWNLOADS, type), compress: typed(COMPRESS, type), webProgress: WEB_PROGRESS_QUEUE, dead: typed(DEAD_LETTERS, type) };
}

/** Every name a durable queue of linkpack may have (for permissions, which must not depend on QUEUE_TYPE). */
export const ALL_QUEUES = {
  download: [DOWNLOADS, `${DOWNLOADS}.quorum`],
  compress: [COMPRESS, `${COMPRESS}.quorum`],
  webProgress: [WEB_PROGRESS_QUEUE],
  dead: [DEAD_LETTERS, `${DEAD_LETTERS}.quorum`],
} as const;

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

/** Most dead letters kept (the oldest go first), and how long one is kept. */
export const DEAD_LETTERS_MAX = 10_000;
export const DEAD_LETTERS_MAX_AGE_MS = 7 * 86_400_000;

const esc = (s: string) => s.replace(/[.-]/g, "\\$&");

/**
 * Bounds and arguments that came after the queues existed are set by policy
 * (a queue cannot be redeclared with new arguments: RabbitMQ answers 406), so
 * a broker that already has the queues keeps working. `bun run start` puts
 * these into its broker's definitions; on another broker, set them with
 * `rabbitmqctl set_policy` (the README shows the command). The pattern
 * matches both twins; quorum queues honour max-length, drop-head and
 * message-ttl too (RabbitMQ 3.10 and later).
 */
export const POLICIES = [
  {
    name: "linkpack-dead-letters",
    pattern: `^${esc(DEAD_LETTERS)}(\\.quorum)?$`,
    "apply-to": "queues",
    definition: { "max-length": DEAD_LETTERS_MAX, overflow: "drop-head", "message-ttl": DEAD_LETTERS_MAX_AGE_MS },
    priority: 0,
  },
] as const;

/** A work queue: consumed by one kind of server, and sent back to itself through RETRY_EXCHANGE (routing key: its name). */
export type WorkQueue = Queues["download"] | Queues["compress"] | Queues["webProgress"];

/** One durable queue as `declareTopology` makes it. */
export interface DurableQueue {
  name: string;
  /** declare arguments (never changed once declared: new ones go in POLICIES) */
  arguments: Record<string, unknown>;
  /** [exchange, routing key] pairs it is bound by; a work queue is bound to RETRY_EXCHANGE by its own name */
  bindings: [exchange: string, key: string][];
  /** names the same queue has under the other type or had in an older layout: what waits there is moved here at start */
  retired: string[];
}

/**
 * The durable queues under QUEUE_TYPE `type`. Quorum queues must be
 * durable, not exclusive, not auto-delete; the classic ones keep exactly
 * the arguments they were first declared with.
 */
export function durableQueues(queueType: string): DurableQueue[] {
  const type = asType(queueType);
  const q = queues(type);
  const other = queues(type === "quorum" ? "classic" : "quorum");
  const kind = type === "quorum" ? { "x-queue-type": "quorum" } : {};
  const dl = { "x-dead-letter-exchange": DEAD_EXCHANGE };
  return [
    { name: q.dead, arguments: kind, bindings: [[DEAD_EXCHANGE, ""]], retired: [other.dead] },
    { name: q.download, arguments: { ...kind, ...dl }, bindings: [[WORK_EXCHANGE, patterns.download], [RETRY_EXCHANGE, q.download]], retired: [other.download] },
    {
      name: q.compress,
      arguments: { ...kind, ...dl },
      bindings: [[WORK_EXCHANGE, patterns.compress], [WORK_EXCHANGE, patterns.cancel], [RETRY_EXCHANGE, q.compress]],
      retired: [other.compress],
    },
    {
      name: q.webProgress,
      arguments: { "x-queue-type": "quorum", "x-single-active-consumer": true, ...dl },
      bindings: [[PROGRESS_EXCHANGE, patterns.allJobs], [RETRY_EXCHANGE, q.webProgress]],
      retired: [OLD_WEB_PROGRESS_QUEUE],
    },
  ];
}

/** Declares everything for QUEUE_TYPE `type` (idempotent). Queues of the other type are left to the migration (queuemigration.ts). */
export async function declareTopology(ch: Channel, type: string): Promise<void> {
  await ch.assertExchange(WORK_EXCHANGE, "topic", { durable: true });
  await ch.assertExchange(PROGRESS_EXCHANGE, "topic", { durable: true });
  await ch.assertExchange(DEAD_EXCHANGE, "fanout", { durable: true });
  await ch.assertExchange(RETRY_EXCHANGE, "topic", { durable: true });
  for (const q of durableQueues(type)) {
    await ch.assertQueue(q.name, { durable: true, arguments: q.arguments });
    for (const [exchange, key] of q.bindings) await ch.bindQueue(q.name, exchange, key);
  }
}

/** What a server uses, to check at connect. */
export interface Needs {
  exchanges?: string[];
  queues?: string[];
}

/** What each server checks at connect under QUEUE_TYPE `type` (the web server reads the download queue's depth too). */
export function serverNeeds(type: string): Record<"web" | "downloader" | "compressor" | "clock", Needs> {
  const q = queues(type);
  return {
    web: { exchanges: [WORK_EXCHANGE, RETRY_EXCHANGE], queues: [q.webProgress, q.download] },
    downloader: { exchanges: [PROGRESS_EXCHANGE, RETRY_EXCHANGE], queues: [q.download] },
    compressor: { exchanges: [WORK_EXCHANGE, PROGRESS_EXCHANGE, RETRY_EXCHANGE], queues: [q.compress] },
    clock: { exchanges: [PROGRESS_EXCHANGE] },
  };
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
