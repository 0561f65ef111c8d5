/**
 * @module permissions
 * Who may do what on the broker: one user per role, each with the least it
 * needs (RabbitMQ's configure / write / read regexes on resource names, and
 * topic permissions on routing keys). `bun run start` writes this matrix
 * into the private broker's definitions; the README's table is printed from
 * it (`bun scripts/broker-table.ts`) and a test tries each refusal.
 *
 * Servers declare nothing (they check passively that what they use exists);
 * `admin` declares the topology at start. No `guest`. A queue's rights
 * cover both its names (classic and `.quorum`, topology.ts), so the matrix
 * does not depend on QUEUE_TYPE and a broker can switch without new rights.
 */
import { ALL_QUEUES, DEAD_EXCHANGE, PROGRESS_EXCHANGE, RETRY_EXCHANGE, WORK_EXCHANGE } from "./topology.ts";

export const ROLES = ["web", "stomp", "downloader", "compressor", "clock", "observer", "tester", "admin"] as const;
export type Role = (typeof ROLES)[number];

export interface Permission {
  configure: string;
  write: string;
  read: string;
  /** exchange → [write, read] routing-key patterns (topic exchanges only) */
  topics?: Record<string, [write: string, read: string]>;
  tags?: string[];
  /** what the role is for (README) */
  purpose: string;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** A regex matching exactly these names. */
const only = (...names: string[]) => (names.length ? `^(${names.map(esc).join("|")})$` : "^$");
const NOTHING = "^$";
const JOB = "job\\.[0-9a-f]{32}";
/** Server-named exclusive queues (`amq.gen-…`) and the STOMP plugin's subscription queues. */
const OWN_QUEUES = "^amq\\.gen-.*$";
const STOMP_QUEUES = "^stomp-subscription-.*$";
const { download: DOWNLOAD, compress: COMPRESS, webProgress: WEB_PROGRESS, dead: DEAD } = ALL_QUEUES;

export const PERMISSIONS: Record<Role, Permission> = {
  web: {
    purpose: "publishes one download message per URL, and a job's cancel request; folds progress into the job store",
    configure: NOTHING,
    write: only(WORK_EXCHANGE, RETRY_EXCHANGE),
    read: only(...WEB_PROGRESS),
    topics: { [WORK_EXCHANGE]: [`^${JOB}\\.(download|cancel-request)$`, NOTHING], [RETRY_EXCHANGE]: [only(...WEB_PROGRESS), NOTHING] },
  },
  stomp: {
    purpose: "the web server's STOMP-to-SSE bridge: reads one job's (or the clock's) events, publishes nothing",
    configure: STOMP_QUEUES,
    write: STOMP_QUEUES,
    read: `^(${esc(PROGRESS_EXCHANGE)}|stomp-subscription-.*)$`,
    topics: { [PROGRESS_EXCHANGE]: [NOTHING, `^(${JOB}\\.#|clock\\.tick)$`] },
  },
  downloader: {
    purpose: "consumes download messages; publishes file events; hears of cancelled jobs through a queue of its own",
    configure: OWN_QUEUES,
    write: `^(${esc(PROGRESS_EXCHANGE)}|${esc(RETRY_EXCHANGE)}|amq\\.gen-.*)$`,
    read: `^(${DOWNLOAD.map(esc).join("|")}|${esc(PROGRESS_EXCHANGE)}|amq\\.gen-.*)$`,
    topics: { [PROGRESS_EXCHANGE]: [`^${JOB}\\.file\\.\\d+$`, `^job\\.\\*\\.cancelled$`], [RETRY_EXCHANGE]: [only(...DOWNLOAD), NOTHING] },
  },
  compressor: {
    purpose: "queues compress requests (its HTTP intake) and consumes them and cancel requests; publishes compression, link, failure and cancellation events",
    configure: NOTHING,
    write: only(WORK_EXCHANGE, PROGRESS_EXCHANGE, RETRY_EXCHANGE),
    read: only(...COMPRESS),
    topics: {
      [WORK_EXCHANGE]: [`^${JOB}\\.compress-request$`, NOTHING],
      [PROGRESS_EXCHANGE]: [`^${JOB}\\.(compress|link|failed|cancelled)$`, NOTHING],
      [RETRY_EXCHANGE]: [only(...COMPRESS), NOTHING],
    },
  },
  clock: {
    purpose: "publishes the server time",
    configure: NOTHING,
    write: only(PROGRESS_EXCHANGE),
    read: NOTHING,
    topics: { [PROGRESS_EXCHANGE]: [`^clock\\.tick$`, NOTHING] },
  },
  observer: {
    purpose: "the benchmark (and tests) watching events through a queue of its own; publishes nothing",
    configure: OWN_QUEUES,
    write: OWN_QUEUES,
    read: `^(amq\\.gen-.*|${esc(PROGRESS_EXCHANGE)})$`,
  },
  tester: {
    purpose: "the test suite: also sends hostile messages to the work and progress exchanges",
    configure: OWN_QUEUES,
    write: `^(amq\\.gen-.*|${esc(WORK_EXCHANGE)}|${esc(PROGRESS_EXCHANGE)})$`,
    read: `^(amq\\.gen-.*|${esc(PROGRESS_EXCHANGE)}|${DEAD.map(esc).join("|")}|${esc(DEAD_EXCHANGE)})$`,
  },
  admin: {
    purpose: "`bun run start` only: declares the topology",
    configure: ".*",
    write: ".*",
    read: ".*",
    tags: ["administrator"],
  },
};

/** The broker user name of a role (when the broker is linkpack's own, or AMQP_URL names no user). */
export const userName = (role: Role) => `linkpack-${role}`;
