/**
 * @module args
 * Command line of `bun run bench`:
 *   --rounds N            rounds per corpus (default 5; --quick: 2), three times as many for photos and text
 *   --corpus a,b          corpora among photos,text,big (default all; --quick: photos,text)
 *   --quick               fast smoke run: 2 rounds, no big, 20 concurrent jobs
 *   --jobs N              concurrent jobs in the throughput section (default 200; --quick: 20)
 *   --soak-jobs N         jobs in the soak (default 2000; --quick: 600)
 *   --skip s,t            sections to leave out: throughput, events, soak
 *   --out FILE            report path (default BENCHMARKS.md)
 *   --render              only re-render the report from the last run's .bench/results.json
 */
import { CORPUS_NAMES, type CorpusName } from "./corpora.ts";

export interface Args {
  rounds: number;
  corpora: CorpusName[];
  jobs: number;
  throughput: boolean;
  events: boolean;
  soak: boolean;
  soakJobs: number;
  out: string;
  render: boolean;
  raw: string;
}

export class UsageError extends Error {
  override name = "UsageError";
}

export function parseArgs(argv: string[]): Args {
  const quick = argv.includes("--quick");
  const a: Args = { rounds: quick ? 2 : 5, corpora: quick ? ["photos", "text"] : [...CORPUS_NAMES], jobs: quick ? 20 : 200, throughput: true, events: true, soak: true, soakJobs: quick ? 600 : 2000, out: "BENCHMARKS.md", render: false, raw: argv.join(" ") };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    const count = () => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} needs a whole number ≥ 1`);
      return n;
    };
    if (flag === "--quick") continue;
    else if (flag === "--render") a.render = true;
    else if (flag === "--rounds") a.rounds = count();
    else if (flag === "--jobs") a.jobs = count();
    else if (flag === "--soak-jobs") a.soakJobs = count();
    else if (flag === "--out") a.out = value();
    else if (flag === "--corpus") {
      const names = value().split(",").map((s) => s.trim()).filter(Boolean);
      for (const n of names) if (!(CORPUS_NAMES as readonly string[]).includes(n)) throw new UsageError(`unknown corpus "${n}" (photos, text, big)`);
      a.corpora = CORPUS_NAMES.filter((n) => names.includes(n)); // big always last
    } else if (flag === "--skip") {
      const s = value().split(",");
      a.throughput &&= !s.includes("throughput");
      a.events &&= !s.includes("events");
      a.soak &&= !s.includes("soak");
    } else throw new UsageError(`unknown option ${flag}`);
  }
  return a;
}
