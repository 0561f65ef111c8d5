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

/** The floor (download alone + write and fsync alone), median over rounds; NaN when not measured. */
export const floorMedian = (c: CorpusResult) => ((c.floor ?? []).length ? median(c.floor.map((f) => f.linkMs)) : NaN);

/** Photos: POST → link at most this many times the best hand-made pipeline (zip -n, storing media). */
export const PHOTOS_VS_ZIP_N = 1.0;
/** Text: POST → link at most this many times curl + zip -r. */
export const TEXT_VS_ZIP = 0.3;
/** Big: POST → link at most this many times the floor measured in the same run. */
export const BIG_VS_FLOOR = 1.15;
/** Throughput: wall time at most this many times the hand-made pipeline doing the same jobs. */
export const THROUGHPUT_VS_PIPELINE = 1.0;

export function verdicts(r: BenchResults): Verdict[] {
  const by = (n: string) => r.corpora.find((c) => c.corpus === n);
  const out: Verdict[] = [];
  const photos = by("photos"), text = by("text"), big = by("big");
  const vsFloor = (c: CorpusResult) => ratio(linkMedian(c), floorMedian(c));

  if (photos) {
    const t = ratio(linkMedian(photos), baseMedian(photos, "zip-n"));
    const s = relDiff(lpSize(photos), sizeOf(photos, "zip"));
    out.push({
      target: `photos: POST → link ≤ ${PHOTOS_VS_ZIP_N.toFixed(1)}x curl --parallel + zip -n (store media) + fsync, archive within 1% of zip -r's size`,
      measured: `${x2(t)} (${x2(ratio(linkMedian(photos), baseMedian(photos, "zip")))} of zip -r, ${x2(vsFloor(photos))} of the floor), archive ${pct(s)}`,
      met: t <= PHOTOS_VS_ZIP_N && Math.abs(s) <= 0.01,
    });
  } else out.push({ target: `photos: ≤ ${PHOTOS_VS_ZIP_N.toFixed(1)}x curl + zip -n`, measured: "not run", met: null });

  if (text) {
    const t = ratio(linkMedian(text), baseMedian(text, "zip"));
    const s = relDiff(lpSize(text), sizeOf(text, "zip"));
    const tp = ratio(zipStepMBs(text), gzipMBs(text));
    out.push({
      target: `text: POST → link ≤ ${TEXT_VS_ZIP.toFixed(2)}x curl --parallel + zip -r + fsync, archive no larger than zip -r's`,
      measured: `${x2(t)} (${x2(vsFloor(text))} of the floor), archive ${pct(s)}; zip step ${zipStepMBs(text).toFixed(1)} MB/s, ${x2(tp)} gzip -6`,
      met: t <= TEXT_VS_ZIP && s <= 0,
    });
  } else out.push({ target: `text: ≤ ${TEXT_VS_ZIP.toFixed(2)}x curl + zip -r`, measured: "not run", met: null });

  if (big) {
    const t = vsFloor(big);
    const worst = OWN.map((p) => [p, big.usage.peaks[p]?.peakRss ?? 0] as const).sort((a, b) => b[1] - a[1])[0]!;
    out.push({
      target: `big: POST → link ≤ ${BIG_VS_FLOOR.toFixed(2)}x the floor (download alone + write and fsync alone, same run), no linkpack process above 150 MiB peak RSS`,
      measured: `${x2(t)} of the floor (${x2(ratio(linkMedian(big), baseMedian(big, "zip0")))} of zip -0), largest peak ${worst[0]} ${(worst[1] / 2 ** 20).toFixed(0)} MiB`,
      met: t <= BIG_VS_FLOOR && worst[1] <= PEAK_LIMIT,
    });
  } else out.push({ target: `big: ≤ ${BIG_VS_FLOOR.toFixed(2)}x the floor, peak RSS ≤ 150 MiB`, measured: "not run", met: null });

  const tp = r.throughput;
  if (tp) {
    const done = tp.linkMs.length, all = tp.jobs * (tp.rounds ?? 1);
    const p95 = done ? `${(percentile(tp.linkMs, 95) / 1000).toFixed(2)} s` : "n/a";
    const vs = tp.pipeline ? ratio(tp.wallMs, tp.pipeline.wallMs) : NaN;
    const rounds = (tp.rounds ?? 1) > 1 ? `, medians of ${tp.rounds} rounds` : "";
    const pipe = tp.pipeline ? `${x2(vs)} of the pipeline (${(tp.wallMs / 1000).toFixed(2)} vs ${(tp.pipeline.wallMs / 1000).toFixed(2)} s${rounds})` : "pipeline not run";
    out.push({
      target: `throughput: ${tp.jobs} photos jobs at once all complete, wall ≤ ${THROUGHPUT_VS_PIPELINE.toFixed(1)}x curl --parallel + zip -n + fsync doing the same jobs ${tp.pipeline?.parallel ?? 8} at once`,
      measured: `${done}/${all} done, ${pipe}, p95 POST → link ${p95}`,
      met: done === all && tp.failures.length === 0 && vs <= THROUGHPUT_VS_PIPELINE,
    });
  } else out.push({ target: "throughput: concurrent photos jobs vs the pipeline", measured: "not run", met: null });

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
