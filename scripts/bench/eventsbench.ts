/**
 * @module eventsbench
 * Do progress events cost throughput? The same jobs with the publishers
 * (downloader, compressor) restarted in three modes: "on" (the configured
 * PROGRESS_INTERVAL_MS, default 100), "off" (a one-day interval: only each
 * file's final event, and the archive's first and last) and "unthrottled" (0: an event per chunk,
 * the worst case the throttle exists to avoid). Modes rotate from round to
 * round so that drift cancels, and after each restart untimed jobs warm the
 * restarted servers up; each block records time to link, events per job and
 * the stack's CPU per job (steadier than wall time on a busy box).
 */
import { restartWithInterval } from "./benchstack.ts";
import type { Corpus } from "./corpora.ts";
import { runJob } from "./linkpack.ts";
import { cpuBetween, sample } from "./procstats.ts";
import { EVENT_MODES, type EventMode, type EventsResult } from "./results.ts";
import { secs, timeoutOf, urlsOf, warmJobs, type Ctx } from "./runner.ts";

const OFF_MS = 86_400_000;
/** Jobs per corpus, mode and round: about 0.5-2 s of work, so one block is not just jitter. */
const REPEATS: Record<string, number> = { photos: 6, text: 3 };
/**
 * Untimed jobs per corpus after each restart, before the block is measured:
 * a restarted server runs its first dozen jobs or so 1.5-3x slower (its JIT
 * has compiled nothing yet; runner.ts WARM_UP_JOBS), which would otherwise
 * weigh on whichever mode follows a restart.
 */
const WARM_AFTER_RESTART: Record<string, number> = { photos: 20, text: 4 };

const rotate = <T>(xs: readonly T[], by: number) => xs.map((_, i) => xs[(i + by) % xs.length]!);

export async function measureEvents(ctx: Ctx, corpora: Corpus[], rounds: number): Promise<EventsResult[]> {
  const intervals: Record<EventMode, number> = { on: ctx.config.PROGRESS_INTERVAL_MS, off: OFF_MS, unthrottled: 0 };
  const empty = () => ({ linkMs: [] as number[], events: [] as number[], cpuMs: [] as number[] });
  const out = corpora.map((c): EventsResult => ({
    corpus: c.name, intervals, repeats: REPEATS[c.name] ?? 3, modes: { on: empty(), off: empty(), unthrottled: empty() },
  }));
  let current = intervals.on;
  try {
    for (let r = 0; r < rounds; r++) {
      for (const mode of rotate(EVENT_MODES, r)) {
        if (intervals[mode] !== current) {
          await restartWithInterval(ctx.config, (current = intervals[mode]));
          for (const c of corpora) await warmJobs(ctx, c, WARM_AFTER_RESTART[c.name] ?? 4);
        }
        for (const [i, c] of corpora.entries()) {
          const m = out[i]!.modes[mode];
          const before = sample(ctx.config.RUN_DIR);
          for (let k = 0; k < out[i]!.repeats; k++) {
            const lp = await runJob(ctx.web, ctx.hub, urlsOf(ctx, c), { fetch: false, timeoutMs: timeoutOf(c) });
            m.linkMs.push(lp.linkMs);
            m.events.push(lp.events);
          }
          const cpu = Object.values(cpuBetween(before, sample(ctx.config.RUN_DIR))).reduce((a, b) => a + b, 0);
          m.cpuMs.push(cpu / out[i]!.repeats);
        }
      }
      ctx.say(`  events round ${r + 1}/${rounds}: ` + out.map((e) => `${e.corpus} ${EVENT_MODES.map((m) => `${m} ${secs(e.modes[m].linkMs.at(-1)!)}`).join(" ")}`).join(", "));
    }
  } finally {
    if (current !== intervals.on) await restartWithInterval(ctx.config, intervals.on);
  }
  return out;
}
