/**
 * `bun run bench`: linkpack against `curl --parallel` + `zip` on generated
 * corpora, side by side in one run; writes BENCHMARKS.md (and the raw
 * numbers to .bench/results.json). Options: see args.ts. This file only
 * wires: corpora, the corpus nginx, the stack, the sections, the report,
 * and the cleanup (also on SIGINT/SIGTERM).
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { ROOT, type Config } from "../../servers/shared/config.ts";
import { brokerUrl } from "../../servers/shared/brokerauth.ts";
import { spreadSubfolders } from "../../servers/shared/spreadfolders.ts";
import { freePort } from "../lib/ports.ts";
import { parseArgs, UsageError } from "./args.ts";
import { benchConfig, cleanStale, startBenchStack, stopBenchStack } from "./benchstack.ts";
import { ensureCorpus, pruneOldVersions, type Corpus, type CorpusName } from "./corpora.ts";
import { startCorpusServer, type CorpusServer } from "./corpusnginx.ts";
import { EventHub } from "./events.ts";
import { machineMeta } from "./machine.ts";
import { renderReport, withKeptSections } from "./report.ts";
import type { BenchResults } from "./results.ts";
import { measureEvents } from "./eventsbench.ts";
import { measureCorpus, measureThroughput, roundsFor, THROUGHPUT_ROUNDS, urlsOf, warmUp, type Ctx } from "./runner.ts";
import { runSoak, SOAK_SETTINGS } from "./soak.ts";

const BENCH = `${ROOT}/.bench`;
const say = (s: string) => console.log(s);

/** The report file as it is before this run (its kept sections survive), or null. */
function previousReport(out: string): string | null {
  try {
    return readFileSync(resolve(ROOT, out), "utf8");
  } catch {
    return null;
  }
}

let args;
try {
  args = parseArgs(Bun.argv.slice(2));
} catch (e) {
  if (!(e instanceof UsageError)) throw e;
  console.error(`bench: ${e.message}`);
  process.exit(2);
}

if (args.render) {
  const results = JSON.parse(readFileSync(`${BENCH}/results.json`, "utf8")) as BenchResults;
  writeFileSync(resolve(ROOT, args.out), withKeptSections(renderReport(results), previousReport(args.out)));
  say(`re-rendered ${args.out} from .bench/results.json (${results.meta.date})`);
  process.exit(0);
}

let server: CorpusServer | null = null;
let config: Config | null = null;
let hub: EventHub | null = null;
let cleaning: Promise<void> | null = null;
const cleanup = () =>
  (cleaning ??= (async () => {
    await hub?.close();
    if (config) await stopBenchStack(config).catch((e) => console.error(`stopping the stack: ${e}`));
    await server?.stop();
  })());
for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.on(sig, () => {
    say(`\n${sig}: stopping the stack and the corpus nginx...`);
    void cleanup().finally(() => process.exit(130));
  });

try {
  const results: BenchResults = { meta: machineMeta(args), corpora: [], events: [] };
  const runDir = `${BENCH}/run`;
  await cleanStale(runDir);
  pruneOldVersions(`${BENCH}/corpora`);
  const needed = new Set<CorpusName>(["photos", ...args.corpora]);
  if (args.events || args.soak) needed.add("text");
  const corpora = new Map<CorpusName, Corpus>();
  for (const n of ["photos", "text", "big"] as const) if (needed.has(n)) corpora.set(n, await ensureCorpus(`${BENCH}/corpora`, n, say));

  const outDir = `${BENCH}/out`;
  server = await startCorpusServer(`${BENCH}/nginx`, freePort(), `${BENCH}/corpora`, outDir);
  const built = benchConfig(runDir, server.hostPort);
  config = built.config;
  say(`starting the stack (RUN_DIR ${runDir})...`);
  await startBenchStack(config, built.env);
  hub = await EventHub.open(brokerUrl(config, "observer"));
  // The baselines' one-folder-per-job work folder gets the same allocator hint as linkpack's (spreadfolders.ts).
  spreadSubfolders(`${BENCH}/work`, { debug: (m, f) => say(`${m} ${JSON.stringify(f)}`) });
  const ctx: Ctx = {
    config, hub, say,
    web: `http://${config.HOST}:${config.PORT}`,
    corpusOrigin: server.origin,
    baseline: { work: `${BENCH}/work`, outDir, origin: server.origin, secret: randomBytes(24).toString("base64url") },
  };

  for (const n of args.corpora.filter((n) => n !== "big")) {
    say(`warming up for ${n}...`);
    await warmUp(ctx, corpora.get(n)!);
    say(`corpus ${n}:`);
    results.corpora.push(await measureCorpus(ctx, corpora.get(n)!, roundsFor(n, args.rounds)));
  }
  if (args.throughput) {
    say("throughput:");
    results.throughput = await measureThroughput(ctx, corpora.get("photos")!, args.jobs, Math.min(THROUGHPUT_ROUNDS, args.rounds));
  }
  if (args.events) {
    say("progress events on/off:");
    results.events = await measureEvents(ctx, [corpora.get("photos")!, corpora.get("text")!], args.rounds);
  }
  if (args.corpora.includes("big")) {
    // the events section restarts the downloader and compressor: warm again, with a job of this corpus
    say("warming up for big...");
    await warmUp(ctx, corpora.get("big")!);
    say("corpus big:");
    results.corpora.push(await measureCorpus(ctx, corpora.get("big")!, roundsFor("big", args.rounds)));
  }
  if (args.soak) {
    // on a stack of its own, with short lifetimes: the main one stops first
    await hub.close();
    await stopBenchStack(config);
    const soak = benchConfig(`${BENCH}/soak`, server.hostPort, SOAK_SETTINGS);
    config = soak.config;
    say(`soak: ${args.soakJobs} jobs (RUN_DIR ${config.RUN_DIR})...`);
    await cleanStale(config.RUN_DIR);
    await startBenchStack(config, soak.env);
    hub = await EventHub.open(brokerUrl(config, "observer"));
    const text = corpora.get("text")!;
    const urls = urlsOf(ctx, { ...text, files: text.files.slice(0, 3) });
    results.soak = await runSoak({ config, web: `http://${config.HOST}:${config.PORT}`, hub, urls, jobs: args.soakJobs, say });
  }

  results.meta.loadEnd = loadavg()[0]!;
  writeFileSync(`${BENCH}/results.json`, JSON.stringify(results, null, 1));
  const report = renderReport(results);
  writeFileSync(resolve(ROOT, args.out), withKeptSections(report, previousReport(args.out)));
  say(`\n${report}`);
  say(`wrote ${args.out} (raw numbers in .bench/results.json)`);
} catch (e) {
  console.error(`bench failed: ${e instanceof Error ? e.stack ?? e.message : e}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
