/**
 * @module postgres
 * One PostgreSQL server in a host of its own, for the cluster's shared state:
 * Debian's server binaries (/usr/lib/postgresql/<v>/bin) run as user
 * `postgres`, a fresh data folder, listening only on the host's address
 * (and a Unix socket in its folder), a pg_hba line letting the bridge's
 * subnet in with a password (scram-sha-256), and a database `linkpack` owned
 * by a role `linkpack`.
 */
import { appendFileSync, chmodSync, chownSync, mkdirSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import type { Net } from "./netns.ts";
import { until } from "../support/wait.ts";
import { asPostgresCmd, pgBin, pgUid } from "../support/postgres.ts";

export const PG_PORT = 5432;

/** The newest installed server's bin folder. */
function serverBin(): string {
  const bin = pgBin();
  if (!bin) throw new Error("PostgreSQL server not installed (apt-get install postgresql)");
  return bin;
}

/** Starts the server in `host` with its data under `dir`; resolves with the `postgres://` URL once it answers. */
export async function startPostgres(net: Net, host: string, dir: string, subnet: string): Promise<{ url: string; dir: string }> {
  const bin = serverBin();
  const ip = net.host(host).ip;
  const data = `${dir}/data`;
  const sock = `${dir}/sock`;
  mkdirSync(data, { recursive: true });
  mkdirSync(sock, { recursive: true });
  const { uid, gid } = pgUid();
  for (const d of [dir, data, sock]) chownSync(d, uid, gid);
  chmodSync(data, 0o700);
  const initdb = asPostgresCmd([`${bin}/initdb`, "-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C"]);
  const init = spawnSync(initdb[0]!, initdb.slice(1), { encoding: "utf8" });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  appendFileSync(`${data}/pg_hba.conf`, `host all all ${subnet}.0/24 scram-sha-256\n`);
  net.run(host, "postgres", asPostgresCmd([`${bin}/postgres`, "-D", data, "-k", sock, "-c", `listen_addresses=${ip}`, "-p", String(PG_PORT), "-c", "max_connections=300", "-c", "fsync=off"]), { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" });
  await until("PostgreSQL to accept connections", async () => net.exec(host, [`${bin}/pg_isready`, "-h", ip, "-p", String(PG_PORT)]).code === 0, 60_000);
  const password = randomBytes(12).toString("hex");
  const psql = (sqlText: string) => {
    const r = net.exec(host, asPostgresCmd([`${bin}/psql`, "-h", sock, "-p", String(PG_PORT), "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sqlText]));
    if (r.code !== 0) throw new Error(`psql ${sqlText}: ${r.out}`);
  };
  psql(`CREATE ROLE linkpack LOGIN PASSWORD '${password}'`);
  psql(`CREATE DATABASE linkpack OWNER linkpack`);
  return { url: `postgres://linkpack:${password}@${ip}:${PG_PORT}/linkpack`, dir };
}

/** The tables of database `linkpack` (proof that the servers keep their state there). */
export function pgTables(net: Net, host: string, dir: string): string[] {
  const r = net.exec(host, asPostgresCmd([`${serverBin()}/psql`, "-h", `${dir}/sock`, "-p", String(PG_PORT), "-U", "postgres", "-d", "linkpack", "-At", "-c", "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"]));
  if (r.code !== 0) throw new Error(`psql: ${r.out}`);
  return r.out.split("\n").filter(Boolean);
}
