/**
 * @module soakreport
 * The soak's figures. While jobs keep coming, what is kept must level off:
 * for each quantity, the median of the last third of the samples taken
 * under load over that of the middle third (the first third is warm-up,
 * before retention has started): near 1 when levelled off, well above when
 * growing without bound. Also the largest value, the value after the pause
 * that follows the last job, and a few samples over time.
 */
import type { SoakResult, SoakSample } from "./results.ts";
import { median } from "./stats.ts";

/** What is compared, and how it is shown. */
const QUANTITIES: [string, (s: SoakSample) => number, (n: number) => string][] = [
  ["disk used under RUN_DIR", (s) => s.diskBytes, (n) => `${(n / 2 ** 20).toFixed(1)} MiB`],
  ["job store rows", (s) => s.jobRows, String],
  ["finished-job records", (s) => s.records, String],
  ["link guard rows", (s) => s.ledgerRows, String],
  ["messages waiting", (s) => s.queued, String],
  ["dead letters", (s) => s.deadLetters, String],
  ...(["web", "downloader", "compressor", "linkguard", "rabbitmq"] as const).map(
    (p) => [`${p} RSS`, (s: SoakSample) => s.rss[p] ?? 0, (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`] as [string, (s: SoakSample) => number, (n: number) => string],
  ),
];

/** The samples taken while jobs were still coming, in thirds: warm-up, middle, last. */
function thirds(r: SoakResult): [SoakSample[], SoakSample[], SoakSample[]] {
  const load = r.samples.filter((s) => s.t <= r.wallMs);
  const n = Math.floor(load.length / 3);
  return [load.slice(0, n), load.slice(n, 2 * n), load.slice(2 * n)];
}

/** Last third's median over the middle third's (1 when both are 0). */
export function growth(r: SoakResult, f: (s: SoakSample) => number): number {
  const [, mid, last] = thirds(r);
  const a = median(mid.map(f));
  const b = median(last.map(f));
  return a === 0 ? (b === 0 ? 1 : Infinity) : b / a;
}

/** The rows that must level off for the target: disk, stored rows and memory. */
export function levelled(r: SoakResult, limit = 1.5): { worst: [string, number]; met: boolean } {
  const watched = QUANTITIES.filter(([name]) => !/waiting|dead letters/.test(name));
  const ratios = watched.map(([name, f]) => [name, growth(r, f)] as [string, number]);
  const worst = ratios.reduce((a, b) => (b[1] > a[1] ? b : a));
  return { worst, met: thirds(r)[1].length > 0 && ratios.every(([, x]) => x <= limit) };
}

export function soakSection(r: SoakResult): string[] {
  const settings = Object.entries(r.settings).map(([k, v]) => `\`${k}=${v}\``).join(", ");
  const [, mid, last] = thirds(r);
  const end = r.samples.at(-1)!;
  const out = [
    `## Soak: ${r.done} of ${r.jobs} jobs (3 small files each, half the links downloaded, half left to expire) in ${(r.wallMs / 1000).toFixed(0)} s`,
    "",
    `On a stack of its own with ${settings}; one sample every 2 s, ${mid.length + last.length} of them in the middle and last thirds of the run. ` +
      "Growth = median of the last third of the samples / median of the middle third (the first third is warm-up, before retention starts): what is kept levels off near 1 while jobs keep coming. " +
      `"After" is the last sample, ${((end.t - r.wallMs) / 1000).toFixed(0)} s after the last job.${r.failures ? ` ${r.failures} jobs failed.` : ""}`,
    "",
    "| quantity | middle third (median) | last third (median) | growth | largest | after |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const [name, f, show] of QUANTITIES) {
    out.push(`| ${name} | ${show(median(mid.map(f)))} | ${show(median(last.map(f)))} | ${growth(r, f).toFixed(2)} | ${show(Math.max(...r.samples.map(f)))} | ${show(f(end))} |`);
  }
  const step = Math.max(1, Math.floor(r.samples.length / 8));
  out.push("", "| t, s | jobs done | disk | job rows | records | guard rows | waiting |", "| --- | --- | --- | --- | --- | --- | --- |");
  for (let i = 0; i < r.samples.length; i += step) {
    const s = r.samples[i]!;
    out.push(`| ${(s.t / 1000).toFixed(0)} | ${s.jobsDone} | ${(s.diskBytes / 2 ** 20).toFixed(1)} MiB | ${s.jobRows} | ${s.records} | ${s.ledgerRows} | ${s.queued} |`);
  }
  return out;
}
