/**
 * @module runner
 * The measured sections of a run: a corpus (linkpack and its baselines
 * alternating, round after round) and many jobs at once against the
 * hand-made pipeline doing the same jobs, in alternating rounds. Each section
 * reports the stack's peak RSS and CPU. (Events on/off: eventsbench.ts.)
 */
import type { Config } from "../../servers/shared/config.ts";
import { gzipReference, runBaseline, runFloor, runPipelineJobs, type BaselineEnv, type BaselineKind } from "./baseline.ts";
import type { Corpus } from "./corpora.ts";
import type { EventHub } from "./events.ts";
import { runJob } from "./linkpack.ts";
import { cpuBetween, resetPeaks, sample } from "./procstats.ts";
import type { CorpusResult, ProcUsage, ThroughputResult } from "./results.ts";
import { median } from "./stats.ts";

export interface Ctx {
  config: Config;
  web: string;
  hub: EventHub;
  corpusOrigin: string;
  baseline: BaselineEnv;
  say: (s: string) => void;
}

export const urlsOf = (ctx: Ctx, c: Corpus) => c.files.map((f) => `${ctx.corpusOrigin}${c.urlPath}/${f.name}`);
export const timeoutOf = (c: Corpus) => (c.totalBytes > 500e6 ? 900_000 : 180_000);
export const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Runs `fn` with the stack's peak RSS reset before and read after. */
async function measured<T>(ctx: Ctx, fn: () => Promise<T>): Promise<[T, ProcUsage]> {
  resetPeaks(ctx.config.RUN_DIR);
  const before = sample(ctx.config.RUN_DIR);
  const t0 = performance.now();
  const out = await fn();
  const wallMs = performance.now() - t0;
  const after = sample(ctx.config.RUN_DIR);
  return [out, { peaks: after, cpuMs: cpuBetween(before, after), wallMs }];
}

/**
 * Rounds of a corpus section in a run of `rounds`: the small corpora's runs
 * take a tenth of a second to half a second, within which this machine's
 * jitter is ±15 %, so they get three times as many (a second or so each);
 * the big one's take seconds.
 */
export const roundsFor = (corpus: Corpus["name"], rounds: number) => (corpus === "big" ? rounds : 3 * rounds);

export const baselinesFor = (c: Corpus): BaselineKind[] => (c.name === "big" ? ["zip0"] : ["zip", "zip-n"]);

/**
 * Untimed jobs of each corpus before its section. A server that has run for
 * a while has its hot code compiled by the JIT's top tiers; a fresh one takes
 * dozens of jobs to get there (here the first photos jobs took 0.18–0.30 s,
 * the ones after the fifth 0.10–0.13 s, and rounds after 20 warm-up jobs
 * still went from 0.11 to 0.09 s), and the baselines are native programs
 * with nothing to warm up. So linkpack is measured warm, as it runs for its
 * users.
 */
export const WARM_UP_JOBS: Record<Corpus["name"], number> = { photos: 40, text: 10, big: 1 };

/** Untimed: `n` linkpack jobs of corpus `c`, one after another. */
export async function warmJobs(ctx: Ctx, c: Corpus, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await runJob(ctx.web, ctx.hub, urlsOf(ctx, c), { fetch: true, timeoutMs: timeoutOf(c) });
}

/** Untimed: `WARM_UP_JOBS` linkpack jobs and one run of the corpus's first baseline, so caches and JITs are warm. */
export async function warmUp(ctx: Ctx, c: Corpus): Promise<void> {
  await warmJobs(ctx, c, WARM_UP_JOBS[c.name]);
  await runBaseline(baselinesFor(c)[0]!, urlsOf(ctx, c), ctx.baseline);
}

/**
 * Untimed, before every timed run: the disk is made to write what earlier
 * runs (or sections) left dirty, so no run pays for another's writes.
 */
export function settleDisk(): void {
  Bun.spawnSync(["sync"]);
}

/**
 * `rounds` rounds of linkpack, each baseline and the floor, the order turned
 * by one each round (so no pipeline always runs right after the same
 * other), each run after `settleDisk`; gzip -6 after each round (not for big:
 * stored, and 40 s of gzip on random bytes).
 */
export async function measureCorpus(ctx: Ctx, c: Corpus, rounds: number): Promise<CorpusResult> {
  const res: CorpusResult = { corpus: c.name, files: c.files.length, totalBytes: c.totalBytes, linkpack: [], baselines: {}, floor: [], gzip: [], usage: null! };
  const urls = urlsOf(ctx, c);
  const runs: [label: string, run: () => Promise<number>][] = [
    ["linkpack", async () => {
      const lp = await runJob(ctx.web, ctx.hub, urls, { fetch: true, timeoutMs: timeoutOf(c) });
      res.linkpack.push(lp);
      return lp.linkMs;
    }],
    ...baselinesFor(c).map((kind): [string, () => Promise<number>] => [kind, async () => {
      const b = await runBaseline(kind, urls, ctx.baseline);
      (res.baselines[kind] ??= []).push(b);
      return b.linkMs;
    }]),
    ["floor", async () => {
      const f = await runFloor(urls, ctx.baseline);
      res.floor.push(f);
      return f.linkMs;
    }],
  ];
  const [, usage] = await measured(ctx, async () => {
    for (let r = 0; r < rounds; r++) {
      const said: string[] = [];
      for (let i = 0; i < runs.length; i++) {
        const [label, run] = runs[(r + i) % runs.length]!;
        settleDisk();
        said.push(`${label} ${secs(await run())}`);
      }
      if (c.name !== "big") res.gzip.push(await gzipReference(c.files.map((f) => `${c.dir}/${f.name}`)));
      ctx.say(`  ${c.name} round ${r + 1}/${rounds}: ${said.join(", ")}`);
    }
  });
  res.usage = usage;
  return res;
}

/** How many jobs at once the hand-made pipeline runs in the throughput section. */
export const PIPELINE_PARALLEL = 8;
/** Rounds of the throughput section (fewer when the run has fewer rounds). */
export const THROUGHPUT_ROUNDS = 3;

/**
 * `n` jobs of corpus `c` submitted at once (time to link of each), and the
 * same `n` jobs by the hand-made pipeline, PIPELINE_PARALLEL at once, in
 * `rounds` rounds, which of the two goes first turned each round, each side
 * after `settleDisk`; wall times are the medians over rounds.
 */
export async function measureThroughput(ctx: Ctx, c: Corpus, n: number, rounds: number): Promise<ThroughputResult> {
  const urls = urlsOf(ctx, c);
  const walls: number[] = [], pipeWalls: number[] = [], usages: ProcUsage[] = [];
  const res: ThroughputResult = {
    jobs: n, files: c.files.length, rounds, wallMs: NaN, wallsMs: walls, linkMs: [], phases: [], failures: [], usage: null!,
    pipeline: { parallel: PIPELINE_PARALLEL, wallMs: NaN, wallsMs: pipeWalls, jobMs: [] },
  };
  const linkpack = async () => {
    settleDisk();
    const [settled, usage] = await measured(ctx, () =>
      Promise.allSettled(Array.from({ length: n }, () => runJob(ctx.web, ctx.hub, urls, { fetch: false, timeoutMs: 600_000 }))),
    );
    for (const s of settled) {
      if (s.status === "fulfilled") res.linkMs.push(s.value.linkMs), res.phases.push(s.value.phases);
      else res.failures.push(String(s.reason));
    }
    walls.push(usage.wallMs), usages.push(usage);
    return `linkpack ${secs(usage.wallMs)} (${settled.filter((s) => s.status === "fulfilled").length} done)`;
  };
  const pipeline = async () => {
    settleDisk();
    const pipe = await runPipelineJobs(urls, ctx.baseline, n, PIPELINE_PARALLEL);
    pipeWalls.push(pipe.wallMs), res.pipeline!.jobMs.push(...pipe.jobMs);
    return `the pipeline ${secs(pipe.wallMs)}`;
  };
  for (let r = 0; r < rounds; r++) {
    const said = r % 2 === 0 ? [await linkpack(), await pipeline()] : [await pipeline(), await linkpack()];
    ctx.say(`  ${n} ${c.name} jobs at once, round ${r + 1}/${rounds}: ${said.join(", ")}`);
  }
  res.wallMs = median(walls);
  res.pipeline!.wallMs = median(pipeWalls);
  res.usage = usages[walls.indexOf([...walls].sort((a, b) => a - b)[Math.floor((walls.length - 1) / 2)]!)]!;
  return res;
}
