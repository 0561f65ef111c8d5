/**
 * @module world
 * Builds the whole cluster (hosts, broker cluster, PostgreSQL, file host,
 * every linkpack part) and takes it all down again. `teardown` is safe to
 * call at any point, twice, and from a signal handler.
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { ROOT } from "../../servers/shared/config.ts";
import { childEnv } from "../../scripts/lib/procs.ts";
import { Net, SUBNET, sweepLeftovers } from "./netns.ts";
import { startCluster, type RabbitNode } from "./rabbitcluster.ts";
import { startPostgres } from "./postgres.ts";
import { BROKER_HOSTS, FILE_PORT, LAYOUT, PARTS, declareTopologyOnce, fileOrigin, makeShared, mintSecrets, provisionHost, sourceConfig, startParts, type HostName, type Shared } from "./hosts.ts";
import { until } from "../support/wait.ts";

export interface World {
  dir: string;
  net: Net;
  nodes: RabbitNode[];
  shared: Shared;
  pgDir: string;
  /** seconds each phase of the set-up took */
  setup: Record<string, number>;
}

let current: { net: Net; dir: string; keep: boolean; why?: string } | null = null;

/** Builds everything; on failure tears down what it made and rethrows. */
export async function buildWorld(say: (s: string) => void): Promise<World> {
  const swept = [...sweepLeftovers(), ...sweepFolders()];
  if (swept.length) say(`removed leftovers of an earlier run: ${swept.join(", ")}`);
  const dir = mkdtempSync(`${tmpdir()}/${FOLDER_PREFIX}`);
  chmodSync(dir, 0o755);
  const net = new Net(`${dir}/logs`);
  current = { net, dir, keep: false };
  const setup: Record<string, number> = {};
  const phase = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    const v = await f();
    setup[name] = (Date.now() - t) / 1000;
    say(`  ${name}: ${setup[name]!.toFixed(1)} s`);
    return v;
  };
  net.up();
  for (const [name, n] of Object.entries(LAYOUT)) net.add(name, n);
  say(`${net.hosts.size} hosts on ${SUBNET}.0/24 (namespaces lpc-*)`);
  const pgDir = `${dir}/postgres`;
  const shared = makeShared(dir, "");
  mintSecrets(shared);
  net.run("files", "filehost", [process.execPath, `${ROOT}/test/cluster/filehost.ts`, net.host("files").ip, String(FILE_PORT)], childEnv(), { cwd: ROOT });
  const [pg, nodes] = await Promise.all([
    phase("postgresql", () => startPostgres(net, "pg", pgDir, SUBNET)),
    phase("rabbitmq cluster (3 nodes)", () => startCluster(net, BROKER_HOSTS, `${dir}/rabbitmq`, sourceConfig(shared))),
  ]);
  shared.databaseUrl = pg.url;
  await until("the file host to answer", async () => (await fetch(`${fileOrigin()}/_stats`).catch(() => null))?.ok, 30_000);
  await phase("topology", () => declareTopologyOnce(shared));
  await phase("linkpack parts", async () => {
    const order: HostName[][] = [["ngx1", "ngx2", "cz1", "cz2"], ["dl1", "dl2", "web1", "web2"]];
    for (const h of order.flat()) provisionHost(shared, h);
    // the compressors (and nginx) first: a downloader that finishes a job posts it to one
    for (const group of order) await Promise.all(group.map((h) => startParts(net, shared, h, PARTS[h]!)));
  });
  return { dir, net, nodes, shared, pgDir, setup };
}

const FOLDER_PREFIX = "linkpack-cluster-";
const KEPT = "KEPT";

/** Folders of earlier runs that crashed (a failed run's kept logs are marked and stay). */
function sweepFolders(): string[] {
  return readdirSync(tmpdir())
    .filter((n) => n.startsWith(FOLDER_PREFIX) && !existsSync(`${tmpdir()}/${n}/${KEPT}`))
    .map((n) => (rmSync(`${tmpdir()}/${n}`, { recursive: true, force: true }), n));
}

/** Keep the run's logs after teardown, for a failed run (its data, archives and downloads still go). */
export function keepFolder(why = "logs of a failed cluster test run"): string | null {
  if (!current) return null;
  current.keep = true;
  current.why = why;
  return current.dir;
}

/** Kills everything, removes the namespaces, the bridge and (unless kept) the run's folder. */
export function teardown(): string[] {
  if (!current) return [];
  const { net, dir, keep, why } = current;
  current = null;
  const errors = net.teardown();
  if (!keep) rmSync(dir, { recursive: true, force: true });
  else {
    for (const d of ["shared", "postgres/data", ...["mq1", "mq2", "mq3"].map((m) => `rabbitmq/${m}/mnesia`)]) rmSync(`${dir}/${d}`, { recursive: true, force: true });
    writeFileSync(`${dir}/${KEPT}`, `${why}\n`);
  }
  return errors;
}
