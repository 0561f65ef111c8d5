/**
 * @module runner
 * The measured sections of a run: a corpus (linkpack and its baselines
 * alternating, round after round), 50 concurrent jobs, and progress events
 * on versus off. Each section reports the stack's peak RSS and CPU.
 */
import type { Config } from "../../servers/shared/config.ts";
import { gzipReference, runBaseline, type BaselineEnv, type BaselineKind } from "./baseline.ts";
import { restartWithInterval } from "./benchstack.ts";
import type { Corpus } from "./corpora.ts";
import type { EventHub } from "./events.ts";
import { runJob } from "./linkpack.ts";
import { cpuBetween, resetPeaks, sample } from "./procstats.ts";
import type { CorpusResult, EventsResult, ProcUsage, ThroughputResult } from "./results.ts";

export interface Ctx {
  config: Config;
  web: string;
  hub: EventHub;
  corpusOrigin: string;
  baseline: BaselineEnv;
  say: (s: string) => void;
}

export const urlsOf = (ctx: Ctx, c: Corpus) => c.files.map((f) => `${ctx.corpusOrigin}${c.urlPath}/${f.name}`);
const timeoutOf = (c: Corpus) => (c.totalBytes > 500e6 ? 900_000 : 180_000);
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

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

export const baselinesFor = (c: Corpus): BaselineKind[] => (c.name === "big" ? ["zip0"] : ["zip", "zip-n"]);

/** Untimed: one linkpack job and one baseline, so caches and JITs are warm. */
export async function warmUp(ctx: Ctx, c: Corpus): Promise<void> {
  await runJob(ctx.web, ctx.hub, urlsOf(ctx, c), { fetch: true, timeoutMs: timeoutOf(c) });
  await runBaseline("zip", urlsOf(ctx, c), ctx.baseline);
}

/** `rounds` rounds of linkpack, then each baseline, then gzip -6 (not for big: stored, and 40 s of gzip on random bytes). */
export async function measureCorpus(ctx: Ctx, c: Corpus, rounds: number): Promise<CorpusResult> {
  const res: CorpusResult = { corpus: c.name, files: c.files.length, totalBytes: c.totalBytes, linkpack: [], baselines: {}, gzip: [], usage: null! };
  const urls = urlsOf(ctx, c);
  const [, usage] = await measured(ctx, async () => {
    for (let r = 0; r < rounds; r++) {
      const lp = await runJob(ctx.web, ctx.hub, urls, { fetch: true, timeoutMs: timeoutOf(c) });
      res.linkpack.push(lp);
      let line = `  ${c.name} round ${r + 1}/${rounds}: linkpack ${secs(lp.linkMs)} (downloaded ${secs(lp.downloadedMs!)})`;
      for (const kind of baselinesFor(c)) {
        const b = await runBaseline(kind, urls, ctx.baseline);
        (res.baselines[kind] ??= []).push(b);
        line += `, ${kind} ${secs(b.linkMs)}`;
      }
      if (c.name !== "big") res.gzip.push(await gzipReference(c.files.map((f) => `${c.dir}/${f.name}`)));
      ctx.say(line);
    }
  });
  res.usage = usage;
  return res;
}

/** `n` jobs of corpus `c` submitted at once; time to link of each. */
export async function measureThroughput(ctx: Ctx, c: Corpus, n: number): Promise<ThroughputResult> {
  const urls = urlsOf(ctx, c);
  const [settled, usage] = await measured(ctx, () =>
    Promise.allSettled(Array.from({ length: n }, () => runJob(ctx.web, ctx.hub, urls, { fetch: false, timeoutMs: 600_000 }))),
  );
  const ok = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failures = settled.flatMap((s) => (s.status === "rejected" ? [String(s.reason)] : []));
  ctx.say(`  ${n} concurrent ${c.name} jobs: ${ok.length} done in ${secs(usage.wallMs)}`);
  return { jobs: n, files: c.files.length, wallMs: usage.wallMs, linkMs: ok.map((r) => r.linkMs), failures, usage };
}

export const EVENTS_OFF_MS = 86_400_000;

/**
 * Time to link with progress events throttled (the configured interval) and
 * off (only first and last per file), alternating on/off, off/on, ... so
 * that drift cancels; the publishers are restarted only when the mode changes.
 */
export async function measureEvents(ctx: Ctx, corpora: Corpus[], rounds: number): Promise<EventsResult[]> {
  const on = ctx.config.PROGRESS_INTERVAL_MS;
  const out = corpora.map((c): EventsResult => ({ corpus: c.name, intervalOnMs: on, on: [], off: [], eventsOn: [], eventsOff: [] }));
  let current = on;
  try {
    for (let r = 0; r < rounds; r++) {
      for (const mode of r % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const)) {
        const interval = mode === "on" ? on : EVENTS_OFF_MS;
        if (interval !== current) await restartWithInterval(ctx.config, (current = interval));
        for (const [i, c] of corpora.entries()) {
          const lp = await runJob(ctx.web, ctx.hub, urlsOf(ctx, c), { fetch: false, timeoutMs: timeoutOf(c) });
          out[i]![mode].push(lp.linkMs);
          out[i]![mode === "on" ? "eventsOn" : "eventsOff"].push(lp.events);
        }
      }
      ctx.say(`  events round ${r + 1}/${rounds}: ${out.map((e) => `${e.corpus} on ${secs(e.on.at(-1)!)} off ${secs(e.off.at(-1)!)}`).join(", ")}`);
    }
  } finally {
    if (current !== on) await restartWithInterval(ctx.config, on);
  }
  return out;
}
