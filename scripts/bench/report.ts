/**
 * @module report
 * Renders a run's results as BENCHMARKS.md: the machine, the targets with
 * their verdicts, then per corpus the times (median and min-max), ratios,
 * archive sizes, phases, zip-step throughput, and the stack's memory and CPU.
 */
import { roundsFor, WARM_UP_JOBS } from "./runner.ts";
import { soakSection } from "./soakreport.ts";
import { BASELINES, type BaselineKind } from "./baseline.ts";
import type { Phases } from "./linkpack.ts";
import { MEASURED } from "./procstats.ts";
import { EVENT_MODES, type BenchResults, type CorpusResult, type EventsResult, type ProcUsage } from "./results.ts";
import { median, percentile, ratio, relDiff, summarize } from "./stats.ts";
import { floorMedian, gzipMBs, lpSize, verdicts, zipStepMBs } from "./targets.ts";

const s = (ms: number) => (ms / 1000).toFixed(2);
const span = (xs: number[]) => {
  const m = summarize(xs);
  return `${s(m.median)} (${s(m.min)}–${s(m.max)})`;
};
const mb = (b: number) => (b / 1e6).toFixed(2);
const mib = (b: number) => (b / 2 ** 20).toFixed(0);
const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
const table = (head: string[], rows: (string | number)[][]) => [row(head), row(head.map(() => "---")), ...rows.map(row)].join("\n");

const FLOOR_LABEL = "floor: download alone + write and fsync alone";

function timesTable(c: CorpusResult): string {
  const lp = c.linkpack;
  const ref = c.baselines.zip ?? c.baselines.zip0!;
  const refLink = median(ref.map((r) => r.linkMs)), refDown = median(ref.map((r) => r.downloadedMs));
  const refSize = median(ref.map((r) => r.archiveBytes));
  const floor = floorMedian(c);
  const x = (a: number, b: number) => (Number.isNaN(ratio(a, b)) ? "–" : ratio(a, b).toFixed(2));
  const lpLink = median(lp.map((r) => r.linkMs));
  const rows: (string | number)[][] = [
    ["**linkpack**", span(lp.map((r) => r.linkMs)), x(lpLink, refLink), x(lpLink, floor), span(lp.map((r) => r.downloadedMs!)), x(median(lp.map((r) => r.downloadedMs!)), refDown), mb(lpSize(c)), x(lpSize(c), refSize)],
  ];
  for (const [kind, runs] of Object.entries(c.baselines) as [BaselineKind, NonNullable<CorpusResult["baselines"]["zip"]>][]) {
    const size = median(runs.map((r) => r.archiveBytes));
    const link = median(runs.map((r) => r.linkMs));
    rows.push([BASELINES[kind].label, span(runs.map((r) => r.linkMs)), x(link, refLink), x(link, floor), span(runs.map((r) => r.downloadedMs)), x(median(runs.map((r) => r.downloadedMs)), refDown), mb(size), ratio(size, refSize).toFixed(4)]);
  }
  if ((c.floor ?? []).length) rows.push([FLOOR_LABEL, span(c.floor.map((f) => f.linkMs)), x(floor, refLink), "1.00", "–", "–", "–", "–"]);
  rows[0]![7] = ratio(lpSize(c), refSize).toFixed(4);
  const vs = `× ${c.baselines.zip ? "zip -r" : "zip -0"}`;
  return table(["pipeline", "to link, s: median (min–max)", vs, "× floor", "to downloaded, s", vs, "archive MB", `size ${vs}`], rows);
}

function phasesTable(c: CorpusResult): string {
  const p = (k: keyof Phases) => s(median(c.linkpack.map((r) => r.phases[k])));
  const rows: (string | number)[][] = [["linkpack", `queue ${p("queue")} · download ${p("download")} · hand-off ${p("handoff")} · zip+publish ${p("compress")}`]];
  for (const [kind, runs] of Object.entries(c.baselines) as [BaselineKind, NonNullable<CorpusResult["baselines"]["zip"]>][]) {
    const q = (k: "curlMs" | "zipMs" | "fetchMs") => s(median(runs.map((r) => r.phases[k])));
    rows.push([BASELINES[kind].label, `curl ${q("curlMs")} · zip+fsync ${q("zipMs")} · sign 0.00 · fetch ${q("fetchMs")}`]);
  }
  if ((c.floor ?? []).length) rows.push([FLOOR_LABEL, `download ${s(median(c.floor.map((f) => f.downloadMs)))} · write+fsync ${s(median(c.floor.map((f) => f.archiveMs)))}`]);
  const lpFetch = median(c.linkpack.map((r) => r.downloadedMs! - r.linkMs));
  rows[0]![1] += ` · fetch ${s(lpFetch)}`;
  return table(["pipeline", "median phase times, s"], rows);
}

function usageTable(sections: [string, ProcUsage][]): string {
  const rows = MEASURED.map((p) => [p + (p === "rabbitmq" ? " (broker)" : ""), ...sections.map(([, u]) => {
    const peak = u.peaks[p]?.peakRss, cpu = u.cpuMs[p];
    return peak === undefined ? "–" : `${mib(peak)} MiB · ${s(cpu ?? 0)} s (${(((cpu ?? 0) / u.wallMs) * 100).toFixed(0)}%)`;
  })]);
  rows.push(["wall time", ...sections.map(([, u]) => `${s(u.wallMs)} s`)]);
  return table(["process", ...sections.map(([n]) => `${n}: peak RSS · CPU (of wall)`)], rows);
}

function eventsTable(evs: EventsResult[]): string {
  const rows = evs.flatMap((e) => EVENT_MODES.map((mode) => {
    const m = e.modes[mode], off = e.modes.off;
    const vs = (a: number[], b: number[]) => `${(relDiff(median(a), median(b)) * 100).toFixed(1)}%`;
    return [e.corpus, `${mode} (${e.intervals[mode]} ms)`, span(m.linkMs), mode === "off" ? "–" : vs(m.linkMs, off.linkMs), median(m.events), `${s(median(m.cpuMs))}`, mode === "off" ? "–" : vs(m.cpuMs, off.cpuMs)];
  }));
  return [
    `Modes: PROGRESS_INTERVAL_MS as configured (on), one day (off: each file sends only its final event), 0 (unthrottled). Downloader and compressor are restarted when the mode changes, then warmed up with untimed jobs; the order of modes rotates each round; ${evs.map((e) => `${e.repeats} ${e.corpus}`).join(" and ")} jobs per mode and round. CPU is the whole stack's (broker included) per job.`,
    "",
    table(["corpus", "mode (interval)", "to link, s: median (min–max)", "vs off", "events per job", "stack CPU per job, s", "vs off"], rows),
  ].join("\n");
}

export function renderReport(r: BenchResults): string {
  const m = r.meta;
  const out: string[] = [
    "# Benchmarks",
    "",
    "Generated by `bun run bench` (scripts/bench/); do not edit by hand. Re-run to refresh.",
    "",
    `- date: ${m.date}; command: \`${["bun run bench", m.args].filter(Boolean).join(" ")}\`; rounds: ${m.rounds} (photos and text ${roundsFor("photos", m.rounds)}; linkpack, baselines and floor alternating within each round, the order turned each round)`,
    `- machine: ${m.cpus} × ${m.cpuModel}, ${m.memGiB} GiB RAM, ${m.kernel}`,
    `- Bun ${m.bun}; ${Object.values(m.tools).join("; ")}`,
    `- load average (1 min) at start ${m.loadStart.toFixed(2)}, at end ${m.loadEnd.toFixed(2)} (other work on the machine skews the numbers)`,
    "",
    "## Targets",
    "",
    table(["target", "measured", "met"], verdicts(r).map((v) => [v.target, v.measured, v.met === null ? "not run" : v.met ? "✅ yes" : "❌ no"])),
  ];
  for (const c of r.corpora) {
    out.push("", `## ${c.corpus}: ${c.files} file${c.files === 1 ? "" : "s"}, ${mb(c.totalBytes)} MB`, "", timesTable(c), "", phasesTable(c), "");
    const tp = zipStepMBs(c), gz = gzipMBs(c);
    const ref = Number.isNaN(gz) ? "`gzip -6` not run (incompressible, stored)" : `\`gzip -6\` on the same files: ${gz.toFixed(1)} MB/s (${ratio(tp, gz).toFixed(2)}x)`;
    out.push(`linkpack's zip step: ${tp.toFixed(1)} MB/s of input (first compress event → link event); ${ref}. Progress events per job: ${median(c.linkpack.map((x) => x.events))}.`);
  }
  if (r.throughput) {
    const t = r.throughput;
    const rounds = t.rounds ?? 1;
    out.push("", `## Throughput: ${t.jobs} ${t.files}-file photos jobs submitted at once${rounds > 1 ? `, ${rounds} rounds` : ""}`, "");
    // wall: the median over rounds (min–max); jobs/s and files/s of a round at that median
    const wall = (mid: number, each?: number[]) => (each && each.length > 1 ? `${s(mid)} (${s(Math.min(...each))}–${s(Math.max(...each))})` : s(mid));
    const ok = t.linkMs.length;
    const rows: (string | number)[][] = [["**linkpack** (all at once)", `${ok}/${t.jobs * rounds}`, wall(t.wallMs, t.wallsMs), "1.00", (ok / rounds / (t.wallMs / 1000)).toFixed(2), ((ok / rounds) * t.files / (t.wallMs / 1000)).toFixed(1), ok ? s(percentile(t.linkMs, 50)) : "–", ok ? s(percentile(t.linkMs, 95)) : "–", ok ? s(Math.max(...t.linkMs)) : "–"]];
    const pl = t.pipeline;
    if (pl) {
      const n = pl.jobMs.length;
      rows[0]![3] = ratio(t.wallMs, pl.wallMs).toFixed(2);
      rows.push([`curl --parallel + zip -n + fsync (${pl.parallel} at once)`, `${n}/${t.jobs * rounds}`, wall(pl.wallMs, pl.wallsMs), "1.00", (n / rounds / (pl.wallMs / 1000)).toFixed(2), ((n / rounds) * t.files / (pl.wallMs / 1000)).toFixed(1), n ? s(percentile(pl.jobMs, 50)) : "–", n ? s(percentile(pl.jobMs, 95)) : "–", n ? s(Math.max(...pl.jobMs)) : "–"]);
    }
    out.push(table(["pipeline", "jobs done", "wall, s: median (min–max)", "× pipeline", "jobs/s", "files/s", "p50 to link, s", "p95 to link, s", "max, s"], rows));
    if (pl) out.push("", "The pipeline's per-job times run from its own start, after waiting for one of its lanes; linkpack's from the POST, all sent at once.");
    if (ok) {
      const ph = (k: keyof Phases) => `${s(percentile(t.phases.map((p) => p[k]), 50))} / ${s(percentile(t.phases.map((p) => p[k]), 95))}`;
      out.push("", `Phases per job, p50 / p95 in s: queue ${ph("queue")} · download ${ph("download")} · hand-off ${ph("handoff")} · zip+publish ${ph("compress")}.`);
    }
    if (t.failures.length) out.push("", "Failures: " + t.failures.slice(0, 5).join("; "));
  }
  if (r.events.length) out.push("", "## Progress events on vs off", "", eventsTable(r.events));
  if (r.soak) out.push("", ...soakSection(r.soak));
  // In the order they ran: big last.
  const sections: [string, ProcUsage][] = r.corpora.filter((c) => c.corpus !== "big").map((c) => [c.corpus, c.usage]);
  if (r.throughput) sections.push([`${r.throughput.jobs} jobs`, r.throughput.usage]);
  for (const c of r.corpora.filter((c) => c.corpus === "big")) sections.push([c.corpus, c.usage]);
  out.push("", "## Memory and CPU of the stack", "", "Peak RSS (VmHWM, reset with `clear_refs` before each section; a part's largest process, nginx and broker children included) and CPU time during the section (linkpack and baselines both run in a corpus section; the baselines' own CPU is not in these rows).", "", usageTable(sections));
  out.push("", "## Method", "", METHOD);
  return out.join("\n") + "\n";
}

const METHOD = `- Corpora are generated deterministically into \`.bench/corpora/\` (cached by version) and served by a separate nginx on loopback (sendfile, \`access_log off\`), so neither side is fed by the bench process.
- **linkpack**: \`POST /jobs\` with the corpus URLs (text/plain) to a private stack started with \`startStack\` on free ports (RUN_DIR \`.bench/run\`); "to link" ends when the link event arrives on the progress exchange (one exclusive queue bound to \`job.#\` before any job is sent); "to downloaded" ends when \`curl -o /dev/null\` has fetched the whole archive through the signed link.
- **Baselines**: \`curl --parallel --parallel-max 50 --remote-name-all\` into a temp folder, \`zip -q -r\` (default level 6; \`-n .jpg:.jpeg:.png:.gif:.webp:.zip:.gz\` stores already-compressed types; \`-0\` for big) into the corpus nginx's \`/out/\` folder, an fsync(2) of the archive (in the bench process, counted in the zip step: linkpack fsyncs its archives, so every pipeline does), then an MD5 secure link like \`servers/shared/link.ts\`. "To downloaded" fetches that archive with the same \`curl -o /dev/null\` through the corpus nginx. Both sides therefore write every file to disk, zip into a new file, and serve it with nginx sendfile; linkpack additionally goes through the broker, its link guard (auth_request) and per-file progress events. Deleting the temp folder is not timed for the baseline.
- **Floor** (measured in every round, same run): the same \`curl --parallel\` of every URL into a temp folder, timed alone, then the downloaded files' bytes written once, uncompressed, into one new file (1 MiB reads and writes, with the same early write-back as linkpack's zip writer: each megabyte handed to the disk at once, a background datasync every 32 MiB) and fsynced, timed alone; the floor is the sum. A pipeline that copies stored entries into a new archive cannot do less (it must fetch the bytes to disk and write them once more durably), so for incompressible files "× floor" is the distance to the physical limit of copying on this disk and loopback. linkpack does not copy a big stored first file: it makes that downloaded file the archive in place (a header in a gap opened at its start, the rest appended; servers/compressor/inplace.ts), so its bytes are written once and it can go below 1.00. For compressible files deflate trades CPU for fewer bytes written, and the floor is a reference only.
- **Throughput**: the jobs are all POSTed at once to linkpack, and the same number of jobs is run by the hand-made pipeline (\`curl --parallel\` + \`zip -n\` + fsync of each archive), a fixed number at once, in up to 3 rounds, which of the two goes first turned each round, each after an untimed \`sync\`; wall time from the first start to the last archive (or link), the median over rounds; per-job times over every round's jobs; memory and CPU of linkpack's middle round.
- Phases come from the servers' event timestamps (same machine clock): queue = POST → the first file's download began (its first event, or the start a final event carries: a file done within one progress interval sends only its final event), download = → last file finished, hand-off = → first compress event, zip+publish = → link event.
- Zip-step throughput = corpus bytes / zip+publish phase; \`gzip -6 -c FILES > /dev/null\` on the same files is the reference.
- Untimed warm-up before each corpus section: ${WARM_UP_JOBS.photos} photos jobs, ${WARM_UP_JOBS.text} text jobs or ${WARM_UP_JOBS.big} big job (\`WARM_UP_JOBS\`, runner.ts: a server that has run for a while has its hot code compiled by the JIT's top tiers, a fresh one needs dozens of jobs to get there, and the baselines are native programs with nothing to warm up), then one run of its first baseline; the big section's comes after the events section, which restarted the downloader and compressor. Within a round the pipelines run one after the other, the order turned by one each round (round 2 starts with the second pipeline, and so on), each after an untimed \`sync\` so that none pays for the dirty pages another (or an earlier section) left. Medians over rounds, min–max in parentheses.`;

/** Sections of BENCHMARKS.md that other commands write (`bun run test:cluster`'s); a bench run keeps them. */
const KEPT_HEADINGS = ["## Cluster: "];

/** `report` followed by the sections of `previous` (the file as it was) that another command wrote. */
export function withKeptSections(report: string, previous: string | null): string {
  if (!previous) return report;
  const kept: string[] = [];
  for (const heading of KEPT_HEADINGS) {
    const start = previous.indexOf(heading);
    if (start < 0) continue;
    const next = previous.indexOf("\n## ", start + heading.length);
    kept.push(previous.slice(start, next < 0 ? undefined : next + 1).trimEnd());
  }
  return kept.length ? `${report.trimEnd()}\n\n${kept.join("\n\n")}\n` : report;
}
