/**
 * @module hosts
 * The cluster the test runs: which host (namespace) has which address and
 * which linkpack parts, the settings each host's parts get, and the one
 * function that starts parts on a host (`startParts`: `bun run start --parts`
 * inside it). Every host has its own RUN_DIR (pids, logs, nginx config) and
 * its own copy of the secrets it needs (link secret, internal token, the
 * broker passwords of its parts' roles), copied from one place as an operator
 * copies them from the first machine; downloads and archives are one shared
 * folder (the "shared filesystem"). No host holds the broker admin's
 * password: the topology is declared once, by the test (`declareTopologyOnce`).
 */
import { chmodSync, copyFileSync, mkdirSync } from "node:fs";
import { ROOT, loadConfig, type Config } from "../../servers/shared/config.ts";
import { ensureSecretFile } from "../../servers/shared/secrets.ts";
import { credentialFile } from "../../servers/shared/brokerauth.ts";
import { ROLES } from "../../servers/shared/permissions.ts";
import { setupBroker, type Part } from "../../scripts/lib/stack.ts";
import { rolesOf } from "../../scripts/lib/selection.ts";
import { childEnv, logFile, readPid, isAlive } from "../../scripts/lib/procs.ts";
import { RAISED_LIMITS } from "../../scripts/lib/ports.ts";
import { AMQP_PORT } from "./rabbitcluster.ts";
import type { Net } from "./netns.ts";
import { SUBNET } from "./netns.ts";
import { until } from "../support/wait.ts";

/** Host name → last byte of its address. */
export const LAYOUT = {
  mq1: 11,
  mq2: 12,
  mq3: 13,
  pg: 20,
  web1: 31,
  web2: 32,
  dl1: 41,
  dl2: 42,
  cz1: 51,
  cz2: 52,
  ngx1: 61,
  ngx2: 62,
  files: 80,
} as const;
export type HostName = keyof typeof LAYOUT;

export const BROKER_HOSTS: HostName[] = ["mq1", "mq2", "mq3"];
/** The linkpack parts of each host (the clock beside the first web server). */
export const PARTS: Partial<Record<HostName, Part[]>> = {
  ngx1: ["linkguard", "nginx"],
  ngx2: ["linkguard", "nginx"],
  cz1: ["compressor"],
  cz2: ["compressor"],
  dl1: ["downloader"],
  dl2: ["downloader"],
  web1: ["web", "clock"],
  web2: ["web"],
};

export const FILE_PORT = 8000;
export const ip = (h: HostName) => `${SUBNET}.${LAYOUT[h]}`;
export const webOrigin = (h: "web1" | "web2") => `http://${ip(h)}:3000`;
export const nginxOrigin = (h: "ngx1" | "ngx2") => `http://${ip(h)}:8080`;
export const fileOrigin = () => `http://${ip("files")}:${FILE_PORT}`;

export interface Shared {
  dir: string;
  downloads: string;
  archives: string;
  /** the one place the secrets are minted (the "first machine"); each host gets copies */
  secrets: string;
  databaseUrl: string;
}

/** The shared folders and secrets, made once (world-traversable, so nginx's `nobody` workers reach the archives). */
export function makeShared(dir: string, databaseUrl: string): Shared {
  const s: Shared = {
    dir,
    downloads: `${dir}/shared/downloads`,
    archives: `${dir}/shared/archives`,
    secrets: `${dir}/shared/secret`,
    databaseUrl,
  };
  for (const d of [dir, `${dir}/shared`, s.archives]) {
    mkdirSync(d, { recursive: true });
    chmodSync(d, 0o755);
  }
  mkdirSync(s.downloads, { recursive: true, mode: 0o700 });
  mkdirSync(s.secrets, { recursive: true, mode: 0o700 });
  return s;
}

/** AMQP_URL listing every node, starting from node `start` (0-based). */
function amqpUrl(start: number): string {
  const nodes = BROKER_HOSTS.map((b) => `amqp://${ip(b)}:${AMQP_PORT}`);
  return [...nodes.slice(start), ...nodes.slice(0, start)].join(",");
}

/** The node a host lists first: a different one per host, so the connections spread (mq1 carries dl2 and cz1, mq2 web1 and cz2, mq3 web2 and dl1). */
const firstNode = (h: HostName) => LAYOUT[h] % BROKER_HOSTS.length;

const runDir = (s: Shared, h: HostName) => `${s.dir}/hosts/${h}`;

/** The settings of host `h`'s parts (its secrets are its own copies, `provisionHost`). */
export function hostEnv(s: Shared, h: HostName): Record<string, string> {
  return {
    ...sourceEnv(s),
    RUN_DIR: runDir(s, h),
    HOST: ip(h),
    GUARD_HOST: ip(h),
    MACHINE_NAME: h,
    AMQP_URL: amqpUrl(firstNode(h)),
    WEB_PUBLIC_URL: h === "web2" ? webOrigin("web2") : webOrigin("web1"),
    LINK_SECRET_FILE: `${runDir(s, h)}/secret/link-secret`,
    INTERNAL_TOKEN_FILE: `${runDir(s, h)}/secret/internal-token`,
    BROKER_CREDENTIALS_DIR: `${runDir(s, h)}/secret/broker`,
  };
}

/**
 * The settings of the place the secrets come from (every broker role's
 * password, the admin's included): the test itself, which mints them,
 * starts the broker cluster with them, declares the topology (from node
 * mq1, so the quorum queues' leaders start there, on the node killed
 * later) and watches events.
 */
export function sourceEnv(s: Shared): Record<string, string> {
  return {
    ...RAISED_LIMITS,
    RUN_DIR: `${s.dir}/source`,
    AMQP_URL: amqpUrl(0),
    QUEUE_TYPE: "quorum",
    DATABASE_URL: s.databaseUrl,
    DOWNLOADS_DIR: s.downloads,
    ARCHIVES_DIR: s.archives,
    LINK_SECRET_FILE: `${s.secrets}/link-secret`,
    INTERNAL_TOKEN_FILE: `${s.secrets}/internal-token`,
    BROKER_CREDENTIALS_DIR: `${s.secrets}/broker`,
    PUBLIC_URL: nginxOrigin("ngx1"),
    COMPRESSOR_URL: ["cz1", "cz2"].map((c) => `http://${ip(c as HostName)}:3001`).join(","),
    ALLOW_PRIVATE_URLS: `${ip("files")}:${FILE_PORT}`,
    LOG_LEVEL: "info",
  };
}

/** A host's config, as its parts read it. */
export const hostConfig = (s: Shared, h: HostName): Config => loadConfig(hostEnv(s, h));
/** The secrets' source's config (sourceEnv). */
export const sourceConfig = (s: Shared): Config => loadConfig(sourceEnv(s));

/** Mints, in one place, the secrets every machine shares: link secret, internal token, one broker password per role. */
export function mintSecrets(s: Shared): void {
  const c = sourceConfig(s);
  ensureSecretFile(c.LINK_SECRET_FILE);
  ensureSecretFile(c.INTERNAL_TOKEN_FILE);
  for (const role of ROLES) ensureSecretFile(credentialFile(c, role));
}

/** Copies to host `h` the secrets its parts need, and no other (no admin password: it declares nothing). */
export function provisionHost(s: Shared, h: HostName): void {
  const from = sourceConfig(s);
  const to = hostConfig(s, h);
  mkdirSync(to.BROKER_CREDENTIALS_DIR, { recursive: true, mode: 0o700 });
  const copy = (a: string, b: string) => (copyFileSync(a, b), chmodSync(b, 0o600));
  copy(from.LINK_SECRET_FILE, to.LINK_SECRET_FILE);
  copy(from.INTERNAL_TOKEN_FILE, to.INTERNAL_TOKEN_FILE);
  for (const role of rolesOf(PARTS[h] ?? [])) copy(credentialFile(from, role), credentialFile(to, role));
}

/** Declares the broker's topology once, as the broker admin, with `bun run start`'s own code (declarations, then queue migration). */
export async function declareTopologyOnce(s: Shared): Promise<void> {
  await setupBroker(sourceConfig(s));
}

/**
 * Starts `parts` on host `h` (those not running) with `bun run start
 * --parts LIST` inside it, which starts them in the background and waits
 * until each is healthy.
 */
export async function startParts(net: Net, s: Shared, h: HostName, parts: Part[]): Promise<void> {
  const env = hostEnv(s, h);
  const c = loadConfig(env);
  const todo = parts.filter((p) => {
    const pid = readPid(c.RUN_DIR, p);
    return pid === null || !isAlive(pid);
  });
  if (todo.length === 0) return;
  const r = await net.execAsync(h, [process.execPath, "run", "start", "--parts", todo.join(",")], childEnv(env), ROOT);
  if (r.code !== 0) throw new Error(`bun run start --parts ${todo.join(",")} on ${h} failed (${r.code}):\n${r.out}`);
}

/** `kill -9` of part `p` on host `h` (the process `start` recorded); waits until it is gone. */
export async function kill9(s: Shared, h: HostName, p: Part): Promise<number> {
  const c = hostConfig(s, h);
  const pid = readPid(c.RUN_DIR, p);
  if (pid === null || !isAlive(pid)) throw new Error(`${p} on ${h} is not running`);
  process.kill(pid, "SIGKILL");
  await until(`${p} on ${h} to be gone after kill -9`, () => !isAlive(pid), 10_000);
  return pid;
}

/** The log of part `p` on host `h` so far. */
export const partLog = (s: Shared, h: HostName, p: Part) => Bun.file(logFile(hostConfig(s, h).RUN_DIR, p)).text().catch(() => "");
