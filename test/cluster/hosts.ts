/**
 * @module hosts
 * The cluster the test runs: which host (namespace) has which address and
 * which linkpack parts, the settings each host's parts get, and the one
 * function that starts parts on a host (`startParts`), so switching it to
 * `bun run start --parts` is one change. Every host has its own RUN_DIR
 * (pids, logs, nginx config); downloads and archives are one shared folder
 * (the "shared filesystem"), and so are the secrets every machine must share.
 */
import { chmodSync, mkdirSync } from "node:fs";
import { connect } from "node:net";
import { ROOT, loadConfig, type Config } from "../../servers/shared/config.ts";
import { ensureSecretFile } from "../../servers/shared/secrets.ts";
import { configEnv, setupBroker, type Part } from "../../scripts/lib/stack.ts";
import { nginxCmd, renderNginx } from "../../scripts/lib/nginx.ts";
import { childEnv, logFile, readPid, recordPid, isAlive, tail } from "../../scripts/lib/procs.ts";
import { RAISED_LIMITS } from "../../scripts/lib/ports.ts";
import { AMQP_PORT } from "./rabbitcluster.ts";
import type { Net } from "./netns.ts";
import { SUBNET } from "./netns.ts";
import { LANDED } from "./pending.ts";
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
  secrets: string;
  /** SQLite state shared by every host while the PostgreSQL store has not landed (one kernel: its locks work) */
  sqliteState: string;
  databaseUrl: string;
}

/** The shared folders and secrets, made once (world-traversable, so nginx's `nobody` workers reach the archives). */
export function makeShared(dir: string, databaseUrl: string): Shared {
  const s: Shared = {
    dir,
    downloads: `${dir}/shared/downloads`,
    archives: `${dir}/shared/archives`,
    secrets: `${dir}/shared/secret`,
    sqliteState: `${dir}/shared/state`,
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

/** AMQP_URL for a host: every node, starting from a different one per host (so the connections spread). */
function amqpUrl(h: HostName): string {
  const nodes = BROKER_HOSTS.map((b) => `amqp://${ip(b)}:${AMQP_PORT}`);
  const start = LAYOUT[h] % nodes.length;
  const rotated = [...nodes.slice(start), ...nodes.slice(0, start)];
  // Until failover lands, a server takes one URL only: every one uses the first node.
  return LANDED.brokerFailover ? rotated.join(",") : nodes[0]!;
}

/** The settings of host `h`'s parts. */
export function hostEnv(s: Shared, h: HostName): Record<string, string> {
  const env: Record<string, string> = {
    ...RAISED_LIMITS,
    RUN_DIR: `${s.dir}/hosts/${h}`,
    HOST: ip(h),
    GUARD_HOST: ip(h),
    MACHINE_NAME: h,
    AMQP_URL: amqpUrl(h),
    QUEUE_TYPE: "quorum",
    DATABASE_URL: s.databaseUrl,
    DOWNLOADS_DIR: s.downloads,
    ARCHIVES_DIR: s.archives,
    LINK_SECRET_FILE: `${s.secrets}/link-secret`,
    INTERNAL_TOKEN_FILE: `${s.secrets}/internal-token`,
    BROKER_CREDENTIALS_DIR: `${s.secrets}/broker`,
    PUBLIC_URL: nginxOrigin("ngx1"),
    WEB_PUBLIC_URL: h === "web2" ? webOrigin("web2") : webOrigin("web1"),
    COMPRESSOR_URL: ["cz1", "cz2"].map((c) => `http://${ip(c as HostName)}:3001`).join(","),
    ALLOW_PRIVATE_URLS: `${ip("files")}:${FILE_PORT}`,
    LOG_LEVEL: "info",
  };
  if (!LANDED.postgresState) env.STATE_DIR = s.sqliteState;
  return env;
}

/** A host's config, as its parts read it. */
export const hostConfig = (s: Shared, h: HostName): Config => loadConfig(hostEnv(s, h));

/** Mints the secrets every machine shares (link secret, internal token, one broker password per role). */
export function mintSecrets(s: Shared): void {
  const c = hostConfig(s, "web1");
  ensureSecretFile(c.LINK_SECRET_FILE);
  ensureSecretFile(c.INTERNAL_TOKEN_FILE);
}

/** Declares the broker's topology once, as the broker admin (the one place to adapt to the final setup code). */
export async function declareTopologyOnce(s: Shared): Promise<void> {
  await setupBroker(hostConfig(s, "web1"));
}

const tcpOpen = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const sock = connect({ host, port });
    sock.setTimeout(2000, () => (sock.destroy(), resolve(false)));
    sock.once("connect", () => (sock.destroy(), resolve(true)));
    sock.once("error", () => resolve(false));
  });

async function httpStatus(url: string): Promise<number> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await r.arrayBuffer();
    return r.status;
  } catch {
    return 0;
  }
}

/** True once part `p` of config `c` serves. */
export async function healthy(c: Config, p: Part): Promise<boolean> {
  switch (p) {
    case "nginx":
      return (await httpStatus(`http://${c.HOST}:${c.NGINX_PORT}/`)) === 404;
    case "linkguard":
      return (await httpStatus(`http://${c.GUARD_HOST}:${c.GUARD_PORT}/healthz`)) === 200;
    case "compressor":
      return (await httpStatus(`http://${c.HOST}:${c.COMPRESSOR_PORT}/healthz`)) === 200;
    case "downloader":
      return (await httpStatus(`http://${c.HOST}:${c.DOWNLOADER_PORT}/healthz`)) === 200;
    case "clock":
      return (await httpStatus(`http://${c.HOST}:${c.CLOCK_PORT}/healthz`)) === 200;
    case "web":
      return (await httpStatus(`http://${c.HOST}:${c.PORT}/healthz`)) === 200;
    case "rabbitmq":
      return tcpOpen(c.HOST, AMQP_PORT);
  }
}

/**
 * Starts `parts` on host `h` (those not running) and waits until each is
 * healthy. Today: each server directly (`bun servers/<part>/index.ts`,
 * nginx from its rendered config), with its pid and log where `bun run
 * start` keeps them. Once `--parts` lands: `bun run start --parts LIST`
 * inside the host.
 */
export async function startParts(net: Net, s: Shared, h: HostName, parts: Part[]): Promise<void> {
  const env = hostEnv(s, h);
  const c = loadConfig(env);
  const todo = parts.filter((p) => {
    const pid = readPid(c.RUN_DIR, p);
    return pid === null || !isAlive(pid);
  });
  if (todo.length === 0) return;
  if (LANDED.startParts) {
    const r = await net.execAsync(h, [process.execPath, "run", "start", "--parts", todo.join(",")], childEnv(env), ROOT);
    if (r.code !== 0) throw new Error(`bun run start --parts ${todo.join(",")} on ${h} failed:\n${r.out}`);
    return;
  }
  for (const d of ["pids", "logs"]) mkdirSync(`${c.RUN_DIR}/${d}`, { recursive: true });
  for (const p of todo) {
    let cmd: string[];
    if (p === "nginx") {
      renderNginx(c, { linkSecret: ensureSecretFile(c.LINK_SECRET_FILE), internalToken: ensureSecretFile(c.INTERNAL_TOKEN_FILE) });
      cmd = nginxCmd(c);
    } else cmd = [process.execPath, `${ROOT}/servers/${p}/index.ts`];
    const proc = net.run(h, p, cmd, configEnv(c), { cwd: ROOT, log: logFile(c.RUN_DIR, p) });
    recordPid(c.RUN_DIR, p, proc.pid);
  }
  await Promise.all(
    todo.map((p) =>
      until(
        () => `${p} on ${h} to be healthy; its log ends:\n${tail(logFile(c.RUN_DIR, p))}`,
        async () => {
          const pid = readPid(c.RUN_DIR, p);
          if (pid === null || !isAlive(pid)) throw new Error(`${p} on ${h} exited; its log ends:\n${tail(logFile(c.RUN_DIR, p))}`);
          return healthy(c, p);
        },
        90_000,
      ),
    ),
  );
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
