/**
 * @module config
 * The one place that reads the environment. Every key has a default, a type
 * and a one-line doc; a bad value fails fast with a message naming the key.
 * The README's configuration table is checked against `CONFIG_DOCS` by a test.
 */
import { hostname } from "node:os";
import { resolve } from "node:path";

/** Repository root: defaults such as `RUN_DIR=.run` are relative to it, not to the cwd. */
export const ROOT = resolve(import.meta.dir, "../..");

type Kind = "port" | "int" | "string" | "url" | "urls" | "path" | "list";
interface Spec {
  kind: Kind;
  def: string | ((raw: Record<string, string>) => string);
  doc: string;
  /** part of the public interface (docs/API.md), listed first in the README */
  contract?: boolean;
  min?: number;
}

const spec = {
  PORT: { kind: "port", def: "3000", doc: "the web server (page and API), on `HOST`", contract: true },
  NGINX_PORT: { kind: "port", def: "8080", doc: "nginx, which serves the signed links", contract: true },
  PUBLIC_URL: { kind: "url", def: (r) => `http://127.0.0.1:${r.NGINX_PORT}`, doc: "the origin put in front of signed links", contract: true },
  WEB_PUBLIC_URL: { kind: "url", def: (r) => `http://127.0.0.1:${r.PORT}`, doc: "the web server's own public origin (cross-site posts are refused against it)", contract: true },
  AMQP_URL: { kind: "string", def: "", doc: "use this broker instead of starting one (it must have the Web-STOMP plugin); several nodes of one cluster comma-separated, tried in turn", contract: true },
  RUN_DIR: { kind: "path", def: ".run", doc: "runtime state: pids, logs, broker data, downloads, archives, the signing secret", contract: true },
  ALLOW_PRIVATE_URLS: { kind: "list", def: "", doc: "comma-separated `host:port` entries that may be downloaded although they resolve to a private address", contract: true },
  LINK_TTL_SECONDS: { kind: "int", def: "3600", doc: "how long a signed link is valid", contract: true, min: 1 },
  MAX_LINK_TTL_SECONDS: { kind: "int", def: "604800", doc: "longest link lifetime a job may ask for (`ttl_seconds`)", contract: true, min: 60 },
  MAX_URLS: { kind: "int", def: "50", doc: "most URLs in one job", contract: true, min: 1 },
  MAX_FILE_BYTES: { kind: "int", def: "1073741824", doc: "largest single file; larger fails that URL (kept below zip's 4 GiB limit)", contract: true, min: 1 },
  MAX_JOB_BYTES: { kind: "int", def: "2147483648", doc: "most bytes in one job; past it, further files fail", contract: true, min: 1 },
  MAX_JOBS_PER_MINUTE: { kind: "int", def: "20", doc: "new jobs one client may create per minute; beyond it `429`", contract: true, min: 1 },
  MAX_ACTIVE_JOBS: { kind: "int", def: "5", doc: "unfinished jobs one client may have; beyond it `429`", contract: true, min: 1 },
  JOB_RETENTION_SECONDS: { kind: "int", def: "604800", doc: "how long a finished job's records are kept; then its page and JSON answer `410`", contract: true, min: 1 },
  DOWNLOAD_RETRIES: { kind: "int", def: "3", doc: "retries of a download failure that may pass (connection reset or refused, timeout, 408/425/429/5xx), resuming with `Range`", contract: true, min: 0 },
  MIN_FREE_DISK_BYTES: { kind: "int", def: "1073741824", doc: "below this free space on the downloads or archives volume, `POST /jobs` answers `507`", contract: true, min: 0 },
  DATABASE_URL: { kind: "string", def: "", doc: "`postgres://…`: keep all durable state in PostgreSQL (shared by several machines; `?sslmode=require` to encrypt); unset: SQLite under `STATE_DIR`", contract: true },
  QUEUE_TYPE: { kind: "string", def: "classic", doc: "`quorum` declares every durable queue as a quorum queue (a broker cluster; the default when `BROKER_NODES` is above 1 or `AMQP_URL` names several nodes); `classic` for one node", contract: true },
  LINK_RESUME_OVERLAP_BYTES: { kind: "int", def: "16777216", doc: "how far before the delivered point a resumed download of a link may start (bytes the kernel sent but the client never got)", contract: true, min: 0 },

  HOST: { kind: "string", def: "127.0.0.1", doc: "address every internal listener binds to" },
  ALLOWED_HOSTS: {
    kind: "list",
    def: (r) => [...new Set(["localhost", "127.0.0.1", "::1", r.HOST!, hostOf(r.WEB_PUBLIC_URL!), hostOf(r.PUBLIC_URL!)])].filter((h) => !/^(0\.0\.0\.0|::)$/.test(h)).join(","),
    doc: "host names the web server and nginx answer for (any other `Host` gets `421`, against DNS rebinding)",
  },
  COMPRESSOR_PORT: { kind: "port", def: "3001", doc: "the compressor's internal HTTP port" },
  COMPRESSOR_URL: { kind: "urls", def: (r) => `http://127.0.0.1:${r.COMPRESSOR_PORT}`, doc: "where downloaders POST finished job ids; several compressors comma-separated, tried in turn" },
  GUARD_PORT: { kind: "port", def: "3002", doc: "the link guard's internal HTTP port (nginx auth_request)" },
  GUARD_HOST: { kind: "string", def: "127.0.0.1", doc: "where nginx finds the link guard" },
  GUARD_LOG_FILE: { kind: "path", def: (r) => `${r.RUN_DIR}/nginx/guard-access.log`, doc: "nginx's access log of link requests, which the link guard reads (from a saved offset, so a restart misses nothing) and rotates past LOG_MAX_BYTES" },
  NGINX_PID_FILE: { kind: "path", def: (r) => `${r.RUN_DIR}/nginx/nginx.pid`, doc: "where nginx writes its master's pid (the guard asks it to reopen its log after a rotation)" },
  LINK_LEASE_SECONDS: { kind: "int", def: "3600", doc: "longest time one GET may hold a link; a lease that ends without nginx's log line counts as fully delivered", min: 1 },
  LINK_SEND_TIMEOUT_SECONDS: { kind: "int", def: "30", doc: "nginx drops a link download whose client took nothing for this long, which frees its lease", min: 1 },
  LINK_SECRET_FILE: { kind: "path", def: (r) => `${r.RUN_DIR}/secret/link-secret`, doc: "file holding the link-signing secret (made at first start; shared by every machine)" },
  INTERNAL_TOKEN_FILE: { kind: "path", def: (r) => `${r.RUN_DIR}/secret/internal-token`, doc: "file holding the token callers of the compressor and the link guard must send (made at first start)" },
  DOWNLOADER_PORT: { kind: "port", def: "3004", doc: "the downloader's health port" },
  CLOCK_PORT: { kind: "port", def: "3005", doc: "the clock's health port" },
  BROKER_PORT: { kind: "port", def: "5673", doc: "AMQP port of the private broker (not 5672, so a system broker does not clash)" },
  BROKER_STOMP_PORT: { kind: "port", def: "15675", doc: "Web-STOMP port of the private broker" },
  BROKER_DIST_PORT: { kind: "port", def: "25673", doc: "Erlang distribution port of the private broker" },
  BROKER_EPMD_PORT: { kind: "port", def: "4371", doc: "epmd port of the private broker" },
  BROKER_CREDENTIALS_DIR: { kind: "path", def: (r) => `${r.RUN_DIR}/secret/broker`, doc: "one password file per broker role (made at first start for the private broker; unused when `AMQP_URL` names a user)" },
  BROKER_NODES: { kind: "int", def: "1", doc: "nodes of the private broker `bun run start` runs: more than one makes a local cluster (ports counted up from each `BROKER_*_PORT`), to try failover on one machine", min: 1 },
  STOMP_URL: {
    kind: "urls",
    // an encrypted AMQP node (amqps://) gets RabbitMQ's TLS Web-STOMP listener: the bridge's login is not sent in the clear either
    def: (r) =>
      r.AMQP_URL
        ? r.AMQP_URL.split(",").filter((u) => u.trim()).map((u) => (u.trim().startsWith("amqps:") ? `wss://${hostOf(u.trim())}:15673/ws` : `ws://${hostOf(u.trim())}:15674/ws`)).join(",")
        : privateNodes(r).map((i) => `ws://127.0.0.1:${countUp(r.BROKER_STOMP_PORT!, i)}/ws`).join(","),
    doc: "Web-STOMP endpoints the SSE bridge uses, comma-separated, tried in turn (one per `AMQP_URL` node, or per node of the private broker; `wss://<host>:15673/ws` for an `amqps://` node)",
  },
  MACHINE_NAME: { kind: "string", def: "", doc: "this machine's name among several sharing one database (its link guard's place in nginx's log is kept under it); unset: the host name" },
  DOWNLOADS_DIR: { kind: "path", def: (r) => `${r.RUN_DIR}/downloads`, doc: "where job folders are downloaded (shared storage when scaled out)" },
  ARCHIVES_DIR: { kind: "path", def: (r) => `${r.RUN_DIR}/archives`, doc: "nginx's file folder, where finished archives are moved" },
  STATE_DIR: { kind: "path", def: (r) => `${r.RUN_DIR}/state`, doc: "small durable records: job store, finished archives, link leases" },
  DOWNLOAD_CONCURRENCY: { kind: "int", def: "16", doc: "files one downloader fetches at once", min: 1 },
  PER_JOB_CONCURRENCY: { kind: "int", def: "10", doc: "files of one job one downloader fetches at once (below DOWNLOAD_CONCURRENCY, so other jobs always find a free slot)", min: 1 },
  PER_HOST_CONCURRENCY: { kind: "int", def: "10", doc: "connections one downloader has open at once to one host, counted for the host of every redirect hop", min: 1 },
  MAX_REDIRECTS: { kind: "int", def: "5", doc: "redirects followed per URL", min: 0 },
  CONNECT_TIMEOUT_MS: { kind: "int", def: "10000", doc: "time to get response headers", min: 1 },
  IDLE_TIMEOUT_MS: { kind: "int", def: "20000", doc: "a body that sends nothing for this long fails", min: 1 },
  DOWNLOAD_DEADLINE_MS: { kind: "int", def: "900000", doc: "overall time one file may take", min: 1 },
  DOWNLOAD_RETRY_BASE_MS: { kind: "int", def: "1000", doc: "the first retry waits about this long (between half and all of it), each next one twice as long", min: 0 },
  RETRY_AFTER_MAX_SECONDS: { kind: "int", def: "60", doc: "the longest `Retry-After` of a source that is honoured", min: 0 },
  PROGRESS_INTERVAL_MS: { kind: "int", def: "100", doc: "least time between two progress events of one file; a file that is done within it sends only its final event", min: 0 },
  MAX_BODY_BYTES: { kind: "int", def: "262144", doc: "largest POST /jobs body", min: 1 },
  BODY_TIMEOUT_MS: { kind: "int", def: "10000", doc: "time a POST /jobs body may take to arrive in full; slower: `408`", min: 1 },
  HTTP_IDLE_TIMEOUT_SECONDS: { kind: "int", def: "30", doc: "the web server closes a connection that is idle, or a request that is stalled, this long (at most 255; event streams are exempt)", min: 1 },
  TRUSTED_PROXIES: { kind: "list", def: "", doc: "IP addresses of reverse proxies whose `X-Forwarded-For` names the client (for the per-client limits)" },
  MAX_EVENT_STREAMS: { kind: "int", def: "1000", doc: "open event streams of one web process; beyond it `503`", min: 1 },
  MAX_EVENT_STREAMS_PER_CLIENT: { kind: "int", def: "20", doc: "open event streams of one client; beyond it `503`", min: 1 },
  MAX_QUEUED_FILES: { kind: "int", def: "10000", doc: "files waiting in the download queue past which a new job gets `503`", min: 1 },
  JOB_STALL_SECONDS: { kind: "int", def: "21600", doc: "a job whose download folder saw no change for this long fails (its last messages were lost, say)", min: 1 },
  SWEEP_INTERVAL_SECONDS: { kind: "int", def: "600", doc: "how often expired archives, old records, stalled jobs and the link guard's expired links are cleaned up", min: 1 },
  CLOCK_SKEW_SECONDS: { kind: "int", def: "300", doc: "how far apart the machines' clocks may be; the link guard remembers a link this long past its expiry", min: 0 },
  LOG_LEVEL: { kind: "string", def: "info", doc: "debug, info, warn or error" },
  LOG_MAX_BYTES: { kind: "int", def: "10485760", doc: "a process's log past this size is moved to `<name>.log.1` and started afresh (the broker's likewise)", min: 1024 },
} satisfies Record<string, Spec>;

export type ConfigKey = keyof typeof spec;
type ValueOf<K extends Kind> = K extends "port" | "int" ? number : K extends "list" | "urls" ? string[] : string;
export type Config = { readonly [K in ConfigKey]: ValueOf<(typeof spec)[K]["kind"]> };

/** The host name of `url` (an IPv6 address without brackets), or `url` itself if it is not one (a README placeholder). */
function hostOf(url: string): string {
  try {
    return new URL(url).hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1";
  } catch {
    return url.startsWith("$") ? `<host of ${url}>` : "127.0.0.1";
  }
}

/** The private broker's node numbers (0-based), as many as BROKER_NODES; one for a README placeholder. */
function privateNodes(r: Record<string, string>): number[] {
  const n = Number(r.BROKER_NODES);
  return Array.from({ length: Number.isSafeInteger(n) && n > 1 ? n : 1 }, (_, i) => i);
}
/** Port `base` counted up by `i` (node i of the private broker); a README placeholder stays as written. */
const countUp = (base: string, i: number) => (i === 0 ? base : String(Number(base) + i));

/** Raised at start-up for a value that cannot be used; the message names the key. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Reads and validates the configuration from `env` (the process environment by default). */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, string> = {};
  for (const [key, s] of Object.entries(spec) as [ConfigKey, Spec][]) {
    const given = env[key];
    raw[key] = given !== undefined && given !== "" ? given : typeof s.def === "function" ? s.def(raw) : s.def;
  }
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(spec) as [ConfigKey, Spec][]) out[key] = parse(key, s, raw[key]!);
  out.MACHINE_NAME ||= hostname();
  // unset QUEUE_TYPE on a cluster: quorum, so a job survives the loss of a node
  if (!env.QUEUE_TYPE && ((out.BROKER_NODES as number) > 1 || (out.AMQP_URL as string).split(",").filter((u) => u.trim()).length > 1)) out.QUEUE_TYPE = "quorum";
  if (!["debug", "info", "warn", "error"].includes(out.LOG_LEVEL as string)) throw new ConfigError(`LOG_LEVEL must be debug, info, warn or error, not "${out.LOG_LEVEL}"`);
  if ((out.LINK_TTL_SECONDS as number) > (out.MAX_LINK_TTL_SECONDS as number)) throw new ConfigError("LINK_TTL_SECONDS must not be above MAX_LINK_TTL_SECONDS");
  if ((out.PER_JOB_CONCURRENCY as number) > (out.DOWNLOAD_CONCURRENCY as number)) throw new ConfigError("PER_JOB_CONCURRENCY must not be above DOWNLOAD_CONCURRENCY");
  if ((out.MAX_FILE_BYTES as number) >= 4 * 1024 ** 3 - 1) throw new ConfigError("MAX_FILE_BYTES must stay below 4 GiB (zip without zip64)");
  if ((out.MAX_JOB_BYTES as number) >= 4 * 1024 ** 3 - 1) throw new ConfigError("MAX_JOB_BYTES must stay below 4 GiB (zip without zip64)");
  if (!["classic", "quorum"].includes(out.QUEUE_TYPE as string)) throw new ConfigError(`QUEUE_TYPE must be classic or quorum, not "${out.QUEUE_TYPE}"`);
  if (out.DATABASE_URL && !/^postgres(ql)?:\/\//.test(out.DATABASE_URL as string)) throw new ConfigError("DATABASE_URL must be a postgres:// URL (or unset for SQLite under STATE_DIR)");
  for (const u of out.COMPRESSOR_URL as string[]) if (!/^https?:\/\//.test(u)) throw new ConfigError(`COMPRESSOR_URL must list http(s) URLs, not "${u}"`);
  if ((out.HTTP_IDLE_TIMEOUT_SECONDS as number) > 255) throw new ConfigError("HTTP_IDLE_TIMEOUT_SECONDS must be at most 255 (Bun's limit)");
  return Object.freeze(out) as Config;
}

function parse(key: string, s: Spec, v: string): unknown {
  switch (s.kind) {
    case "port": {
      const n = Number(v);
      if (!/^\d+$/.test(v) || n > 65535) throw new ConfigError(`${key} must be a port number 0-65535, not "${v}"`);
      return n;
    }
    case "int": {
      const n = Number(v);
      if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new ConfigError(`${key} must be a whole number, not "${v}"`);
      if (s.min !== undefined && n < s.min) throw new ConfigError(`${key} must be at least ${s.min}, not ${n}`);
      return n;
    }
    case "url": {
      let u: URL;
      try {
        u = new URL(v);
      } catch {
        throw new ConfigError(`${key} must be an absolute http(s) URL, not "${v}"`);
      }
      if (u.protocol !== "http:" && u.protocol !== "https:") throw new ConfigError(`${key} must be an http(s) URL, not "${v}"`);
      return v.replace(/\/+$/, "");
    }
    case "urls": {
      const list = v.split(",").map((x) => x.trim()).filter(Boolean);
      if (list.length === 0) throw new ConfigError(`${key} must name at least one URL`);
      for (const u of list) {
        try {
          new URL(u);
        } catch {
          throw new ConfigError(`${key} must be comma-separated absolute URLs, not "${u}"`);
        }
      }
      return list.map((u) => u.replace(/\/+$/, ""));
    }
    case "path":
      return resolve(ROOT, v);
    case "list":
      return v.split(",").map((x) => x.trim().toLowerCase()).filter(Boolean);
    default:
      return v;
  }
}

/** Every port setting: the places something of linkpack listens. */
export const PORT_KEYS: ConfigKey[] = (Object.entries(spec) as [ConfigKey, Spec][]).filter(([, s]) => s.kind === "port").map(([k]) => k);

/** Key, default (as written) and doc of every setting, contract keys first: for the README table. */
export const CONFIG_DOCS: { key: ConfigKey; def: string; doc: string; contract: boolean }[] = (Object.entries(spec) as [ConfigKey, Spec][]).map(
  ([key, s]) => ({
    key,
    def: typeof s.def === "function" ? defaultText(key) : s.def,
    doc: s.doc,
    contract: !!s.contract,
  }),
);

/**
 * A derived default as the README shows it: the derivation itself, run with
 * `$KEY` in place of each value it uses (a key whose default is unset counts
 * as unset), so the text cannot drift from the code.
 */
function defaultText(key: ConfigKey): string {
  const def = (spec as Record<string, Spec>)[key]!.def;
  if (typeof def === "string") return def;
  const placeholders = new Proxy({} as Record<string, string>, {
    get: (_, k: string) => ((spec as Record<string, Spec>)[k]?.def === "" ? "" : `$${k}`),
  });
  return def(placeholders);
}

/**
 * The process environment as it was read at start-up: `bun run start` hands
 * it on to the processes it spawns (scripts/lib/procs.ts `childEnv`). Read
 * here, so that no other module reads `process.env`.
 */
export const ENVIRONMENT: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)),
);
