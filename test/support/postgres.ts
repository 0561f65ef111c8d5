/**
 * @module postgres
 * The test run's private PostgreSQL: one cluster per `bun test` run, made
 * the first time a test asks (`freshDatabase()`), in a temporary folder
 * owned by `postgres`, on 127.0.0.1 and a free port with trust auth, and
 * stopped by the preload's afterAll (`stopTestPostgres`). Each test gets a
 * database of its own, dropped when it is done.
 *
 * A machine without PostgreSQL gets Debian's `postgresql` installed (as
 * root, like the broker: scripts/lib/install.ts); where that is impossible
 * the PostgreSQL variants of the store tests are skipped, except in CI
 * (`CI` set), where a skip would hide a broken half of the store: there it
 * is a failure.
 */
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { SQL } from "bun";
import { ENVIRONMENT } from "../../servers/shared/config.ts";
import { ensurePackages } from "../../scripts/lib/install.ts";
import { freePort } from "../../scripts/lib/ports.ts";

const PG_ROOT = "/usr/lib/postgresql";

/** The newest installed server's bin folder, or null. */
export function pgBin(): string | null {
  const versions = existsSync(PG_ROOT) ? readdirSync(PG_ROOT).filter((v) => existsSync(`${PG_ROOT}/${v}/bin/initdb`)) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  return versions[0] ? `${PG_ROOT}/${versions[0]}/bin` : null;
}

const isRoot = () => process.getuid?.() === 0;
const canInstall = () => isRoot() && existsSync("/usr/bin/apt-get");

/** What this machine allows: PostgreSQL installed, installable (root with apt-get), and whether this is CI. */
export interface PostgresSituation {
  installed: boolean;
  installable: boolean;
  ci: boolean;
}

const here = (): PostgresSituation => ({ installed: pgBin() !== null, installable: canInstall(), ci: Boolean(ENVIRONMENT.CI) });

/**
 * Whether this run can test on PostgreSQL (installed, or installable). When
 * it cannot: false (the caller skips, and a line says so), or, in CI, an
 * error: there a skipped PostgreSQL test is a failure.
 */
export function postgresAvailable(s: PostgresSituation = here()): boolean {
  if (s.installed || s.installable) return true;
  const why = `PostgreSQL is not installed (no ${PG_ROOT}/*/bin/initdb) and cannot be installed here (not root with apt-get)`;
  if (s.ci) throw new Error(`CI: the PostgreSQL store tests must run, but ${why}`);
  console.warn(`skipping the PostgreSQL variants: ${why}`);
  return false;
}

interface Cluster {
  dir: string;
  bin: string;
  port: number;
  admin: SQL;
}

let cluster: Promise<Cluster> | null = null;

/** `args` as a command run as `postgres` (a PostgreSQL program refuses to run as root). */
export const asPostgresCmd = (args: string[]): string[] => (isRoot() ? ["runuser", "-u", "postgres", "--", ...args] : args);

/** Runs a PostgreSQL program as `postgres`. */
async function asPostgres(args: string[]): Promise<void> {
  const p = Bun.spawn(asPostgresCmd(args), { stdout: "pipe", stderr: "pipe", cwd: "/" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${args.join(" ")} failed (${code}):\n${out}${err}`);
}

/** The `postgres` user's ids (its data folders must be its own). */
export function pgUid(): { uid: number; gid: number } {
  const id = (flag: string) => Number(Bun.spawnSync(["id", flag, "postgres"]).stdout.toString().trim());
  return { uid: id("-u"), gid: id("-g") };
}

async function startCluster(): Promise<Cluster> {
  if (!pgBin()) await ensurePackages(["postgresql"], (s) => console.log(s));
  const bin = pgBin();
  if (!bin) throw new Error("PostgreSQL was installed but no initdb was found");
  const dir = mkdtempSync(`${tmpdir()}/linkpack-pg-`);
  try {
    if (isRoot()) {
      const { uid, gid } = pgUid();
      chownSync(dir, uid, gid);
    }
    const port = freePort();
    await asPostgres([`${bin}/initdb`, "-D", `${dir}/data`, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale", "--no-sync"]);
    // A throw-away cluster: durability off for speed; enough connections for every pool of a test file.
    const opts = `-k ${dir} -c listen_addresses=127.0.0.1 -p ${port} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=32MB`;
    await asPostgres([`${bin}/pg_ctl`, "-D", `${dir}/data`, "-l", `${dir}/server.log`, "-o", opts, "-w", "-t", "60", "start"]);
    const admin = new SQL(`postgres://postgres@127.0.0.1:${port}/postgres`, { max: 2 });
    return { dir, bin, port, admin };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

export interface TestDatabase {
  /** postgres://… of a database of its own */
  url: string;
  /** drops it (closing whatever still holds a connection) */
  drop(): Promise<void>;
}

/** A new, empty database on the run's cluster (started on first call). */
export async function freshDatabase(): Promise<TestDatabase> {
  cluster ??= startCluster();
  const c = await cluster;
  const name = `t_${crypto.randomUUID().replaceAll("-", "")}`;
  await c.admin.unsafe(`CREATE DATABASE ${name}`);
  return {
    url: `postgres://postgres@127.0.0.1:${c.port}/${name}`,
    drop: async () => void (await c.admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

/** Stops the run's cluster, if one was started, and removes its folder. */
export async function stopTestPostgres(): Promise<void> {
  if (!cluster) return;
  const c = await cluster.catch(() => null);
  cluster = null;
  if (!c) return;
  await c.admin.close().catch(() => {});
  await asPostgres([`${c.bin}/pg_ctl`, "-D", `${c.dir}/data`, "-m", "immediate", "-w", "stop"]).catch((err) => console.error(err));
  rmSync(c.dir, { recursive: true, force: true });
}
