import { describe, expect, test } from "bun:test";
import type { BaselineRun, FloorRun } from "./baseline.ts";
import type { LinkpackRun } from "./linkpack.ts";
import { renderReport, withKeptSections } from "./report.ts";
import type { BenchResults, CorpusResult, ProcUsage, SoakResult } from "./results.ts";
import { verdicts } from "./targets.ts";

const usage = (peakMiB: number): ProcUsage => ({
  peaks: { web: { peakRss: 60 * 2 ** 20, cpuMs: 0 }, compressor: { peakRss: peakMiB * 2 ** 20, cpuMs: 0 }, rabbitmq: { peakRss: 300 * 2 ** 20, cpuMs: 0 } },
  cpuMs: { web: 100, compressor: 900, rabbitmq: 50 },
  wallMs: 10_000,
});
const lp = (linkMs: number, archiveBytes: number, compress: number): LinkpackRun => ({
  id: "x", linkMs, downloadedMs: linkMs + 10, archiveBytes, entries: 10, events: 40,
  phases: { queue: 5, download: 50, handoff: 5, compress },
});
const bl = (kind: BaselineRun["kind"], linkMs: number, archiveBytes: number): BaselineRun => ({
  kind, linkMs, downloadedMs: linkMs + 10, archiveBytes,
  phases: { curlMs: 10, zipMs: linkMs - 10, signMs: 0, fetchMs: 10 }, cpuMs: { curl: 10, zip: linkMs },
});
const floor = (linkMs: number): FloorRun => ({ linkMs, downloadMs: linkMs / 2, archiveMs: linkMs / 2 });
const corpus = (name: CorpusResult["corpus"], lpRuns: LinkpackRun[], zip: BaselineRun[], peak = 80, floorMs = 100): CorpusResult => ({
  corpus: name, files: 10, totalBytes: 20e6, linkpack: lpRuns, floor: [floor(floorMs), floor(floorMs + 10), floor(floorMs - 10)],
  baselines: name === "big" ? { zip0: zip } : { zip, "zip-n": zip }, gzip: name === "big" ? [] : [{ ms: 1000, cpuMs: 1000 }], usage: usage(peak),
});

/** A soak of 30 samples under load (2 s apart) then 5 after; `grow` adds that many rows per sample. */
const soak = (grow: number): SoakResult => ({
  jobs: 100, done: 100, failures: 0, wallMs: 60_000, settings: { JOB_RETENTION_SECONDS: "10" },
  samples: Array.from({ length: 35 }, (_, i) => ({
    t: (i + 1) * 2000, jobsDone: Math.min(100, i * 4), diskBytes: 50 * 2 ** 20, jobRows: 100 + grow * i, records: 100, ledgerRows: 40,
    queued: i % 3, deadLetters: 0, rss: { web: 70 * 2 ** 20, rabbitmq: 130 * 2 ** 20 },
  })),
});

const results = (bigPeak: number): BenchResults => ({
  meta: { date: "2026-01-01T00:00:00Z", cpus: 2, cpuModel: "Test CPU", memGiB: 8, kernel: "Linux 6", bun: "1.4.5", tools: { zip: "Zip 3.0" }, rounds: 3, args: "", loadStart: 0.1, loadEnd: 0.2 },
  corpora: [
    corpus("photos", [lp(200, 1000, 20), lp(220, 1000, 20), lp(210, 1000, 20)], [bl("zip", 300, 995), bl("zip", 320, 995), bl("zip", 310, 995)]),
    corpus("text", [lp(900, 1030, 1500), lp(900, 1030, 1500), lp(900, 1030, 1500)], [bl("zip", 1000, 1000), bl("zip", 1000, 1000), bl("zip", 1000, 1000)]),
    corpus("big", [lp(8000, 5, 100), lp(8000, 5, 100), lp(8000, 5, 100)], [bl("zip0", 7000, 5), bl("zip0", 7000, 5), bl("zip0", 7000, 5)], bigPeak, 7200),
  ],
  throughput: {
    jobs: 50, files: 10, wallMs: 10_000, linkMs: Array.from({ length: 50 }, (_, i) => 1000 + i * 100), phases: [{ queue: 1, download: 2, handoff: 3, compress: 4 }], failures: [], usage: usage(90),
    pipeline: { parallel: 8, wallMs: 11_000, jobMs: Array.from({ length: 50 }, () => 1700) },
  },
  events: [{
    corpus: "photos", intervals: { on: 100, off: 86_400_000, unthrottled: 0 }, repeats: 3,
    modes: {
      on: { linkMs: [103, 104, 102], events: [40], cpuMs: [50] },
      off: { linkMs: [100, 100, 101], events: [30], cpuMs: [48] },
      unthrottled: { linkMs: [120, 130, 125], events: [90], cpuMs: [70] },
    },
  }],
  soak: soak(0),
});

describe("targets and report", () => {
  test("each target is judged from the medians", () => {
    const v = verdicts(results(120));
    expect(v.map((x) => x.met)).toEqual([true, false, true, true, true, true]);
    expect(v[0]!.measured).toContain("0.68x"); // photos: 210 vs zip -n's 310 ms
    expect(v[1]!.measured).toContain("0.90x"); // text: 900 vs zip -r's 1000 ms, above 0.30x
    expect(v[1]!.measured).toContain("archive +3.0%"); // and 1030 vs 1000 bytes: larger
    expect(v[2]!.measured).toContain("1.11x of the floor"); // big: 8000 vs the floor's 7200 ms
    expect(v[3]!.measured).toContain("0.91x of the pipeline (10.00 vs 11.00 s)");
    expect(v[3]!.measured).toContain("p95 POST → link 5.70 s");
    expect(verdicts(results(200))[2]!.met).toBe(false); // compressor above 150 MB; the broker's 300 MB does not count
    const slow = results(120);
    slow.throughput!.pipeline!.wallMs = 9000;
    expect(verdicts(slow)[3]!.met).toBe(false); // slower than the pipeline
    slow.corpora[2]!.floor = slow.corpora[2]!.floor.map((f) => ({ ...f, linkMs: 6000 }));
    expect(verdicts(slow)[2]!.met).toBe(false); // 1.33x the floor
  });

  test("a soak passes only if what is kept levels off under load and every job is done", () => {
    const r = results(120);
    expect(verdicts(r)[5]!.measured).toContain("100/100 jobs; largest growth 1.00");
    r.soak = soak(10); // job rows: middle third ~250, last third ~350
    const v = verdicts(r)[5]!;
    expect([v.met, v.measured]).toEqual([true, expect.stringContaining("(job store rows)")]);
    r.soak = soak(40); // ~700 vs ~1100: more than 1.5x
    expect(verdicts(r)[5]!.met).toBe(false);
    r.soak = { ...soak(0), done: 99 };
    expect(verdicts(r)[5]!.met).toBe(false);
    expect(renderReport(results(120))).toContain("## Soak: 100 of 100 jobs");
  });

  test("the report has the machine, the verdicts and a section per corpus", () => {
    const md = renderReport(results(120));
    expect(md).toContain("2 × Test CPU");
    expect(md).toContain("❌ no");
    for (const h of ["## photos", "## text", "## big", "## Throughput", "## Progress events on vs off", "## Memory and CPU"]) expect(md).toContain(h);
    expect(md).toContain("not run (incompressible, stored)");
    expect(md).toContain("| floor: download alone + write and fsync alone | 0.10 (0.09–0.11) |");
    expect(md).toContain("× floor");
    expect(md).toContain("| curl --parallel + zip -n + fsync (8 at once) | 50/50 | 11.00 |");
  });

  test("throughput in rounds: walls are medians over rounds, every round's jobs must be done", () => {
    const r = results(120);
    r.throughput = {
      ...r.throughput!, rounds: 3, wallMs: 10_000, wallsMs: [12_000, 10_000, 9_000],
      linkMs: Array.from({ length: 150 }, () => 1000),
      pipeline: { parallel: 8, wallMs: 11_000, wallsMs: [11_000, 10_500, 11_500], jobMs: Array.from({ length: 150 }, () => 1700) },
    };
    const v = verdicts(r)[3]!;
    expect([v.met, v.measured]).toEqual([true, expect.stringContaining("150/150 done, 0.91x of the pipeline (10.00 vs 11.00 s, medians of 3 rounds)")]);
    const md = renderReport(r);
    expect(md).toContain("## Throughput: 50 10-file photos jobs submitted at once, 3 rounds");
    expect(md).toContain("| **linkpack** (all at once) | 150/150 | 10.00 (9.00–12.00) | 0.91 | 5.00 |");
    expect(md).toContain("| curl --parallel + zip -n + fsync (8 at once) | 150/150 | 11.00 (10.50–11.50) | 1.00 |");
    r.throughput.linkMs = r.throughput.linkMs.slice(1); // one job of one round did not finish
    expect(verdicts(r)[3]!.met).toBe(false);
  });

  test("sections that did not run say so", () => {
    const r = results(100);
    r.corpora = r.corpora.slice(0, 1);
    delete r.throughput;
    r.events = [];
    delete r.soak;
    expect(verdicts(r).map((x) => x.met)).toEqual([true, null, null, null, null, null]);
    expect(renderReport(r)).toContain("not run");
  });

  test("a bench run keeps the cluster section another command wrote, and only that", () => {
    const previous = "# Benchmarks\n\n## photos\nold\n\n## Cluster: 100 jobs\nfigures\n- passed: x\n\n## Method\nold\n";
    const out = withKeptSections("# Benchmarks\n\n## photos\nnew\n", previous);
    expect(out).toBe("# Benchmarks\n\n## photos\nnew\n\n## Cluster: 100 jobs\nfigures\n- passed: x\n");
    expect(withKeptSections("# B\n", null)).toBe("# B\n");
    expect(withKeptSections("# B\n", "# B\n## photos\n")).toBe("# B\n");
  });
});
