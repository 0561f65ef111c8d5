/**
 * @module results
 * The shape of one benchmark run's results, as measured by runner.ts,
 * saved to `.bench/results.json` and rendered by report.ts.
 */
import type { BaselineKind, BaselineRun } from "./baseline.ts";
import type { CorpusName } from "./corpora.ts";
import type { LinkpackRun } from "./linkpack.ts";
import type { Measured, StackSample } from "./procstats.ts";

/** Peak RSS after, and CPU ms used during, one measured section. */
export interface ProcUsage {
  peaks: StackSample;
  cpuMs: Partial<Record<Measured, number>>;
  wallMs: number;
}

export interface CorpusResult {
  corpus: CorpusName;
  files: number;
  totalBytes: number;
  linkpack: LinkpackRun[];
  baselines: Partial<Record<BaselineKind, BaselineRun[]>>;
  /** `gzip -6 -c FILES > /dev/null` runs */
  gzip: { ms: number; cpuMs: number }[];
  usage: ProcUsage;
}

export interface ThroughputResult {
  jobs: number;
  files: number;
  /** first POST → last link, ms */
  wallMs: number;
  /** each completed job's POST → link, ms */
  linkMs: number[];
  failures: string[];
  usage: ProcUsage;
}

export interface EventsResult {
  corpus: CorpusName;
  intervalOnMs: number;
  /** time to link with throttled events (PROGRESS_INTERVAL_MS default) */
  on: number[];
  /** ... and with only first and last event per file */
  off: number[];
  eventsOn: number[];
  eventsOff: number[];
}

export interface Meta {
  date: string;
  cpus: number;
  cpuModel: string;
  memGiB: number;
  kernel: string;
  bun: string;
  tools: Record<string, string>;
  rounds: number;
  args: string;
}

export interface BenchResults {
  meta: Meta;
  corpora: CorpusResult[];
  throughput?: ThroughputResult;
  events: EventsResult[];
}
