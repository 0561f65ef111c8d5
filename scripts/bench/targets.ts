/**
 * @module targets
 * The performance targets, each evaluated on a run's results into
 * "met", "missed" or "not measured" with the numbers behind it.
 */
import { levelled } from "./soakreport.ts";
import { median, mbPerSec, percentile, ratio, relDiff } from "./stats.ts";
import type { BenchResults, CorpusResult, EventsResult } from "./results.ts";
import { MEASURED, type Measured } from "./procstats.ts";

export interface Verdict {
  target: string;
  measured: string;
  met: boolean | null;
}

/** Linkpack's own processes, to which the 150 MB target applies (the broker is third-party infrastructure). */
export const OWN: Measured[] = MEASURED.filter((p) => p !== "rabbitmq");
export const PEAK_LIMIT = 150 * 1024 * 1024;
const pct = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;
const x2 = (x: number) => `${x.toFixed(2)}x`;

export const linkMedian = (c: CorpusResult) => median(c.linkpack.map((r) => r.linkMs));
export const baseMedian = (c: CorpusResult, kind: "zip" | "zip-n" | "zip0") => median((c.baselines[kind] ?? []).map((r) => r.linkMs));
export const sizeOf = (c: CorpusResult, kind: "zip" | "zip-n" | "zip0") => median((c.baselines[kind] ?? []).map((r) => r.archiveBytes));
export const lpSize = (c: CorpusResult) => median(c.linkpack.map((r) => r.archiveBytes));
/** linkpack's zip step throughput (input MB / compress phase), median over rounds */
export const zipStepMBs = (c: CorpusResult) => median(c.linkpack.map((r) => mbPerSec(c.totalBytes, r.phases.compress)));
export const gzipMBs = (c: CorpusResult) => (c.gzip.length ? median(c.gzip.map((g) => mbPerSec(c.totalBytes, g.ms))) : NaN);

export function verdicts(r: BenchResults): Verdict[] {
  const by = (n: string) => r.corpora.find((c) => c.corpus === n);
  const out: Verdict[] = [];
  const photos = by("photos"), text = by("text"), big = by("big");

  if (photos) {
    const t = ratio(linkMedian(photos), baseMedian(photos, "zip"));
    const s = relDiff(lpSize(photos), sizeOf(photos, "zip"));
    out.push({ target: "photos: end to end (POST → link) < 1.0x curl + zip -r, archive ≤ 1% larger than zip -r's", measured: `${x2(t)}, archive ${pct(s)}`, met: t < 1 && s <= 0.01 });
  } else out.push({ target: "photos: end to end < 1.0x curl + zip -r", measured: "not run", met: null });

  if (text) {
    const s = relDiff(lpSize(text), sizeOf(text, "zip"));
    const tp = ratio(zipStepMBs(text), gzipMBs(text));
    out.push({ target: "text: archive within 2% of zip -r's, zip step ≥ 0.8x gzip -6 throughput", measured: `archive ${pct(s)}, zip step ${x2(tp)} (${zipStepMBs(text).toFixed(1)} vs ${gzipMBs(text).toFixed(1)} MB/s)`, met: s <= 0.02 && tp >= 0.8 });
  } else out.push({ target: "text: archive within 2% of zip -r's, zip step ≥ 0.8x gzip -6", measured: "not run", met: null });

  if (big) {
    const t = ratio(linkMedian(big), baseMedian(big, "zip0"));
    const worst = OWN.map((p) => [p, big.usage.peaks[p]?.peakRss ?? 0] as const).sort((a, b) => b[1] - a[1])[0]!;
    out.push({ target: "big: end to end within 1.3x curl + zip -0, no linkpack process above 150 MB peak RSS", measured: `${x2(t)}, largest peak ${worst[0]} ${(worst[1] / 2 ** 20).toFixed(0)} MiB`, met: t <= 1.3 && worst[1] <= PEAK_LIMIT });
  } else out.push({ target: "big: within 1.3x curl + zip -0, peak RSS ≤ 150 MB", measured: "not run", met: null });

  const tp = r.throughput;
  if (tp) {
    const done = tp.linkMs.length;
    const p95 = done ? `${(percentile(tp.linkMs, 95) / 1000).toFixed(2)} s` : "n/a";
    out.push({ target: `${tp.jobs} concurrent photos jobs all complete`, measured: `${done}/${tp.jobs} done, ${(done / (tp.wallMs / 1000)).toFixed(2)} jobs/s, p95 ${p95}`, met: done === tp.jobs && tp.failures.length === 0 });
  } else out.push({ target: "50 concurrent photos jobs all complete", measured: "not run", met: null });

  if (r.events.length) {
    const d = (e: EventsResult, k: "linkMs" | "cpuMs") => relDiff(median(e.modes.on[k]), median(e.modes.off[k]));
    out.push({
      target: "progress events on vs off: time to link differs < 5%",
      measured: r.events.map((e) => `${e.corpus} ${pct(d(e, "linkMs"))} (CPU ${pct(d(e, "cpuMs"))}; ${median(e.modes.on.events)} vs ${median(e.modes.off.events)} events/job)`).join(", "),
      met: r.events.every((e) => d(e, "linkMs") < 0.05),
    });
  } else out.push({ target: "progress events on vs off < 5%", measured: "not run", met: null });

  if (r.soak) {
    const l = levelled(r.soak);
    out.push({
      target: "soak: disk, stored rows and memory level off under load (last third ≤ 1.5x the middle third), every job done",
      measured: `${r.soak.done}/${r.soak.jobs} jobs; largest growth ${l.worst[1].toFixed(2)} (${l.worst[0]})`,
      met: l.met && r.soak.done === r.soak.jobs,
    });
  } else out.push({ target: "soak levels off", measured: "not run", met: null });
  return out;
}
